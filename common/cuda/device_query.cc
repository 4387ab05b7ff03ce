// common/cuda/device_query.cc — prints the GPU this build runs on (or the CPU emulator), if any.
//   bazel run //common/cuda:device_query
// Exits 0 either way: having no GPU is a fact to report, not an error.
#include <cstdio>

#include "common/cuda/gpu.h"

int main() {
  const gpt::cuda::GpuStatus gpu = gpt::cuda::gpu_status();
  if (!gpu.present) {
    std::printf("No GPU: %s\n", gpu.reason.c_str());
    return 0;
  }
  std::printf("GPU 0: %s\n", gpu.describe().c_str());
  if (gpu.emulated) {
    std::printf("This build runs CUDA on the CPU emulator (tools/cuda_emulator): no GPU or no "
                "CUDA toolkit was found when Bazel configured it.\n");
  }
  std::printf("smoke kernel: %s\n", gpt::cuda::run_smoke_kernel() ? "ok" : "WRONG RESULT");
  return 0;
}
