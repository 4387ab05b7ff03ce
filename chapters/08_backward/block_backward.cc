// chapters/08_backward/block_backward.cc — a block's forward, read from the bottom up.
//
// Written once for every engine: each step is a call on `ops` (backward_ops.h).
#include "chapters/08_backward/block_backward.h"

#include <cstdint>

#include "chapters/08_backward/backward_ops.h"

namespace gpt {

void block_backward(BackwardOps& ops, float* dinp, const BlockGrads& grads,
                    BlockActivations& dacts, const float* dout, const float* inp,
                    const BlockActivations& acts, const BlockParams& params,
                    const BlockConfig& config, Mode mode) {
  check_block_config(config);
  const int N = config.B * config.T, C = config.C;  // tokens, channels
  const int64_t NC = int64_t(N) * C;
  // The scratch gradients the recipe below adds into start at zero: five of
  // them (pre-LN never uses d residual2, post-LN never uses d ln2).
  const bool pre = config.norm == NormPlacement::Pre;
  for (float* d : {dacts.ln1, dacts.attn_out, dacts.residual1, dacts.mlp_out,
                   pre ? dacts.ln2 : dacts.residual2}) {
    ops.zero(d, NC);
  }
  // In training the forward multiplied each branch by a dropout mask (chapter
  // 06); the derivative of x ⊙ mask is mask, so the gradient is masked the same way.
  const auto dropout_backward = [&](float* dbranch, const float* mask) {
    if (mode == Mode::Train) ops.apply_mask(dbranch, mask, NC);
  };
  // lesson: block_backward
  if (config.norm == NormPlacement::Pre) {
    // out = r + mlp(ln2(r)): the gradient reaches r both directly and through the MLP.
    ops.residual_backward(dacts.residual1, dacts.mlp_out, dout, NC);
    dropout_backward(dacts.mlp_out, acts.mlp_dropout);
    ops.feedforward_backward(dacts.ln2, grads.mlp, dacts.mlp_hidden, dacts.mlp_activated,
                             dacts.mlp_out, acts.ln2, acts.mlp_hidden, acts.mlp_activated,
                             params.mlp, config);
    ops.layernorm_backward(dacts.residual1, grads.ln2_weight, grads.ln2_bias, dacts.ln2,
                           acts.residual1, acts.ln2_mean, acts.ln2_rstd, params.ln2_weight, N, C);
    // r = x + attn(ln1(x)): likewise for x.
    ops.residual_backward(dinp, dacts.attn_out, dacts.residual1, NC);
    dropout_backward(dacts.attn_out, acts.attn_dropout);
    ops.attention_backward(dacts.ln1, grads.attn, dacts.attn, dacts.attn_out, acts.ln1,
                           acts.attn, params.attn, config);
    ops.layernorm_backward(dinp, grads.ln1_weight, grads.ln1_bias, dacts.ln1, inp,
                           acts.ln1_mean, acts.ln1_rstd, params.ln1_weight, N, C);
  } else {
    // out = ln2(r2), r2 = ln1 + mlp(ln1): ln1's output gets both paths' gradients.
    ops.layernorm_backward(dacts.residual2, grads.ln2_weight, grads.ln2_bias, dout,
                           acts.residual2, acts.ln2_mean, acts.ln2_rstd, params.ln2_weight, N, C);
    ops.residual_backward(dacts.ln1, dacts.mlp_out, dacts.residual2, NC);
    dropout_backward(dacts.mlp_out, acts.mlp_dropout);
    ops.feedforward_backward(dacts.ln1, grads.mlp, dacts.mlp_hidden, dacts.mlp_activated,
                             dacts.mlp_out, acts.ln1, acts.mlp_hidden, acts.mlp_activated,
                             params.mlp, config);
    // ln1 = ln1(r1), r1 = x + attn(x): x gets the direct path and the attention's.
    ops.layernorm_backward(dacts.residual1, grads.ln1_weight, grads.ln1_bias, dacts.ln1,
                           acts.residual1, acts.ln1_mean, acts.ln1_rstd, params.ln1_weight, N, C);
    ops.residual_backward(dinp, dacts.attn_out, dacts.residual1, NC);
    dropout_backward(dacts.attn_out, acts.attn_dropout);
    ops.attention_backward(dinp, grads.attn, dacts.attn, dacts.attn_out, inp, acts.attn,
                           params.attn, config);
  }
  // end lesson
}

void block_backward(float* dinp, const BlockGrads& grads, BlockActivations& dacts,
                    const float* dout, const float* inp, const BlockActivations& acts,
                    const BlockParams& params, const BlockConfig& config, Mode mode) {
  PlainBackwardOps ops;
  block_backward(ops, dinp, grads, dacts, dout, inp, acts, params, config, mode);
}

}  // namespace gpt
