// chapters/11_cuda_basics/launch_test.cc — what can be checked without a GPU.
//
// Runs on every machine. The launch arithmetic (how many blocks cover the
// work, which elements each thread of a float4 kernel takes), the launchers'
// argument checks (which run before any CUDA call) and DeviceBuffer's
// ownership rules at compile time. No test here calls the GPU: where there is
// none, any CUDA call would throw.
#include "chapters/11_cuda_basics/launch.h"

#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/softmax.h"

namespace gpt::cuda {
namespace {

TEST(Launch, CeilDivCoversEveryItem) {
  EXPECT_EQ(ceil_div(0, 256), 0);
  EXPECT_EQ(ceil_div(1, 256), 1);
  EXPECT_EQ(ceil_div(256, 256), 1);
  EXPECT_EQ(ceil_div(257, 256), 2);
  EXPECT_EQ(ceil_div(3 * 37, 8), 14);  // 111 rows, 8 warps per block
}

TEST(Launch, GridCoversTheWorkWithLessThanOneSpareBlock) {
  for (const int64_t items : {1, 31, 32, 33, 255, 256, 257, 5772, 1 << 20}) {
    for (const int per_block : {8, 32, 256}) {
      const int64_t blocks = grid_size(items, per_block);
      EXPECT_GE(blocks * per_block, items) << items << " items, " << per_block << " per block";
      EXPECT_LT((blocks - 1) * per_block, items) << items << " items, " << per_block;
    }
  }
}

TEST(Launch, TooManyBlocksIsAClearError) {
  EXPECT_EQ(grid_size(int64_t(INT_MAX) * 256, 256), INT_MAX);
  EXPECT_THROW(grid_size(int64_t(INT_MAX) * 256 + 1, 256), std::invalid_argument);
}

// Version 2 of the elementwise kernels (elementwise.cu): thread i takes the
// float4 i if i < N/4, and the leftover element 4·(N/4) + i if i < N % 4.
// Replayed on the CPU, every element must be taken exactly once.
TEST(Launch, Float4ThreadsTakeEveryElementExactlyOnce) {
  for (int64_t N = 0; N <= 40; ++N) {
    std::vector<int> taken(N, 0);
    const int64_t threads = vec4_threads(N), n4 = N / 4;
    for (int64_t i = 0; i < threads; ++i) {
      if (i < n4) {
        for (int k = 0; k < 4; ++k) ++taken[4 * i + k];
      }
      if (i < N % 4) ++taken[4 * n4 + i];
    }
    for (int64_t j = 0; j < N; ++j) EXPECT_EQ(taken[j], 1) << "N=" << N << ", element " << j;
  }
  EXPECT_EQ(vec4_threads(3), 3);  // leftovers only
  EXPECT_EQ(vec4_threads(5), 1);  // one float4, one leftover, same thread
  EXPECT_EQ(vec4_threads(5772), 1443);
}

// Warp-per-row kernels (layernorm version 2, causal softmax version 2): row
// blockIdx.x · (blockDim.x / 32) + threadIdx.x / 32.
TEST(Launch, WarpPerRowGridTakesEveryRowExactlyOnce) {
  const int warps = kBlockSize / kWarpSize;
  for (const int64_t rows : {1, 7, 8, 9, 111, 3 * 2 * 70}) {
    std::vector<int> taken(rows, 0);
    const int blocks = grid_size(rows, warps);
    for (int block = 0; block < blocks; ++block) {
      for (int thread = 0; thread < kBlockSize; thread += kWarpSize) {  // lane 0 of each warp
        const int64_t row = int64_t(block) * warps + thread / kWarpSize;
        if (row < rows) ++taken[row];
      }
    }
    for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(taken[r], 1) << rows << " rows, row " << r;
  }
}

TEST(Launch, AlignmentForFloat4) {
  alignas(16) float buffer[8] = {};
  EXPECT_TRUE(is_aligned16(buffer));
  EXPECT_FALSE(is_aligned16(buffer + 1));
  EXPECT_FALSE(is_aligned16(buffer + 2));
  EXPECT_TRUE(is_aligned16(buffer + 4));
}

// The launchers check versions and sizes first, before any CUDA call: these
// throw the same way with or without a GPU. Calls are qualified (cuda::): an
// argument of type GeluForm or AdamWConfig would otherwise make C++ look in
// namespace gpt too (argument-dependent lookup) and find the CPU op.
TEST(Launchers, UnknownVersionIsAClearError) {
  try {
    cuda::layernorm_forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 4, 8, 1e-5f, 3);
    FAIL() << "no error for version 3";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "layernorm_forward: no version 3 (versions are 1 to 2)");
  }
  EXPECT_THROW(cuda::residual_forward(nullptr, nullptr, nullptr, 4, 0), std::invalid_argument);
  EXPECT_THROW(cuda::residual_backward(nullptr, nullptr, nullptr, 4, 3), std::invalid_argument);
  EXPECT_THROW(cuda::gelu_forward(nullptr, nullptr, 4, GeluForm::Tanh, 3), std::invalid_argument);
  EXPECT_THROW(cuda::gelu_backward(nullptr, nullptr, nullptr, 4, GeluForm::Erf, -1),
               std::invalid_argument);
  EXPECT_THROW(
      cuda::adamw_update(nullptr, nullptr, nullptr, nullptr, 4, 1, 1e-3f, AdamWConfig{}, 0.1f, 3),
      std::invalid_argument);
  EXPECT_THROW(cuda::embedding_forward(nullptr, nullptr, nullptr, nullptr, 1, 2, 3, 4, 3),
               std::invalid_argument);
  EXPECT_THROW(cuda::embedding_backward(nullptr, nullptr, nullptr, nullptr, 1, 2, 3, 4, 3),
               std::invalid_argument);
  EXPECT_THROW(cuda::layernorm_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr, 4, 8, 3),
               std::invalid_argument);
  EXPECT_THROW(cuda::causal_softmax_forward(nullptr, nullptr, 2, 4, 3), std::invalid_argument);
  EXPECT_THROW(cuda::causal_softmax_backward(nullptr, nullptr, nullptr, 2, 4, 3),
               std::invalid_argument);
  EXPECT_THROW(cuda::cross_entropy_forward(nullptr, nullptr, nullptr, nullptr, 2, 4, 3),
               std::invalid_argument);
  EXPECT_THROW(cuda::cross_entropy_backward(nullptr, 1.0f, nullptr, nullptr, 2, 4, 3),
               std::invalid_argument);
}

