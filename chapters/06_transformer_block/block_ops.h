// chapters/06_transformer_block/block_ops.h — what a block asks of an engine.
//
// A transformer block is a fixed recipe: LayerNorm, attention, dropout and a
// residual add, LayerNorm, feed-forward, dropout and a residual add (block.h
// says in which order for pre-LN and post-LN). The recipe does not care how
// each step is computed, so block.cc writes it once, against this interface,
// and an engine supplies the steps:
//   PlainBlockOps (below)      chapters 04–06's loops, the reference
//   FastOps (chapter 10)       packed, threaded, fused CPU kernels
//   CudaOps (chapter 14)       chapters 11–13's CUDA kernels
// Every pointer is in the engine's memory (host or device). The recipe hands
// pointers from the activations to the ops and never reads through them, so
// the same recipe drives a GPU without touching device memory.
//
// Chapter 07 extends this interface with what the whole model needs
// (ModelOps), chapter 08 with the backward ops, chapter 09 with the optimizer.
#pragma once

#include <cstdint>

#include "chapters/04_multihead_attention/multihead_attention.h"
#include "chapters/05_feedforward_layernorm/feedforward.h"

namespace gpt {

struct BlockConfig;  // block.h

// Training applies the dropout masks stored in the activations; evaluation
// (and generation) does not. It is an argument of every forward pass.
enum class Mode { Eval, Train };

class BlockOps {
 public:
  virtual ~BlockOps() = default;

  // out (N, C) = LayerNorm of each row of inp; the rows' mean and rstd (N) are
  // kept for the backward pass (either may be nullptr when none will follow).
  virtual void layernorm(float* out, float* mean, float* rstd, const float* inp,
                         const float* weight, const float* bias, int N, int C, float eps) = 0;

  // Chapter 04's sub-layer, out (B, T, C) = proj(attention(qkv(inp))), with
  // its intermediate tensors in `acts`. `layer` (0 .. L-1) names the block, for
  // engines that keep state per layer (a KV cache).
  virtual void attention(float* out, AttentionActivations& acts, const float* inp,
                         const AttentionParams& params, const BlockConfig& config,
                         int layer) = 0;

  // Chapter 05's sub-layer, out (N, C) = proj(gelu(fc(inp))); hidden (before
  // GELU) and activated (after) are (N, F).
  virtual void feedforward(float* out, float* hidden, float* activated, const float* inp,
                           const FeedForwardParams& params, const BlockConfig& config) = 0;

  // branch ⊙= mask (skipped when mask is nullptr), then out = x + branch:
  // a sub-layer's output joining the residual stream. n floats each.
  virtual void dropout_residual(float* out, const float* x, float* branch, const float* mask,
                                int64_t n) = 0;

  // x ⊙= mask, n floats: dropout of the embeddings, and every mask's backward.
  virtual void apply_mask(float* x, const float* mask, int64_t n) = 0;

  // dst = src, n floats.
  virtual void copy(float* dst, const float* src, int64_t n) = 0;
};

}  // namespace gpt
