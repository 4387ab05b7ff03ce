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
#include <cstdint>
#include <memory>
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

// What one emulated thread has issued asynchronously and not yet completed
// (cp.async's copies, wgmma's products; tensor_core.cc), in issue order, and
// the groups that its commits made of them.
template <typename T>
struct AsyncGroups {
  std::vector<T> items;  // items[0 .. first) are complete
  size_t first = 0;
  // Where each committed group not yet waited for ends (an index into
  // items), oldest first from group_ends[first_group]; the items after the
  // last end are not committed yet.
  std::vector<size_t> group_ends;
  size_t first_group = 0;

  bool empty() const { return first == items.size() && first_group == group_ends.size(); }
  void commit() { group_ends.push_back(items.size()); }
  // Completes, in issue order, every item of the committed groups but the
  // `pending` newest: complete(item) for each.
  template <typename Complete>
  void complete_all_but(size_t pending, Complete complete) {
    while (group_ends.size() - first_group > pending) {
      const size_t end = group_ends[first_group++];
      for (; first < end; ++first) complete(items[first]);
    }
  }
  // Forgets the completed items, once they are most of the queue (or all).
  void compact() {
    if (empty()) {
      items.clear();
      group_ends.clear();
      first = first_group = 0;
      return;
    }
    if (first < 64 || 2 * first < items.size()) return;
    items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(first));
    group_ends.erase(group_ends.begin(), group_ends.begin() + static_cast<std::ptrdiff_t>(first_group));
    for (size_t& end : group_ends) end -= first;
    first = first_group = 0;
  }
};

// The cp.async copies of one emulated thread.
struct AsyncCopy {
  void* dst;
  const void* src;
  int bytes;      // written to dst
  int src_bytes;  // read from src; the rest of dst is zero-filled
};
struct AsyncCopies : AsyncGroups<AsyncCopy> {
  // Copies performed since this thread's last fence.proxy.async: shared
  // memory that wgmma (the async proxy) may not read yet.
  bool unfenced = false;
};
// The queue of the emulated thread that runs now (scheduler.cc: each thread
// has its own, kept by the fiber that runs it). Only inside a kernel.
AsyncCopies& running_thread_copies(Site site);
// Performs every copy still in the queue, committed or not, and empties it:
// the scheduler calls it when a thread returns from the kernel (on a GPU the
// copies would land eventually; a kernel that reads them without waiting for
// them has read the old contents already).
void finish_async_copies(AsyncCopies& queue);
// The thread of the running block that holds copies not yet fenced for the
// async proxy (AsyncCopies::unfenced), or -1 if none does.
int thread_with_unfenced_copies();
// The thread of the running block with a cp.async issued and not yet performed
// whose destination's 16-byte piece is one of `pieces` (sorted addresses of
// 16-byte-aligned pieces), or -1 if none has one.
int thread_with_pending_copy_into(const std::vector<uintptr_t>& pieces);

// The wgmma one emulated thread has issued and not completed (tensor_core.cc):
// for each, the lane's accumulator registers and what the instruction leaves
// there, with the shared memory it read (to check nobody wrote it before the
// wait).
struct WgmmaOperands;
struct AsyncMma {
  float* d;
  std::vector<float> values;
  std::shared_ptr<WgmmaOperands> operands;
};
struct AsyncMmas : AsyncGroups<AsyncMma> {
  bool fenced = false;  // a wgmma.fence since the last wgmma.wait_group
};
AsyncMmas& running_thread_mmas(Site site);
// At a thread's return: stops the program if a wgmma is still unfinished
// (nothing waited for it, so its result is lost); otherwise resets the queue.
void finish_async_mmas(AsyncMmas& queue);
// The running launch's dynamic shared memory, in bytes.
size_t dynamic_shared_bytes();

}  // namespace gpt_emu
