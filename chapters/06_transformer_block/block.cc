// chapters/06_transformer_block/block.cc — chapter 06: a transformer block, pre-LN or post-LN.
// Exercise: block_exercise.cc is this file with the bodies removed.
//
// The recipe only: every step is a call on `ops` (block_ops.h), so this one
// text is the block of the plain, the fast and the CUDA engine alike.
#include "chapters/06_transformer_block/block.h"

#include <cstdint>

namespace gpt {
namespace {

// lesson: pre_ln
// GPT-2: normalise a copy of the stream for each sub-layer, add its output to
// the stream itself. x reaches the output unchanged plus two corrections.
void pre_ln_block(BlockOps& ops, float* out, BlockActivations& a, const float* x,
                  const BlockParams& p, const BlockConfig& c, Mode mode, int layer) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C;
  const bool train = mode == Mode::Train;  // apply the dropout masks
  ops.layernorm(a.ln1, a.ln1_mean, a.ln1_rstd, x, p.ln1_weight, p.ln1_bias, N, c.C, c.eps);
  ops.attention(a.attn_out, a.attn, a.ln1, p.attn, c, layer);
  ops.dropout_residual(a.residual1, x, a.attn_out, train ? a.attn_dropout : nullptr,
                       NC);                                     // r = x + attn(ln1(x))
  ops.layernorm(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual1, p.ln2_weight, p.ln2_bias, N, c.C,
                c.eps);
  ops.feedforward(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln2, p.mlp, c);
  ops.dropout_residual(a.residual2, a.residual1, a.mlp_out, train ? a.mlp_dropout : nullptr,
                       NC);                                     // r + mlp(ln2(r))
  if (out != a.residual2) ops.copy(out, a.residual2, NC);       // (B, T, C)
}
// end lesson

// lesson: post_ln
// The original transformer and GPT: add each sub-layer's output to its input,
// then normalise the sum. The stream itself passes through both LayerNorms.
void post_ln_block(BlockOps& ops, float* out, BlockActivations& a, const float* x,
                   const BlockParams& p, const BlockConfig& c, Mode mode, int layer) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C;
  const bool train = mode == Mode::Train;
  ops.attention(a.attn_out, a.attn, x, p.attn, c, layer);
  ops.dropout_residual(a.residual1, x, a.attn_out, train ? a.attn_dropout : nullptr,
                       NC);                                     // x + attn(x)
  ops.layernorm(a.ln1, a.ln1_mean, a.ln1_rstd, a.residual1, p.ln1_weight, p.ln1_bias, N, c.C,
                c.eps);                                         // r = ln1(x + attn(x))
  ops.feedforward(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln1, p.mlp, c);
  ops.dropout_residual(a.residual2, a.ln1, a.mlp_out, train ? a.mlp_dropout : nullptr,
                       NC);                                     // r + mlp(r)
  ops.layernorm(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, p.ln2_weight, p.ln2_bias, N, c.C,
                c.eps);                                         // ln2(r + mlp(r))
  if (out != a.ln2) ops.copy(out, a.ln2, NC);                   // (B, T, C)
}
// end lesson

}  // namespace

void block_forward(BlockOps& ops, float* out, BlockActivations& acts, const float* inp,
                   const BlockParams& params, const BlockConfig& config, Mode mode, int layer) {
  check_block_config(config);
  if (config.norm == NormPlacement::Pre) {
    pre_ln_block(ops, out, acts, inp, params, config, mode, layer);
  } else {
    post_ln_block(ops, out, acts, inp, params, config, mode, layer);
  }
}

}  // namespace gpt
