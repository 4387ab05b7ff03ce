// chapters/14_cuda_gpt/cuda_device.cc — chapter 14: CudaEngine and KV-cache generation as a Device.
#include "chapters/14_cuda_gpt/cuda_device.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "chapters/10_fast_cpu/fast_cpu_device.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/kv_cache_generate.h"
#include "common/cuda/gpu.h"

namespace gpt {

void require_cuda_device() {
  const cuda::GpuStatus gpu = cuda::gpu_status();
  if (!gpu.present) throw std::runtime_error("no CUDA device: " + gpu.reason);
  // The emulator checks kernels' results, one emulated thread at a time: a
  // training run there would take days. Tests of the programs opt in.
  const char* allow = std::getenv("GPT_ALLOW_EMULATOR");
  if (gpu.emulated && (allow == nullptr || std::strcmp(allow, "1") != 0)) {
    throw std::runtime_error(
        "no CUDA device: this build runs CUDA on the CPU emulator (no GPU or no CUDA toolkit "
        "was found when Bazel configured it), which checks results thousands of times slower "
        "than a GPU. Use --device cpu, or build with --config=nvcc on a machine with a GPU "
        "(GPT_ALLOW_EMULATOR=1 runs on the emulator anyway)");
  }
}

// lesson: cuda_device
Device cuda_device(const cuda::GpuOptions& options) {
  Device device;
  const auto products = cuda::products_of(options);
  device.description = "GPU, chapter 14's CudaEngine (products: " + products->name() +
                       ") and KV-cache generation";
  device.precision = products->precision();
  device.engine = [options](const GPTConfig& config, int B,
                            int T) -> std::unique_ptr<TrainingEngine> {
    require_cuda_device();
    return std::make_unique<cuda::CudaEngine>(config, B, T, options);
  };
  device.generate = [options](const GPTModel& model, const std::vector<int32_t>& prompt, int n,
                              const SamplingOptions& sampling, Rng& rng,
                              const std::function<void(int32_t)>& on_token) {
    require_cuda_device();
    return cuda::generate(model, prompt, n, sampling, rng, on_token, options);
  };
  return device;
}
// end lesson

Devices course_devices() {
  return {{"cpu", fast_cpu_device()},
          {"cuda", cuda_device()},
          {"cpu-reference", reference_cpu_device()}};
}

}  // namespace gpt
