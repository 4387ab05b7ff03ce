// chapters/14_cuda_gpt/cuda_device.h — chapter 14: the GPU as a device of the programs.
//
// Chapter 09's train and generate take `--device NAME` (device.h). This is
// the "cuda" device: CudaEngine for training, the KV-cache generator for
// generation. Both throw "no CUDA device: <the runtime's reason>" on a
// machine without a GPU, and on the CPU emulator too unless GPT_ALLOW_EMULATOR=1
// (it is far too slow for training); the programs report it and exit with an error.
#pragma once

#include "chapters/09_training/device.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

namespace gpt {

Device cuda_device(const cuda::GpuOptions& options = {});

// The devices of this chapter's programs and of every later chapter's:
// cpu (chapter 10's fast engine, the default), cuda, cpu-reference (chapter 09's).
Devices course_devices();

// Throws std::runtime_error("no CUDA device: ...") unless a GPU is present (or
// the emulator's, with GPT_ALLOW_EMULATOR=1 in the environment).
void require_cuda_device();

}  // namespace gpt
