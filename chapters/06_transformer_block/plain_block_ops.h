// chapters/06_transformer_block/plain_block_ops.h — the block's steps as chapters 04–06 wrote them.
//
// Each method calls the op its chapter teaches, in the order its chapter
// calls them, so a block run through PlainBlockOps gives exactly the bits
// chapter 06 always gave. It is a template over its base class so that
// chapters 07–09 can grow it into their larger interfaces (PlainModelOps,
// PlainBackwardOps, PlainTrainOps) without a diamond: each adds its own
// methods on top of this one.
#pragma once

#include <algorithm>
#include <cstdint>

#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/block.h"
#include "chapters/06_transformer_block/dropout.h"
#include "chapters/06_transformer_block/residual.h"

namespace gpt {

template <class Base>
class PlainBlockOpsFor : public Base {
 public:
  void layernorm(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                 const float* bias, int N, int C, float eps) override {
    layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
  }
  void attention(float* out, AttentionActivations& acts, const float* inp,
                 const AttentionParams& params, const BlockConfig& c, int /*layer*/) override {
    multihead_attention_forward(out, acts, inp, params, c.B, c.T, c.C, c.H);
  }
  void feedforward(float* out, float* hidden, float* activated, const float* inp,
                   const FeedForwardParams& params, const BlockConfig& c) override {
    feedforward_forward(out, hidden, activated, inp, params, c.B * c.T, c.C, c.F, c.gelu);
  }
  void dropout_residual(float* out, const float* x, float* branch, const float* mask,
                        int64_t n) override {
    if (mask != nullptr) dropout_forward(branch, branch, mask, n);
    residual_forward(out, x, branch, n);
  }
  void apply_mask(float* x, const float* mask, int64_t n) override {
    dropout_forward(x, x, mask, n);
  }
  void copy(float* dst, const float* src, int64_t n) override { std::copy_n(src, n, dst); }
};

using PlainBlockOps = PlainBlockOpsFor<BlockOps>;

}  // namespace gpt
