// common/testing/gpu.h — a GPU test runs on a GPU or on the CPU emulator, or fails saying why.
//
// Bazel builds CUDA for the CPU emulator wherever it finds no GPU or no toolkit
// (tools/cuda.bzl), so a GPU test normally finds a device: a real one or the
// emulator's. Only an nvcc build on a machine without a GPU (--config=nvcc)
// finds none; its GPU tests then fail with the runtime's reason instead of
// skipping: a green test must have compared something.
#pragma once

#include <gtest/gtest.h>

#include "common/cuda/gpu.h"

// First line of every GPU test. Without a device it fails with e.g. "GPU test
// needs a GPU: no CUDA GPU available (cudaGetDeviceCount: CUDA driver version
// is insufficient ...)"; tools/expect_test_failure.sh looks for those words.
#define GPU_TEST_REQUIRE_GPU()                                                          \
  do {                                                                                  \
    const ::gpt::cuda::GpuStatus gpu_status_ = ::gpt::cuda::gpu_status();              \
    if (!gpu_status_.present)                                                           \
      GTEST_FAIL() << "GPU test needs a GPU: " << gpu_status_.reason                    \
                   << ". This build compiled CUDA with nvcc; without a usable GPU, run "  \
                      "the GPU tests on the CPU emulator: add --config=emulated.";      \
  } while (0)
