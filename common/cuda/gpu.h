// common/cuda/gpu.h — is there a GPU, and which one?
//
// The course builds its CUDA code everywhere, but only some machines have a
// GPU; elsewhere the build runs CUDA on the CPU emulator (tools/cuda.bzl),
// whose one device gpu_status() reports as present and emulated. It answers
// without throwing; GPU tests call GPU_TEST_REQUIRE_GPU() (common/testing/gpu.h)
// to fail with its reason where there is no device at all.
#pragma once

#include <string>

namespace gpt::cuda {

struct GpuStatus {
  bool present = false;
  bool emulated = false;    // the device is tools/cuda_emulator's: results, not speed
  std::string name;         // "NVIDIA H100 80GB HBM3"
  int major = 0, minor = 0;  // compute capability
  double memory_gib = 0;
  int multiprocessors = 0;
  std::string reason;       // why not present, in the runtime's words
  std::string describe() const;
};

GpuStatus gpu_status();

// Runs a tiny kernel (adds 1 to a few numbers) and checks the result: proof
// that this binary's code runs on the device. Requires a device: a GPU, or
// the emulator's.
bool run_smoke_kernel();

}  // namespace gpt::cuda
