// chapters/14_cuda_gpt/cuda_device_test.cc — the cuda device where there is no GPU.
//
// Runs on every machine. Without a GPU, asking the "cuda" device for an
// engine or for generated text is an error that says so, with the runtime's
// reason, and so it is on the CPU emulator unless GPT_ALLOW_EMULATOR=1;
// nothing crashes. With a GPU the error tests skip (cuda_gpt_test checks the
// device there).
#include <gtest/gtest.h>

#include <cstdlib>
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

bool real_gpu() {
  const cuda::GpuStatus gpu = cuda::gpu_status();
  return gpu.present && !gpu.emulated;
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
  if (real_gpu()) GTEST_SKIP() << "a GPU is present: cuda_gpt_test checks it";
  const Device device = cuda_device();
  const std::string error = error_of([&] { device.engine(tiny_config(), 2, 8); });
  std::cout << "[ message  ] " << error << std::endl;
  EXPECT_EQ(error.rfind("no CUDA device: ", 0), 0u) << error;
  EXPECT_GT(error.size(), std::string("no CUDA device: ").size())
      << "the runtime's reason is missing";
}

TEST(CudaDevice, WithoutAGpuGenerationIsAClearError) {
  if (real_gpu()) GTEST_SKIP() << "a GPU is present: cuda_gpt_test checks it";
  const Device device = cuda_device();
  const GPTModel model(tiny_config());
  Rng rng(1);
  const std::string error =
      error_of([&] { device.generate(model, {1, 2}, 3, SamplingOptions{}, rng, nullptr); });
  EXPECT_EQ(error.rfind("no CUDA device: ", 0), 0u) << error;
}

TEST(CudaDevice, OnTheEmulatorRefusesUnlessAllowed) {
  if (!cuda::gpu_status().emulated) GTEST_SKIP() << "CUDA is not emulated in this build";
  const Device device = cuda_device();
  unsetenv("GPT_ALLOW_EMULATOR");
  const std::string refused = error_of([&] { device.engine(tiny_config(), 2, 8); });
  EXPECT_NE(refused.find("CPU emulator"), std::string::npos) << refused;
  EXPECT_NE(refused.find("GPT_ALLOW_EMULATOR=1"), std::string::npos) << refused;
  setenv("GPT_ALLOW_EMULATOR", "1", 1);
  const std::string allowed = error_of([&] { device.engine(tiny_config(), 2, 8); });
  unsetenv("GPT_ALLOW_EMULATOR");
  EXPECT_EQ(allowed, "");
}

TEST(CudaDevice, DescribesItsMatmulsAndAttention) {
  EXPECT_NE(cuda_device().description.find("cuBLAS"), std::string::npos);
  cuda::GpuOptions ours;
  ours.matmul = cuda::MatmulBackend::kOurs;
  EXPECT_NE(cuda_device(ours).description.find("chapter 12"), std::string::npos);
}

}  // namespace
}  // namespace gpt
