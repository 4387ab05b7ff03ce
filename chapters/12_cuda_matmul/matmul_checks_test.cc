// chapters/12_cuda_matmul/matmul_checks_test.cc — chapter 12: bad sizes are refused, on any machine.
//
// Every check runs before the first CUDA call, so these tests need no GPU
// (the pointers are never dereferenced).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/12_cuda_matmul/matmul.h"
#include "chapters/12_cuda_matmul/split_k.h"

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

// split_k.h's arithmetic, on the H100's 132 SMs with version 8's default
// shape (128×128 tiles, K slices of 16, two blocks an SM: 264 slots).
TEST(SplitK, SplitsOnlyProductsThatLeaveSmsIdle) {
  const int64_t slots = 2 * 132;
  const auto tiles = [](int M, int N) { return int64_t((M + 127) / 128) * ((N + 127) / 128); };
  // The seed model's weight gradient, 768 × 256 with K = 2048: 12 tiles.
  // 128 slices allow 8 layers of 16; 264 / 12 would allow 22.
  KSplit s = choose_k_split(tiles(768, 256), slots, 2048, 16);
  EXPECT_EQ(s.splits, 8);
  EXPECT_EQ(s.chunk, 256);
  // Square 4096: 1024 tiles fill the GPU alone.
  EXPECT_EQ(choose_k_split(tiles(4096, 4096), slots, 4096, 16).splits, 1);
  // The seed model's forward, K = 256: 16 slices, too few to share.
  EXPECT_EQ(choose_k_split(tiles(2048, 768), slots, 256, 16).splits, 1);
  // GPT-2's qkv weight gradient, 2304 × 768, K = 8192: 108 tiles, 2 layers.
  EXPECT_EQ(choose_k_split(tiles(2304, 768), slots, 8192, 16).splits, 2);
  // Every layer gets some of K, the layers cover all of it, chunks are whole slices.
  for (const int K : {512, 513, 1000, 3000, 4095}) {
    for (const int64_t t : {1, 2, 7, 40}) {
      s = choose_k_split(t, slots, K, 16);
      EXPECT_EQ(s.chunk % 16 == 0 || s.splits == 1, true) << "K " << K << " tiles " << t;
      EXPECT_GE(int64_t(s.splits) * s.chunk, K) << "K " << K << " tiles " << t;
      EXPECT_LT(int64_t(s.splits - 1) * s.chunk, K) << "an empty layer: K " << K << " tiles " << t;
      EXPECT_LE(s.splits * t, std::max<int64_t>(slots, t)) << "K " << K << " tiles " << t;
    }
  }
  // A forced count (the benchmark's sweep) is kept where the slices allow it.
  EXPECT_EQ(k_split_of(4, 2048, 16).splits, 4);
  EXPECT_EQ(k_split_of(4, 2048, 16).chunk, 512);
  EXPECT_EQ(k_split_of(7, 100, 16).splits, 7);   // 7 slices, one each
  EXPECT_EQ(k_split_of(32, 100, 16).splits, 7);  // no more layers than slices
  EXPECT_EQ(k_split_of(5, 16, 16).splits, 1);    // one slice: nothing to share
}

}  // namespace
}  // namespace gpt::cuda
