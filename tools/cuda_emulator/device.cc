// tools/cuda_emulator/device.cc — the one "device", what it says about itself, and its limits.
//
// The device queries (cudaGetDeviceProperties, cudaDeviceGetAttribute, ...)
// describe an H100-like device whose name says what it is: "CPU emulator (not
// a GPU)". cudaFuncSetAttribute raises a kernel's dynamic shared memory limit,
// which the scheduler checks at each launch. Kernels run when launched
// (scheduler.cc), so synchronizing has nothing to wait for. And every
// emulated program prints, once, that CUDA runs on the emulator.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "tools/cuda_emulator/runtime_state.h"

namespace gpt_emu {
namespace {

constexpr const char* kDeviceName = "CPU emulator (not a GPU)";
constexpr int kMultiprocessors = 132;  // as an H100 SXM: grids sized by SM count look the same

struct SharedLimits {
  std::mutex mutex;
  std::map<const void*, size_t> max_dynamic;  // kernel -> cudaFuncSetAttribute's value
};

SharedLimits& shared_limits() {
  static SharedLimits* limits = new SharedLimits;  // never destroyed, like the kernels
  return *limits;
}

}  // namespace

size_t max_dynamic_shared(const void* kernel) {
  SharedLimits& limits = shared_limits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  const auto it = limits.max_dynamic.find(kernel);
  return it == limits.max_dynamic.end() ? kDefaultDynamicShared : it->second;
}

size_t max_block_shared(const void* kernel) {
  SharedLimits& limits = shared_limits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  const bool raised = limits.max_dynamic.count(kernel) != 0;
  return raised ? kMaxDynamicShared : kDefaultDynamicShared;
}

void announce() {
  static const bool once = [] {
    std::fprintf(stderr,
                 "gpt_emu: CUDA runs on the CPU emulator (tools/cuda_emulator), "
                 "not on a GPU: results are checked, timings mean nothing\n");
    return true;
  }();
  (void)once;
}

}  // namespace gpt_emu

using gpt_emu::announce;
using gpt_emu::record;

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
  gpt_emu::SharedLimits& limits = gpt_emu::shared_limits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  limits.max_dynamic[func] = static_cast<size_t>(value);
  return cudaSuccess;
}
