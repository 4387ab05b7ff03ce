// chapters/08_backward/block_backward.cc — a block's forward, read from the bottom up.
#include "chapters/08_backward/block_backward.h"

#include <algorithm>
#include <cstdint>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/residual_backward.h"

namespace gpt {
namespace {

// In training the forward multiplied each branch by a dropout mask (chapter
// 06); the derivative of x ⊙ mask is mask, so the gradient is masked the same way.
void apply_dropout_mask(float* dbranch, const float* mask, int64_t n, const BlockConfig& config) {
  if (config.dropout > 0) dropout_forward(dbranch, dbranch, mask, n);
}

}  // namespace

void block_backward(float* dinp, const BlockGrads& grads, BlockActivations& dacts,
                    const float* dout, const float* inp, const BlockActivations& acts,
                    const BlockParams& params, const BlockConfig& config) {
  const int B = config.B, T = config.T, C = config.C, H = config.H, F = config.F;
  const int N = B * T;  // tokens
  const int64_t NC = int64_t(N) * C;
  for (float* d : {dacts.ln1, dacts.attn_out, dacts.residual1, dacts.ln2, dacts.mlp_out,
                   dacts.residual2}) {
    std::fill_n(d, NC, 0.0f);
  }
  // lesson: block_backward
  if (config.norm == NormPlacement::Pre) {
    // out = r + mlp(ln2(r)): the gradient reaches r both directly and through the MLP.
    residual_backward(dacts.residual1, dacts.mlp_out, dout, NC);
    apply_dropout_mask(dacts.mlp_out, acts.mlp_dropout, NC, config);
    feedforward_backward(dacts.ln2, grads.mlp, dacts.mlp_hidden, dacts.mlp_activated,
                         dacts.mlp_out, acts.ln2, acts.mlp_hidden, acts.mlp_activated,
                         params.mlp, N, C, F, config.gelu);
    layernorm_backward(dacts.residual1, grads.ln2_weight, grads.ln2_bias, dacts.ln2,
                       acts.residual1, acts.ln2_mean, acts.ln2_rstd, params.ln2_weight, N, C);
    // r = x + attn(ln1(x)): likewise for x.
    residual_backward(dinp, dacts.attn_out, dacts.residual1, NC);
    apply_dropout_mask(dacts.attn_out, acts.attn_dropout, NC, config);
    multihead_attention_backward(dacts.ln1, grads.attn, dacts.attn, dacts.attn_out, acts.ln1,
                                 acts.attn, params.attn, B, T, C, H);
    layernorm_backward(dinp, grads.ln1_weight, grads.ln1_bias, dacts.ln1, inp, acts.ln1_mean,
                       acts.ln1_rstd, params.ln1_weight, N, C);
  } else {
    // out = ln2(r2), r2 = ln1 + mlp(ln1): ln1's output gets both paths' gradients.
    layernorm_backward(dacts.residual2, grads.ln2_weight, grads.ln2_bias, dout, acts.residual2,
                       acts.ln2_mean, acts.ln2_rstd, params.ln2_weight, N, C);
    residual_backward(dacts.ln1, dacts.mlp_out, dacts.residual2, NC);
    apply_dropout_mask(dacts.mlp_out, acts.mlp_dropout, NC, config);
    feedforward_backward(dacts.ln1, grads.mlp, dacts.mlp_hidden, dacts.mlp_activated,
                         dacts.mlp_out, acts.ln1, acts.mlp_hidden, acts.mlp_activated,
                         params.mlp, N, C, F, config.gelu);
    // ln1 = ln1(r1), r1 = x + attn(x): x gets the direct path and the attention's.
    layernorm_backward(dacts.residual1, grads.ln1_weight, grads.ln1_bias, dacts.ln1,
                       acts.residual1, acts.ln1_mean, acts.ln1_rstd, params.ln1_weight, N, C);
    residual_backward(dinp, dacts.attn_out, dacts.residual1, NC);
    apply_dropout_mask(dacts.attn_out, acts.attn_dropout, NC, config);
    multihead_attention_backward(dinp, grads.attn, dacts.attn, dacts.attn_out, inp, acts.attn,
                                 params.attn, B, T, C, H);
  }
  // end lesson
}

}  // namespace gpt
