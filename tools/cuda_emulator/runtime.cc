// tools/cuda_emulator/runtime.cc — the CUDA runtime API, on the CPU.
//
// The functions of cuda_runtime_api.h that the course calls, with the
// toolkit's own declarations (included below), so that the chapters' C++
// files link against these instead of libcudart unchanged:
//   - device memory is host memory from posix_memalign, 256-byte aligned like
//     cudaMalloc's, filled with NaN bytes (a kernel that reads what nobody
//     wrote gets NaN, not a lucky zero), and remembered: a copy, a memset or
//     a kernel argument that points outside every allocation is an error here,
//     where a GPU would read garbage or fault later;
//   - kernels run when launched (scheduler.cc), so every call is synchronous;
//   - errors are kept for cudaGetLastError as the runtime keeps them;
//   - the one "device" says what it is: "CPU emulator (not a GPU)".
// Events hold host time: the emulator computes results, never timings.
#include <cuda_runtime_api.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/runtime_state.h"

// cudaEvent_t points to this (driver_types.h declares it, the driver defines it).
struct CUevent_st {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};

namespace gpt_emu {
namespace {

constexpr const char* kDeviceName = "CPU emulator (not a GPU)";
constexpr int kMultiprocessors = 132;  // as an H100 SXM: grids sized by SM count look the same

struct Memory {
  std::mutex mutex;
  std::map<uintptr_t, size_t> allocations;  // base address -> bytes
  size_t allocated = 0;
  std::map<const void*, size_t> max_dynamic_shared;  // cudaFuncSetAttribute
  cudaError_t last_error = cudaSuccess;
};

Memory& memory() {
  static Memory* m = new Memory;  // never destroyed: destructors may still free
  return *m;
}

// The "device memory": as much as the machine has.
size_t total_memory() {
  return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
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
    std::memmove(static_cast<char*>(dst) + row * dpitch, static_cast<const char*>(src) + row * spitch,
                 width);
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

cudaError_t record(cudaError_t error) {
  if (error != cudaSuccess) {
    std::lock_guard<std::mutex> lock(memory().mutex);
    memory().last_error = error;
  }
  return error;
}

size_t max_dynamic_shared(const void* kernel) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  const auto& limits = memory().max_dynamic_shared;
  const auto it = limits.find(kernel);
  return it == limits.end() ? kDefaultDynamicShared : it->second;
}

void announce() {
  static const bool once = [] {
    std::fprintf(stderr,
                 "gpt_emu: CUDA runs on the CPU emulator (tools/cuda_emulator, --config=emulated), "
                 "not on a GPU: results are checked, timings mean nothing\n");
    return true;
  }();
  (void)once;
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  return in_allocation_locked(p, bytes);
}

}  // namespace gpt_emu

using gpt_emu::announce;
using gpt_emu::record;

// ---------------------------------------------------------------------------
// Memory.

cudaError_t cudaMalloc(void** p, size_t size) {
  announce();
  if (p == nullptr) return record(cudaErrorInvalidValue);
  *p = nullptr;
  if (size == 0) return cudaSuccess;
  auto& m = gpt_emu::memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    if (size > gpt_emu::total_memory() - m.allocated) {
      m.last_error = cudaErrorMemoryAllocation;
      return cudaErrorMemoryAllocation;
    }
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
      m.last_error = cudaErrorInvalidValue;
      return cudaErrorInvalidValue;
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

// ---------------------------------------------------------------------------
// Errors.

cudaError_t cudaGetLastError() {
  auto& m = gpt_emu::memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  const cudaError_t error = m.last_error;
  m.last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() {
  auto& m = gpt_emu::memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  return m.last_error;
}

namespace {

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* text;  // the runtime's words
};

constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInvalidPitchValue, "cudaErrorInvalidPitchValue", "invalid pitch argument"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources",
     "too many resources requested for launch"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
};

const ErrorText* find_error(cudaError_t error) {
  for (const ErrorText& e : kErrors) {
    if (e.error == error) return &e;
  }
  return nullptr;
}

}  // namespace

const char* cudaGetErrorString(cudaError_t error) {
  const ErrorText* e = find_error(error);
  return e != nullptr ? e->text : "unrecognized error code (CPU emulator)";
}

const char* cudaGetErrorName(cudaError_t error) {
  const ErrorText* e = find_error(error);
  return e != nullptr ? e->name : "cudaErrorUnknown";
}

// ---------------------------------------------------------------------------
// The device.

cudaError_t cudaDeviceSynchronize() {
  announce();
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaDeviceReset() { return cudaSuccess; }

cudaError_t cudaGetDeviceCount(int* count) {
  announce();
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : record(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  announce();
  if (device != 0) return record(cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "%s", gpt_emu::kDeviceName);
  prop->totalGlobalMem = gpt_emu::total_memory();
  prop->sharedMemPerBlock = gpt_emu::kDefaultDynamicShared;
  prop->sharedMemPerBlockOptin = gpt_emu::kMaxDynamicShared;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = gpt_emu::kMaxThreadsPerBlock;
  prop->maxThreadsDim[0] = 1024, prop->maxThreadsDim[1] = 1024, prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647, prop->maxGridSize[1] = 65535, prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 64 * 1024;
  prop->major = 9;  // the course compiles for sm_80 and sm_90; say the newer
  prop->minor = 0;
  prop->multiProcessorCount = gpt_emu::kMultiprocessors;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->unifiedAddressing = 1;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  announce();
  if (device != 0) return record(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = gpt_emu::kMultiprocessors; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrClockRate: *value = 1000000; break;  // kHz; a made-up 1 GHz
    case cudaDevAttrMaxThreadsPerBlock: *value = gpt_emu::kMaxThreadsPerBlock; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(gpt_emu::kDefaultDynamicShared);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(gpt_emu::kMaxDynamicShared);
      break;
    case cudaDevAttrMaxBlockDimX: *value = 1024; break;
    case cudaDevAttrMaxBlockDimY: *value = 1024; break;
    case cudaDevAttrMaxBlockDimZ: *value = 64; break;
    case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
    case cudaDevAttrMaxGridDimY: *value = 65535; break;
    case cudaDevAttrMaxGridDimZ: *value = 65535; break;
    default:
      std::fprintf(stderr, "gpt_emu: cudaDeviceGetAttribute: attribute %d is not emulated\n",
                   static_cast<int>(attr));
      return record(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  announce();
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) {
    std::fprintf(stderr, "gpt_emu: cudaFuncSetAttribute: attribute %d is not emulated\n",
                 static_cast<int>(attr));
    return record(cudaErrorInvalidValue);
  }
  if (func == nullptr || value < 0 || static_cast<size_t>(value) > gpt_emu::kMaxDynamicShared) {
    return record(cudaErrorInvalidValue);
  }
  auto& m = gpt_emu::memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  m.max_dynamic_shared[func] = static_cast<size_t>(value);
  return cudaSuccess;
}

// ---------------------------------------------------------------------------
// Events: host time, taken when recorded (every launch before it has finished).

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  announce();
  *event = new CUevent_st;
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  return cudaEventCreate(event);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (event == nullptr) return record(cudaErrorInvalidResourceHandle);
  event->time = std::chrono::steady_clock::now();
  event->recorded = true;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return event == nullptr ? record(cudaErrorInvalidResourceHandle) : cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  return event == nullptr ? record(cudaErrorInvalidResourceHandle) : cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (start == nullptr || end == nullptr) return record(cudaErrorInvalidResourceHandle);
  if (!start->recorded || !end->recorded) return record(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}