TEST(Launchers, BadSizesAreClearErrors) {
  try {
    cuda::layernorm_forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 4, 0, 1e-5f);
    FAIL() << "no error for C = 0";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "layernorm_forward: C must be >= 1, got 0");
  }
  EXPECT_THROW(cuda::residual_forward(nullptr, nullptr, nullptr, -1), std::invalid_argument);
  EXPECT_THROW(cuda::embedding_forward(nullptr, nullptr, nullptr, nullptr, 1, 2, 3, 0),
               std::invalid_argument);
  EXPECT_THROW(cuda::causal_softmax_forward(nullptr, nullptr, -2, 4), std::invalid_argument);
  EXPECT_THROW(cuda::cross_entropy_forward(nullptr, nullptr, nullptr, nullptr, 0, 4),
               std::invalid_argument);  // the mean of no losses
  EXPECT_THROW(
      cuda::adamw_update(nullptr, nullptr, nullptr, nullptr, 4, 0, 1e-3f, AdamWConfig{}, 0.1f),
      std::invalid_argument);  // steps count from 1
  try {
    cuda::layernorm_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                             4, 8192, 2);
    FAIL() << "no error for C = 8192 in version 2";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("shared memory"), std::string::npos) << e.what();
  }
}

// No work, no launch (a grid of 0 blocks would be a launch error): these
// return before any CUDA call, so they pass here without a GPU.
TEST(Launchers, NothingToDoTouchesNoDevice) {
  for (const int version : {1, 2}) {
    cuda::residual_forward(nullptr, nullptr, nullptr, 0, version);
    cuda::residual_backward(nullptr, nullptr, nullptr, 0, version);
    cuda::gelu_forward(nullptr, nullptr, 0, GeluForm::Erf, version);
    cuda::gelu_backward(nullptr, nullptr, nullptr, 0, GeluForm::Tanh, version);
    cuda::adamw_update(nullptr, nullptr, nullptr, nullptr, 0, 1, 1e-3f, AdamWConfig{}, 0.1f,
                       version);
    cuda::embedding_forward(nullptr, nullptr, nullptr, nullptr, 0, 8, 4, 5, version);
    cuda::embedding_backward(nullptr, nullptr, nullptr, nullptr, 2, 0, 4, 5, version);
    cuda::layernorm_forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 8, 1e-5f,
                            version);
    cuda::layernorm_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                             0, 8, version);
    cuda::causal_softmax_forward(nullptr, nullptr, 0, 4, version);
    cuda::causal_softmax_backward(nullptr, nullptr, nullptr, 3, 0, version);
    cuda::cross_entropy_backward(nullptr, 1.0f, nullptr, nullptr, 0, 4, version);
  }
}

// lesson: device_buffer_rules
// One owner per allocation: the compiler refuses copies, and moves cannot throw.
static_assert(!std::is_copy_constructible_v<DeviceBuffer<float>>);
static_assert(!std::is_copy_assignable_v<DeviceBuffer<float>>);
static_assert(std::is_nothrow_move_constructible_v<DeviceBuffer<float>>);
static_assert(std::is_nothrow_move_assignable_v<DeviceBuffer<float>>);
// end lesson

TEST(DeviceBuffer, AnEmptyBufferNeedsNoDevice) {
  DeviceBuffer<float> empty, none(0);  // no allocation for zero elements
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
  none.to_device({});
  EXPECT_TRUE(none.to_host().empty());
  DeviceBuffer<float> moved(std::move(none));
  EXPECT_EQ(moved.data(), nullptr);
  EXPECT_THROW(empty.to_device(std::vector<float>(3)), std::invalid_argument);
}

}  // namespace
}  // namespace gpt::cuda
