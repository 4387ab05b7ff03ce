// tools/cuda_emulator/events.cc — CUDA events, holding host time.
//
// An event records the host's clock when cudaEventRecord is called. Every
// launch before it has already finished (the emulator is synchronous), so
// cudaEventElapsedTime measures the emulator: it is here so that programs
// that time their kernels run, never to time anything.
#include <cuda_runtime_api.h>

#include <chrono>

#include "tools/cuda_emulator/runtime_state.h"

// cudaEvent_t points to this (include/cuda_runtime_api.h declares it, as the toolkit does).
struct CUevent_st {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};

using gpt_emu::record;

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  gpt_emu::announce();
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
