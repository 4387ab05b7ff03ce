// tools/cuda_emulator/memory.cc — device memory, copies and memsets, on the CPU.
//
// "Device memory" is host memory from posix_memalign, 256-byte aligned like
// cudaMalloc's, filled with NaN bytes (a kernel that reads what nobody wrote
// gets NaN, not a lucky zero), and remembered: a copy, a memset or a kernel
// argument that points outside every allocation is an error here, where a
// GPU would read garbage or fault later. Every call is synchronous.
#include <cuda_runtime_api.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/runtime_state.h"

namespace gpt_emu {
namespace {

struct Memory {
  std::mutex mutex;
  std::map<uintptr_t, size_t> allocations;  // base address -> bytes
  size_t allocated = 0;
};

Memory& memory() {
  static Memory* m = new Memory;  // never destroyed: destructors may still free
  return *m;
}

bool in_allocation_locked(const void* p, size_t bytes) {
  const auto& all = memory().allocations;
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  auto it = all.upper_bound(address);
  if (it == all.begin()) return false;
  --it;
  return address - it->first <= it->second && bytes <= it->second - (address - it->first);
}

// An invalid argument, explained on stderr (the runtime would only say "invalid argument").
cudaError_t misuse(const char* call, const char* why, const void* p, size_t bytes) {
  std::fprintf(stderr, "gpt_emu: %s: %s (%p, %zu bytes)\n", call, why, p, bytes);
  return record(cudaErrorInvalidValue);
}

cudaError_t check_device(const char* call, const char* what, const void* p, size_t bytes) {
  if (is_device_range(p, bytes)) return cudaSuccess;
  char why[128];
  std::snprintf(why, sizeof why, "%s is not inside one device allocation", what);
  return misuse(call, why, p, bytes);
}

cudaError_t copy(const char* call, void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  announce();
  if (count == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault) {
    const bool d = is_device_range(dst, count), s = is_device_range(src, count);
    kind = d ? (s ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
             : (s ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  cudaError_t status = cudaSuccess;
  switch (kind) {
    case cudaMemcpyHostToHost: break;
    case cudaMemcpyHostToDevice: status = check_device(call, "the destination", dst, count); break;
    case cudaMemcpyDeviceToHost: status = check_device(call, "the source", src, count); break;
    case cudaMemcpyDeviceToDevice:
      status = check_device(call, "the destination", dst, count);
      if (status == cudaSuccess) status = check_device(call, "the source", src, count);
      break;
    default: return record(cudaErrorInvalidMemcpyDirection);
  }
  if (status != cudaSuccess) return status;
  std::memmove(dst, src, count);
  return cudaSuccess;
}

// A 2D copy: `height` rows of `width` bytes, rows `dpitch` and `spitch` bytes apart.
cudaError_t copy_2d(const char* call, void* dst, size_t dpitch, const void* src, size_t spitch,
                    size_t width, size_t height, cudaMemcpyKind kind) {
  announce();
  if (width == 0 || height == 0) return cudaSuccess;
  if (width > dpitch || width > spitch) return record(cudaErrorInvalidPitchValue);
  // Check the whole span of each side once (as one copy would), then copy row by row.
  const size_t dst_span = dpitch * (height - 1) + width, src_span = spitch * (height - 1) + width;
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyHostToHost && !dst_device && !src_device) {
    return record(cudaErrorInvalidMemcpyDirection);
  }
  if (dst_device && check_device(call, "the destination", dst, dst_span) != cudaSuccess) {
    return cudaErrorInvalidValue;
  }
  if (src_device && check_device(call, "the source", src, src_span) != cudaSuccess) {
    return cudaErrorInvalidValue;
  }
  for (size_t row = 0; row < height; ++row) {
    std::memmove(static_cast<char*>(dst) + row * dpitch,
                 static_cast<const char*>(src) + row * spitch, width);
  }
  return cudaSuccess;
}

cudaError_t set(const char* call, void* p, int value, size_t count) {
  announce();
  if (count == 0) return cudaSuccess;
  const cudaError_t status = check_device(call, "the memory", p, count);
  if (status != cudaSuccess) return status;
  std::memset(p, value, count);
  return cudaSuccess;
}

}  // namespace

size_t total_memory() {
  return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  return in_allocation_locked(p, bytes);
}

}  // namespace gpt_emu

using gpt_emu::announce;
using gpt_emu::record;

cudaError_t cudaMalloc(void** p, size_t size) {
  announce();
  if (p == nullptr) return record(cudaErrorInvalidValue);
  *p = nullptr;
  if (size == 0) return cudaSuccess;
  auto& m = gpt_emu::memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    if (size > gpt_emu::total_memory() - m.allocated) return record(cudaErrorMemoryAllocation);
  }
  void* memory = nullptr;
  if (posix_memalign(&memory, 256, size) != 0) return record(cudaErrorMemoryAllocation);
  std::memset(memory, 0xff, size);  // NaN floats, -1 ints: never a plausible result
  std::lock_guard<std::mutex> lock(m.mutex);
  m.allocations[reinterpret_cast<uintptr_t>(memory)] = size;
  m.allocated += size;
  *p = memory;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  announce();
  if (p == nullptr) return cudaSuccess;
  auto& m = gpt_emu::memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    const auto it = m.allocations.find(reinterpret_cast<uintptr_t>(p));
    if (it == m.allocations.end()) {
      std::fprintf(stderr, "gpt_emu: cudaFree(%p): not an address cudaMalloc returned\n", p);
      return record(cudaErrorInvalidValue);
    }
    m.allocated -= it->second;
    m.allocations.erase(it);
  }
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  announce();
  auto& m = gpt_emu::memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  *total = gpt_emu::total_memory();
  *free = *total - m.allocated;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return gpt_emu::copy("cudaMemcpy", dst, src, count, kind);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t) {
  return gpt_emu::copy("cudaMemcpyAsync", dst, src, count, kind);
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                         size_t height, cudaMemcpyKind kind) {
  return gpt_emu::copy_2d("cudaMemcpy2D", dst, dpitch, src, spitch, width, height, kind);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t) {
  return gpt_emu::copy_2d("cudaMemcpy2DAsync", dst, dpitch, src, spitch, width, height, kind);
}

cudaError_t cudaMemset(void* p, int value, size_t count) {
  return gpt_emu::set("cudaMemset", p, value, count);
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t count, cudaStream_t) {
  return gpt_emu::set("cudaMemsetAsync", p, value, count);
}
