// chapters/14_cuda_gpt/cuda_device_test.cc — the cuda device where there is no GPU.
//
// Runs on every machine. Without a GPU, asking the "cuda" device for an
// engine or for generated text is an error that says so, with the runtime's
// reason; nothing crashes. With a GPU these tests skip (cuda_gpt_test checks
// the device there).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "chapters/14_cuda_gpt/cuda_device.h"
#include "common/cuda/gpu.h"

namespace gpt {
namespace {

GPTConfig tiny_config() {
  GPTConfig c;
  c.vocab_size = 11, c.embed_size = 16, c.max_length = 8, c.num_layers = 1, c.heads = 2;
  c.ff_dim = 32;
  return c;
}

// The message of the exception `f` throws ("" if it throws none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(CudaDevice, WithoutAGpuTheEngineIsAClearError) {
  if (cuda::gpu_status().present) GTEST_SKIP() << "a GPU is present: cuda_gpt_test checks it";
  const Device device = cuda_device();
  const std::string error = error_of([&] { device.engine(tiny_config(), 2, 8); });
  std::cout << "[ message  ] " << error << std::endl;
  EXPECT_EQ(error.rfind("no CUDA device: ", 0), 0u) << error;
  EXPECT_GT(error.size(), std::string("no CUDA device: ").size())
      << "the runtime's reason is missing";
}

TEST(CudaDevice, WithoutAGpuGenerationIsAClearError) {
  if (cuda::gpu_status().present) GTEST_SKIP() << "a GPU is present: cuda_gpt_test checks it";
  const Device device = cuda_device();
  const GPTModel model(tiny_config());
  Rng rng(1);
  const std::string error =
      error_of([&] { device.generate(model, {1, 2}, 3, SamplingOptions{}, rng, nullptr); });
  EXPECT_EQ(error.rfind("no CUDA device: ", 0), 0u) << error;
}

TEST(CudaDevice, DescribesItsMatmulsAndAttention) {
  EXPECT_NE(cuda_device().description.find("cuBLAS"), std::string::npos);
  cuda::GpuOptions ours;
  ours.matmul = cuda::MatmulBackend::kOurs;
  EXPECT_NE(cuda_device(ours).description.find("chapter 12"), std::string::npos);
}

}  // namespace
}  // namespace gpt
