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
// 08's GPTBackwardScratch. An engine lays both out for what its ops will
// read (chapter 07's ActivationLayout; CudaEngine's activation_layout).
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/config.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"

namespace gpt::cuda {

// Chapter 07's layout with every tensor, or (weights false) without the
// (B, H, T, T) weights: for an engine that runs chapter 13's fused
// attention at every size it will see.
inline ActivationLayout layout_with_weights(bool weights) {
  ActivationLayout layout;
  layout.block.attention.weights = weights;
  return layout;
}

struct GpuActivations : ActivationViews {
  // Laid out as `layout` says, every tensor by default; its logsumexp flag
  // is set, as the GPU's fused attention keeps one.
  GpuActivations(const GPTConfig& config, int max_B, int max_T, ActivationLayout layout = {});
  void carve(int B, int T) override;  // B <= max_B, T <= max_T

  BlockConfig block_config() const { return gpt::block_config(config_, B, T); }
  const GPTConfig& config() const { return config_; }
  const ActivationLayout& layout() const { return layout_; }
  size_t bytes() const { return buffer_.bytes() + ids_.bytes(); }

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  ActivationLayout layout_;
  DeviceBuffer<float> buffer_;
  DeviceBuffer<int32_t> ids_;  // tokens and targets
};

struct GpuBackwardScratch : BackwardViews {
  // For activations laid out as `layout` says: no (B, T, V) dlogits where
  // they keep no probs (a fused loss head), and one block's gradients laid
  // out as their blocks, but never with (B, H, T, T) weights, which no GPU
  // backward reads.
  GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T,
                     const ActivationLayout& layout = {});
  void carve(int B, int T) override;
  const BlockLayout& block_layout() const { return block_; }
  size_t bytes() const { return buffer_.bytes(); }

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  bool keeps_dlogits_;
  BlockLayout block_;
  DeviceBuffer<float> buffer_;
};

}  // namespace gpt::cuda
