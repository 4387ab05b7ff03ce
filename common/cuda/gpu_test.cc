// common/cuda/gpu_test.cc — the CUDA build works, and so does its device (a GPU or the emulator).
#include <gtest/gtest.h>

#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/testing/gpu.h"

namespace gpt::cuda {
namespace {

TEST(GpuStatus, AnswersWithoutThrowing) {
  const GpuStatus s = gpu_status();
  if (s.present) {
    EXPECT_FALSE(s.name.empty());
    EXPECT_GE(s.major, 8) << "the kernels are compiled for sm_80 and sm_90";
  } else {
    EXPECT_NE(s.reason.find("no CUDA GPU"), std::string::npos) << s.reason;
  }
  std::cout << "[ gpu      ] " << s.describe() << std::endl;
}

TEST(CudaCheck, NamesTheFailingCallAndLine) {
  try {
    CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "CUDA_CHECK did not throw";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("gpu_test.cc"), std::string::npos) << message;
    EXPECT_NE(message.find("cudaErrorInvalidValue"), std::string::npos) << message;
  }
}

TEST(SmokeKernel, AddsOneOnTheDevice) {
  GPU_TEST_REQUIRE_GPU();
  EXPECT_TRUE(run_smoke_kernel());
}

}  // namespace
}  // namespace gpt::cuda
