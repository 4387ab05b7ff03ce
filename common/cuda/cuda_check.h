// common/cuda/cuda_check.h — every CUDA call checked, with file and line.
//
// CUDA functions report failure through their return value, which is easy to
// ignore; a kernel launch reports nothing until asked. Wrap every call:
//   CUDA_CHECK(cudaMalloc(&p, bytes));
//   my_kernel<<<grid, block>>>(...); CUDA_CHECK(cudaGetLastError());
// A failure throws std::runtime_error("common/x.cu:42: cudaMalloc(...) failed:
// out of memory"), so tests fail with a message instead of wrong numbers.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace gpt::cuda {

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                             " failed: " + cudaGetErrorString(status));
  }
}

}  // namespace gpt::cuda

#define CUDA_CHECK(call) ::gpt::cuda::check((call), #call, __FILE__, __LINE__)
