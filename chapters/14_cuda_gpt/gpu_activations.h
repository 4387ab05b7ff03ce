// chapters/14_cuda_gpt/gpu_activations.h — chapter 14: the forward's tensors in device memory.
//
// Chapter 07 carved every activation out of one buffer, and chapter 06's
// BlockActivations::carve hands out consecutive slices of whatever pointer it
// is given. Carving is pointer arithmetic, so it works on device memory
// unchanged: GpuActivations is GPTActivations with its one buffer allocated
// by cudaMalloc, plus what the GPU path adds — the batch's token ids and
// targets on the device, and the logsumexp (B, H, T) of each layer's fused
// attention (chapter 13), which the fused backward needs instead of the
// (B, H, T, T) weights. GpuBackwardScratch likewise mirrors chapter 08's
// GPTBackwardScratch.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/config.h"
#include "chapters/11_cuda_basics/device_buffer.h"

namespace gpt::cuda {

struct GpuActivations {
  GpuActivations(const GPTConfig& config, int max_B, int max_T);
  void carve(int B, int T);  // B <= max_B, T <= max_T

  int B = 0, T = 0;
  float dropout = 0.0f;                  // > 0: training, the masks below are applied
  int32_t* tokens = nullptr;             // (B, T)  device copies of the batch
  int32_t* targets = nullptr;            // (B, T)
  float* embeddings = nullptr;           // (B, T, C)
  float* embedding_dropout = nullptr;    // (B, T, C)
  std::vector<BlockActivations> blocks;  // one per layer; device pointers
  std::vector<float*> block_out;         // (B, T, C) per layer
  std::vector<float*> lse;               // (B, H, T) per layer: fused attention's logsumexp
  float* ln_f = nullptr;                 // (B, T, C)
  float* ln_f_mean = nullptr;            // (B, T)
  float* ln_f_rstd = nullptr;            // (B, T)
  float* logits = nullptr;               // (B, T, V)
  float* probs = nullptr;                // (B, T, V)
  float* losses = nullptr;               // (B, T)

  BlockConfig block_config() const;      // for the current (B, T)
  const GPTConfig& config() const { return config_; }
  size_t bytes() const { return buffer_.bytes() + ids_.bytes(); }

 private:
  static size_t size(const GPTConfig& config, int B, int T);
  GPTConfig config_;
  int max_B_, max_T_;
  DeviceBuffer<float> buffer_;
  DeviceBuffer<int32_t> ids_;  // tokens and targets
};

struct GpuBackwardScratch {
  GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T);
  void carve(int B, int T);

  float* dlogits = nullptr;                // (B, T, V)
  float* dln_f = nullptr;                  // (B, T, C)
  float* dstream[2] = {nullptr, nullptr};  // (B, T, C) each
  BlockActivations dblock;                 // one block's gradients, reused by every block

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  DeviceBuffer<float> buffer_;
};

}  // namespace gpt::cuda
