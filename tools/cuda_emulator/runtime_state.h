// tools/cuda_emulator/runtime_state.h — what the runtime's files tell each other and the scheduler.
//
// Internal to the emulator: the "last error" that cudaGetLastError returns
// (errors.cc), each kernel's shared memory limits (cudaFuncSetAttribute,
// device.cc), the size of the "device memory" (memory.cc), the one line
// every emulated program prints so that no log passes it off as a GPU, and
// each emulated thread's pending cp.async copies (tensor_core.cc, kept by
// scheduler.cc).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <vector>

#include "tools/cuda_emulator/site.h"

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

// The cp.async copies one emulated thread has issued and not yet performed
// (tensor_core.cc), and the groups cp.async.commit_group made of them.
struct AsyncCopy {
  void* dst;
  const void* src;
  int bytes;      // written to dst
  int src_bytes;  // read from src; the rest of dst is zero-filled
};
struct AsyncCopies {
  std::vector<AsyncCopy> copies;  // in issue order; copies[0 .. first) are done
  size_t first = 0;
  // Where each committed group not yet waited for ends (an index into
  // copies), oldest first from group_ends[first_group]; the copies after the
  // last end are not committed yet.
  std::vector<size_t> group_ends;
  size_t first_group = 0;
  bool empty() const { return first == copies.size() && first_group == group_ends.size(); }
};
// The queue of the emulated thread that runs now (scheduler.cc: each thread
// has its own, kept by the fiber that runs it). Only inside a kernel.
AsyncCopies& running_thread_copies(Site site);
// Performs every copy still in the queue, committed or not, and empties it:
// the scheduler calls it when a thread returns from the kernel (on a GPU the
// copies would land eventually; a kernel that reads them without waiting for
// them has read the old contents already).
void finish_async_copies(AsyncCopies& queue);

}  // namespace gpt_emu
