// chapters/14_cuda_gpt/gpt_backward_gpu.h — chapter 14: the whole backward pass on the GPU.
//
// Chapter 08's gpt_backward itself, run on CudaOps (cuda_ops.h), with chapter
// 08's convention: every gradient is ADDED into `grads` (zero it for a fresh step).
// Attention's backward is chapter 13's fused one when the forward used the
// fused kernel (it saved the logsumexp), else the naive one (it saved the
// weights).
#pragma once

#include "chapters/08_backward/gpt_backward.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

namespace gpt::cuda {

// `grads` is a DEVICE buffer with the parameters' layout; `acts` is what
// gpt_forward_loss saved for this batch, with the same options. Throws
// std::invalid_argument where the scratch or the activations lend the
// format less than it needs (check_lent_memory, gpt_forward_gpu.h).
void gpt_backward(float* grads, GpuBackwardScratch& scratch, const GpuActivations& acts,
                  const DeviceModel& model, const GpuOptions& options = {});

// Views of every gradient in the DEVICE buffer `grads` (chapter 08's
// GPTGrads), from the exercise's device_block_grads and device_slot.
GPTGrads device_grads(const GPTConfig& config, const ParameterLayout& layout, float* grads);

}  // namespace gpt::cuda
