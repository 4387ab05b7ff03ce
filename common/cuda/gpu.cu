// common/cuda/gpu.cu — device query and the smallest possible kernel.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"

namespace gpt::cuda {

GpuStatus gpu_status() {
  GpuStatus s;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    s.reason = std::string("no CUDA GPU available (cudaGetDeviceCount: ") +
               cudaGetErrorString(err) + ")";
    cudaGetLastError();  // clear the sticky error
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA GPU available (the driver reports 0 devices)";
    return s;
  }
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  if (prop.major < 8) {  // no machine code or PTX for it in this build (tools/cuda.bzl)
    s.reason = std::string("no CUDA GPU the course can use: ") + prop.name +
               " has compute capability " + std::to_string(prop.major) + "." +
               std::to_string(prop.minor) +
               ", and the course's kernels are built for 8.0 (sm_80) and 9.0 (sm_90)";
    return s;
  }
  s.present = true;
  s.name = prop.name;
  s.major = prop.major;
  s.minor = prop.minor;
  s.memory_gib = static_cast<double>(prop.totalGlobalMem) / (1ull << 30);
  s.multiprocessors = prop.multiProcessorCount;
#ifdef GPT_CUDA_EMULATED
  s.emulated = true;
#endif
  return s;
}

std::string GpuStatus::describe() const {
  if (!present) return reason;
  char line[256];
  std::snprintf(line, sizeof line, "%s, compute capability %d.%d, %.1f GiB, %d SMs",
                name.c_str(), major, minor, memory_gib, multiprocessors);
  return line;
}

// One thread per element: thread i of the grid adds 1 to x[i].
__global__ void add_one(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}

bool run_smoke_kernel() {
  const int n = 1000;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = static_cast<float>(i);
  float* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(device, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  add_one<<<(n + 255) / 256, 256>>>(device, n);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaMemcpy(host.data(), device, n * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(device));
  for (int i = 0; i < n; ++i) {
    if (host[i] != static_cast<float>(i) + 1.0f) return false;
  }
  return true;
}

}  // namespace gpt::cuda
