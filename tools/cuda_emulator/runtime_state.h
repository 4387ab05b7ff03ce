// tools/cuda_emulator/runtime_state.h — what the runtime's files tell each other and the scheduler.
//
// Internal to the emulator: the "last error" that cudaGetLastError returns
// (errors.cc), each kernel's shared memory limits (cudaFuncSetAttribute,
// device.cc), the size of the "device memory" (memory.cc), and the one line
// every emulated program prints so that no log passes it off as a GPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace gpt_emu {

constexpr size_t kDefaultDynamicShared = 48 * 1024;  // without cudaFuncSetAttribute
constexpr size_t kMaxDynamicShared = 227 * 1024;     // with it (an H100's opt-in limit)
constexpr int kMaxThreadsPerBlock = 1024;

// Keeps `error` for cudaGetLastError (unless it is cudaSuccess); returns it.
cudaError_t record(cudaError_t error);

// The dynamic shared memory a launch of `kernel` may ask for.
size_t max_dynamic_shared(const void* kernel);
// The static and dynamic shared memory of one of its blocks together: 48 KiB,
// or 227 KiB once cudaFuncSetAttribute has raised the kernel's dynamic limit.
size_t max_block_shared(const void* kernel);

// The "device memory": as much as the machine has.
size_t total_memory();

// Prints, once per program, that CUDA runs on the CPU emulator.
void announce();

}  // namespace gpt_emu
