// chapters/14_cuda_gpt/gpu_activations.h — chapter 14: the forward's tensors in device memory.
//
// Chapter 07 carved every activation out of one buffer, and chapter 06's
// BlockActivations::carve hands out consecutive slices of whatever pointer it
// is given. Carving is pointer arithmetic, so it works on device memory
// unchanged: GpuActivations is GPTActivations with its one buffer allocated
// by cudaMalloc (its views, ActivationViews, are the same type), plus what
// the GPU path adds: the logsumexp (B, H, T) of each layer's fused attention
// (chapter 13, in blocks[l].attn.lse), which the fused backward needs instead
// of the (B, H, T, T) weights. GpuBackwardScratch likewise mirrors chapter
// 08's GPTBackwardScratch.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/config.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"

namespace gpt::cuda {

struct GpuActivations : ActivationViews {
  // attention_weights = false: no (B, H, T, T) weights per layer, for an
  // engine that runs chapter 13's fused attention at every size it will see;
  // probs = false: no (B, T, V) softmax probs, for one whose format fuses
  // the loss head (product_kernels.h's has_classifier_loss).
  GpuActivations(const GPTConfig& config, int max_B, int max_T, bool attention_weights = true,
                 bool probs = true);
  void carve(int B, int T) override;  // B <= max_B, T <= max_T

  BlockConfig block_config() const { return gpt::block_config(config_, B, T); }
  const GPTConfig& config() const { return config_; }
  size_t bytes() const { return buffer_.bytes() + ids_.bytes(); }

 private:
  ActivationLayout layout() const;
  GPTConfig config_;
  int max_B_, max_T_;
  bool attention_weights_, probs_;
  DeviceBuffer<float> buffer_;
  DeviceBuffer<int32_t> ids_;  // tokens and targets
};

struct GpuBackwardScratch : BackwardViews {
  // dlogits = false: no (B, T, V) dlogits, for a fused loss head.
  GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T, bool dlogits = true);
  void carve(int B, int T) override;

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  bool dlogits_;
  DeviceBuffer<float> buffer_;
};

}  // namespace gpt::cuda
