// tools/cuda_emulator/errors.cc — the runtime's "last error", and the names of errors.
//
// As in the CUDA runtime, a failed call (or launch) leaves its error behind:
// cudaGetLastError returns it and resets it, cudaPeekAtLastError only looks.
// cudaGetErrorName and cudaGetErrorString answer in the runtime's own words
// for the errors the emulator can give.
#include <cuda_runtime_api.h>

#include <mutex>

#include "tools/cuda_emulator/runtime_state.h"

namespace gpt_emu {
namespace {

struct LastError {
  std::mutex mutex;
  cudaError_t error = cudaSuccess;
};

LastError& last_error() {
  static LastError* e = new LastError;  // never destroyed: destructors may still fail
  return *e;
}

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

cudaError_t record(cudaError_t error) {
  if (error != cudaSuccess) {
    std::lock_guard<std::mutex> lock(last_error().mutex);
    last_error().error = error;
  }
  return error;
}

}  // namespace gpt_emu

cudaError_t cudaGetLastError() {
  auto& e = gpt_emu::last_error();
  std::lock_guard<std::mutex> lock(e.mutex);
  const cudaError_t error = e.error;
  e.error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() {
  auto& e = gpt_emu::last_error();
  std::lock_guard<std::mutex> lock(e.mutex);
  return e.error;
}

const char* cudaGetErrorString(cudaError_t error) {
  const gpt_emu::ErrorText* e = gpt_emu::find_error(error);
  return e != nullptr ? e->text : "unrecognized error code (CPU emulator)";
}

const char* cudaGetErrorName(cudaError_t error) {
  const gpt_emu::ErrorText* e = gpt_emu::find_error(error);
  return e != nullptr ? e->name : "cudaErrorUnknown";
}
