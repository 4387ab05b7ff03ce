// common/testing/gpu.h — GPU tests skip, with the reason, where no GPU is.
#pragma once

#include <gtest/gtest.h>

#include "common/cuda/gpu.h"

// First line of every GPU test. Prints e.g. "Skipped: no CUDA GPU available
// (cudaGetDeviceCount: CUDA driver version is insufficient ...)".
#define GPU_TEST_REQUIRE_GPU()                                     \
  do {                                                             \
    const ::gpt::cuda::GpuStatus gpu_status_ = ::gpt::cuda::gpu_status(); \
    if (!gpu_status_.present) GTEST_SKIP() << gpu_status_.reason;  \
  } while (0)
