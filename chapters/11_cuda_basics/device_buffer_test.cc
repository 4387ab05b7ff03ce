// chapters/11_cuda_basics/device_buffer_test.cc — DeviceBuffer on a GPU: copies, moves, zero.
// Runs on the GPU or the CPU emulator (what needs no device is in launch_test.cc).
#include "chapters/11_cuda_basics/device_buffer.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/testing/gpu.h"

namespace gpt::cuda {
namespace {

TEST(DeviceBuffer, RoundTripsThroughTheGpu) {
  GPU_TEST_REQUIRE_GPU();
  const std::vector<float> host = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f};
  DeviceBuffer<float> buffer(host);
  EXPECT_EQ(buffer.size(), 5u);
  EXPECT_EQ(buffer.bytes(), 5 * sizeof(float));
  EXPECT_NE(buffer.data(), nullptr);
  EXPECT_EQ(buffer.to_host(), host);
  buffer.zero();
  EXPECT_EQ(buffer.to_host(), std::vector<float>(5, 0.0f));
}

TEST(DeviceBuffer, MovingHandsOverTheMemory) {
  GPU_TEST_REQUIRE_GPU();
  const std::vector<int32_t> host = {4, 5, 6};
  DeviceBuffer<int32_t> a(host);
  const int32_t* memory = a.data();
  DeviceBuffer<int32_t> b(std::move(a));
  EXPECT_EQ(b.data(), memory);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.size(), 0u);
  DeviceBuffer<int32_t> c(7);
  c = std::move(b);  // c's own 7 ints are freed here
  EXPECT_EQ(c.data(), memory);
  EXPECT_EQ(c.to_host(), host);
}

TEST(DeviceBuffer, CopyingTheWrongCountIsAClearError) {
  GPU_TEST_REQUIRE_GPU();
  DeviceBuffer<float> buffer(4);
  try {
    buffer.to_device(std::vector<float>(3));
    FAIL() << "no error for 3 elements into a buffer of 4";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("copying 3 elements to a buffer of 4"), std::string::npos)
        << e.what();
  }
}

TEST(DeviceBuffer, ManyAllocationsDoNotLeak) {
  GPU_TEST_REQUIRE_GPU();
  size_t free_before = 0, free_after = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_before, &total));
  for (int i = 0; i < 100; ++i) {
    DeviceBuffer<float> buffer(size_t(16) << 20);  // 64 MiB, freed at the end of each pass
  }
  CUDA_CHECK(cudaMemGetInfo(&free_after, &total));
  EXPECT_GE(free_after + (size_t(64) << 20), free_before) << "100 × 64 MiB were not all freed";
}

}  // namespace
}  // namespace gpt::cuda
