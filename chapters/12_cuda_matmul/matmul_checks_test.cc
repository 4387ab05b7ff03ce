// chapters/12_cuda_matmul/matmul_checks_test.cc — chapter 12: bad sizes are refused, on any machine.
//
// Every check runs before the first CUDA call, so these tests need no GPU
// (the pointers are never dereferenced).
#include <gtest/gtest.h>

#include <stdexcept>

#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/12_cuda_matmul/matmul.h"

namespace gpt::cuda {
namespace {

float* const kNowhere = nullptr;

TEST(MatmulChecks, RejectsUnknownVersions) {
  EXPECT_THROW(matmul(kNowhere, kNowhere, kNowhere, 4, 4, 4, 0), std::invalid_argument);
  EXPECT_THROW(matmul(kNowhere, kNowhere, kNowhere, 4, 4, 4, kMatmulVersions + 1),
               std::invalid_argument);
}

TEST(MatmulChecks, RejectsBadSizes) {
  EXPECT_THROW(matmul(kNowhere, kNowhere, kNowhere, -1, 4, 4, 1), std::invalid_argument);
  EXPECT_THROW(matmul(kNowhere, kNowhere, kNowhere, 4, -1, 4, 1), std::invalid_argument);
  EXPECT_THROW(matmul(kNowhere, kNowhere, kNowhere, 4, 4, 0, 1), std::invalid_argument);
  EXPECT_THROW(matmul_cublas(kNowhere, kNowhere, kNowhere, 4, 4, 0), std::invalid_argument);
  EXPECT_THROW(linear_forward(kNowhere, kNowhere, kNowhere, nullptr, 2, 0, 3),
               std::invalid_argument);
  EXPECT_THROW(linear_backward(kNowhere, kNowhere, nullptr, kNowhere, kNowhere, kNowhere, -2, 3, 3),
               std::invalid_argument);
}

TEST(MatmulChecks, MessageNamesTheValue) {
  try {
    matmul(kNowhere, kNowhere, kNowhere, 4, 4, 0, 7);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("K must be >= 1, got 0"), std::string::npos) << e.what();
  }
}

TEST(MatmulChecks, BothTransposesAreRefused) {
  Gemm options;
  options.trans_a = options.trans_b = true;
  EXPECT_THROW(gemm(kNowhere, kNowhere, kNowhere, 4, 4, 4, options), std::invalid_argument);
}

TEST(MatmulChecks, EmptyProductsLaunchNothing) {
  // M = 0 or N = 0: returns before touching the (null) pointers or the GPU.
  EXPECT_NO_THROW(matmul(kNowhere, kNowhere, kNowhere, 0, 5, 3, 7));
  EXPECT_NO_THROW(matmul(kNowhere, kNowhere, kNowhere, 5, 0, 3, 1));
  EXPECT_NO_THROW(linear_backward(kNowhere, kNowhere, nullptr, kNowhere, kNowhere, kNowhere, 0, 3, 3));
}

}  // namespace
}  // namespace gpt::cuda
