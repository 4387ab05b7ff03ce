// chapters/17_mixed_precision/bf16_matmul_checks_test.cc — chapter 17: bf16_matmul refuses what it cannot compute, before any CUDA call.
//
// Runs everywhere (no GPU, no emulator needed): each case throws
// std::invalid_argument from the size and alignment checks, which come
// before the first launch, so the pointers are never dereferenced.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "common/testing/expect.h"

namespace gpt {
namespace {

Bf16* fake(uintptr_t address) { return reinterpret_cast<Bf16*>(address); }

std::string refusal(int M, int N, int K, int version, Bf16* out = fake(4096)) {
  return gpt::testing::message_of<std::invalid_argument>(
      [&] { cuda::bf16_matmul(out, fake(8192), fake(16384), M, N, K, version); });
}

TEST(Bf16MatmulChecks, RefusesWhatItCannotCompute) {
  EXPECT_NE(refusal(4, 4, 12, 3).find("K must be a multiple of 8"), std::string::npos);
  EXPECT_NE(refusal(4, 4, 0, 3).find("K must be >= 8"), std::string::npos);
  EXPECT_NE(refusal(-1, 4, 16, 3).find("M must be >= 0"), std::string::npos);
  EXPECT_NE(refusal(4, -2, 16, 3).find("N must be >= 0"), std::string::npos);
  EXPECT_NE(refusal(4, 4, 16, 0).find("no version 0"), std::string::npos);
  EXPECT_NE(refusal(4, 4, 16, 5).find("no version 5"), std::string::npos);
  EXPECT_NE(refusal(4, 4, 16, 3, fake(4098)).find("16-byte aligned"), std::string::npos);
}

TEST(Bf16LinearChecks, ABiasExactlyWhenTheEpilogueAddsOne) {
  auto linear = [](const Bf16* bias, cuda::Epilogue e) {
    return gpt::testing::message_of<std::invalid_argument>(
        [&] { cuda::bf16_linear(fake(4096), fake(8192), fake(16384), bias, 4, 4, 16, e); });
  };
  EXPECT_NE(linear(nullptr, cuda::Epilogue::kBias).find("bias must be given exactly"),
            std::string::npos);
  EXPECT_NE(linear(fake(32768), cuda::Epilogue::kNone).find("bias must be given exactly"),
            std::string::npos);
  EXPECT_NE(gpt::testing::message_of<std::invalid_argument>([] {
              cuda::bf16_linear(fake(4096), fake(8192), fake(16384), fake(32768), 4, 4, 20,
                                cuda::Epilogue::kBiasGelu);
            }).find("bf16_linear: K must be a multiple of 8"),
            std::string::npos);
}

}  // namespace
}  // namespace gpt
