// chapters/18_data_parallel/gpu_communicator.h — the collectives on GPU memory: NCCL.
//
// One rank per GPU, started by mpirun as on the CPU. NCCL (NVIDIA's
// collectives library, shipped beside the CUDA toolkit) moves the gradient
// buffers between the GPUs' memories, over NVLink within a machine and
// InfiniBand or TCP between machines; MPI still carries the host's small
// values, and NCCL's start: rank 0 makes a unique id (ncclGetUniqueId),
// MPI broadcasts it, and every rank joins the clique with it
// (ncclCommInitRank) after choosing its GPU (cudaSetDevice(local rank)).
//
// Built three ways, as the CUDA chapters are (tools/cuda.bzl):
//   nvcc, toolkit with NCCL   NCCL's collectives, chapter 11's AdamW and
//                             chapter 14's scale kernels on the device;
//   nvcc, no NCCL             a stub: gpu_communicator() throws, saying so;
//   the CPU emulator          emulated device memory is host memory: MPI's
//                             collectives on it, the same kernels, emulated.
#pragma once

#include <memory>
#include <string>

#include "chapters/18_data_parallel/communicator.h"
#include "chapters/18_data_parallel/mpi_communicator.h"

namespace gpt {

// This rank's GPU chosen (its local rank among the machine's GPUs), and a
// Communicator for buffers in its memory; `host` carries the rest. Collective:
// every rank calls it. Throws std::runtime_error when this build cannot.
std::unique_ptr<Communicator> gpu_communicator(MpiCommunicator& host);

// What this build's gpu_communicator uses: "NCCL 2.x.y", "MPI on the CPU
// emulator's device memory", or why there is none.
std::string gpu_collectives();

}  // namespace gpt
