// chapters/07_gpt/activations.h — every intermediate tensor of a forward pass.
//
// Like the parameters, the activations live in one buffer, allocated once for
// the largest (B, T) the caller will use; carve(B, T) lays the named views out
// for the current batch. Nothing is allocated during a forward pass, and the
// backward pass (chapter 08) finds everything it needs here.
#pragma once

#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/config.h"
#include "common/aligned_vector.h"

namespace gpt {

struct GPTActivations {
  GPTActivations(const GPTConfig& config, int max_B, int max_T);

  // Points the views below at the buffer for a (B, T) batch; B <= max_B, T <= max_T.
  void carve(int B, int T);

  int B = 0, T = 0;
  // Dropout rate of this pass: 0 (the default) for inference; the trainer
  // (chapter 09) sets it and fills the masks (embedding_dropout and each
  // block's attn_dropout / mlp_dropout) before a training forward pass.
  float dropout = 0.0f;
  float* embeddings = nullptr;           // (B, T, C)
  float* embedding_dropout = nullptr;    // (B, T, C) dropout mask of the embeddings
  std::vector<BlockActivations> blocks;  // one per layer
  std::vector<float*> block_out;         // (B, T, C) per layer: the stream after block l
  float* ln_f = nullptr;                 // (B, T, C)
  float* ln_f_mean = nullptr;            // (B, T)
  float* ln_f_rstd = nullptr;            // (B, T)
  float* logits = nullptr;               // (B, T, V)
  float* probs = nullptr;                // (B, T, V)
  float* losses = nullptr;               // (B, T)

  BlockConfig block_config() const;      // for the current (B, T)
  size_t floats() const { return buffer_.size(); }
  static size_t size(const GPTConfig& config, int B, int T);  // floats for a (B, T) batch

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  AlignedVector<float> buffer_;  // 64-byte aligned: reproducible sums
};

}  // namespace gpt
