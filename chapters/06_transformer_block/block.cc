// chapters/06_transformer_block/block.cc — chapter 06: a transformer block, pre-LN or post-LN.
// Exercise: block_exercise.cc is this file with the bodies removed.
#include "chapters/06_transformer_block/block.h"

#include <algorithm>
#include <cstdint>

#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/dropout.h"
#include "chapters/06_transformer_block/residual.h"

namespace gpt {
namespace {

// lesson: pre_ln
// GPT-2: normalise a copy of the stream for each sub-layer, add its output to
// the stream itself. x reaches the output unchanged plus two corrections.
void pre_ln_block(float* out, BlockActivations& a, const float* x, const BlockParams& p,
                  const BlockConfig& c) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C;
  layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, p.ln1_weight, p.ln1_bias, N, c.C, c.eps);
  multihead_attention_forward(a.attn_out, a.attn, a.ln1, p.attn, c.B, c.T, c.C, c.H);
  if (c.dropout > 0) dropout_forward(a.attn_out, a.attn_out, a.attn_dropout, NC);
  residual_forward(a.residual1, x, a.attn_out, NC);            // r = x + attn(ln1(x))
  layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual1, p.ln2_weight, p.ln2_bias, N,
                    c.C, c.eps);
  feedforward_forward(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln2, p.mlp, N, c.C, c.F,
                      c.gelu);
  if (c.dropout > 0) dropout_forward(a.mlp_out, a.mlp_out, a.mlp_dropout, NC);
  residual_forward(a.residual2, a.residual1, a.mlp_out, NC);   // r + mlp(ln2(r))
  std::copy(a.residual2, a.residual2 + NC, out);               // (B, T, C)
}
// end lesson

// lesson: post_ln
// The original transformer and GPT: add each sub-layer's output to its input,
// then normalise the sum. The stream itself passes through both LayerNorms.
void post_ln_block(float* out, BlockActivations& a, const float* x, const BlockParams& p,
                   const BlockConfig& c) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C;
  multihead_attention_forward(a.attn_out, a.attn, x, p.attn, c.B, c.T, c.C, c.H);
  if (c.dropout > 0) dropout_forward(a.attn_out, a.attn_out, a.attn_dropout, NC);
  residual_forward(a.residual1, x, a.attn_out, NC);            // x + attn(x)
  layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.residual1, p.ln1_weight, p.ln1_bias, N,
                    c.C, c.eps);                                // r = ln1(x + attn(x))
  feedforward_forward(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln1, p.mlp, N, c.C, c.F,
                      c.gelu);
  if (c.dropout > 0) dropout_forward(a.mlp_out, a.mlp_out, a.mlp_dropout, NC);
  residual_forward(a.residual2, a.ln1, a.mlp_out, NC);         // r + mlp(r)
  layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, p.ln2_weight, p.ln2_bias, N,
                    c.C, c.eps);                                // ln2(r + mlp(r))
  std::copy(a.ln2, a.ln2 + NC, out);                           // (B, T, C)
}
// end lesson

}  // namespace

void block_forward(float* out, BlockActivations& acts, const float* inp, const BlockParams& params,
                   const BlockConfig& config) {
  check_block_config(config);
  if (config.norm == NormPlacement::Pre) {
    pre_ln_block(out, acts, inp, params, config);
  } else {
    post_ln_block(out, acts, inp, params, config);
  }
}

}  // namespace gpt
