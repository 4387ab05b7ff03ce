// common/cuda/growing_buffer.h — a device scratch buffer that grows, never shrinks.
//
// For an op whose scratch size is known only at the call (split-K's partial
// products, a backward pass's per-block partial sums), one per op, in a
// function-local static:
//   static GrowingDeviceBuffer<float> buffer;
//   float* partials = buffer.at_least(count);
// The memory is reallocated only when a call needs more than any before it.
// Safe to reuse because kernels on the default stream run in order: the next
// call's kernels cannot overwrite it before the last call's have read it, and
// cudaFree waits for the GPU. One buffer: not for calls from several host
// threads at once. Never freed (the program's exit does that), so a static
// one never calls into a CUDA runtime already shut down. Runtime API only:
// it compiles in .cc and .cu files, with nvcc and on the CPU emulator.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

template <typename T>
class GrowingDeviceBuffer {
 public:
  constexpr GrowingDeviceBuffer() = default;
  GrowingDeviceBuffer(const GrowingDeviceBuffer&) = delete;
  GrowingDeviceBuffer& operator=(const GrowingDeviceBuffer&) = delete;

  // Device memory for at least `count` elements, grown first if it holds fewer.
  T* at_least(size_t count) {
    if (count > capacity_) {
      if (data_ != nullptr) CUDA_CHECK(cudaFree(data_));
      data_ = nullptr, capacity_ = 0;  // if cudaMalloc throws, the next call tries again
      void* memory = nullptr;
      CUDA_CHECK(cudaMalloc(&memory, count * sizeof(T)));
      data_ = static_cast<T*>(memory), capacity_ = count;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace gpt::cuda
