// chapters/10_fast_cpu/fast_gpt_backward.cc — chapter 08's backward pass on the fast ops.
#include <algorithm>
#include <string>
#include <utility>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/10_fast_cpu/fast_gpt.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {
namespace {

// The elementwise steps of the block's backward, on rows in parallel.
void fill_zero(float* x, int N, int C, int threads) {
  parallel_rows(N, threads, [&](int n) { std::fill_n(x + int64_t(n) * C, C, 0.0f); });
}
void add_into(float* dst, const float* src, int N, int C, int threads) {
  parallel_rows(N, threads, [&](int n) {
    for (int64_t i = int64_t(n) * C; i < int64_t(n + 1) * C; ++i) dst[i] += src[i];
  });
}
// dst = src ⊙ mask when training with dropout, else dst = src.
void copy_masked(float* dst, const float* src, const float* mask, bool dropout, int N, int C,
                 int threads) {
  parallel_rows(N, threads, [&](int n) {
    for (int64_t i = int64_t(n) * C; i < int64_t(n + 1) * C; ++i) {
      dst[i] = dropout ? src[i] * mask[i] : src[i];
    }
  });
}

// dx += d/dx of attn(x) given d(attn's output) = dbranch.
void attention_backward(float* dx, const AttentionGrads& g, BlockActivations& d,
                        const float* dbranch, const float* x, const BlockActivations& a,
                        const AttentionParams& p, const BlockConfig& c, int threads) {
  const int N = c.B * c.T;
  fill_zero(d.attn.merged, N, c.C, threads);
  fast_linear_backward(d.attn.merged, g.proj_weight, g.proj_bias, dbranch, a.attn.merged,
                       p.proj_weight, N, c.C, c.C, threads);
  fill_zero(d.attn.qkv, N, 3 * c.C, threads);
  fast_attention_backward(d.attn.qkv, d.attn.merged, a.attn.qkv, a.attn.weights, c.B, c.T, c.C,
                          c.H, threads);
  fast_linear_backward(dx, g.qkv_weight, g.qkv_bias, d.attn.qkv, x, p.qkv_weight, N, c.C,
                       3 * c.C, threads);
}

// dx += d/dx of mlp(x) given d(mlp's output) = dbranch.
void mlp_backward(float* dx, const FeedForwardGrads& g, BlockActivations& d, const float* dbranch,
                  const float* x, const BlockActivations& a, const FeedForwardParams& p,
                  const BlockConfig& c, int threads) {
  const int N = c.B * c.T;
  fill_zero(d.mlp_activated, N, c.F, threads);
  fast_linear_backward(d.mlp_activated, g.proj_weight, g.proj_bias, dbranch, a.mlp_activated,
                       p.proj_weight, N, c.F, c.C, threads);
  fill_zero(d.mlp_hidden, N, c.F, threads);
  fast_gelu_backward(d.mlp_hidden, d.mlp_activated, a.mlp_hidden, int64_t(N) * c.F, c.gelu,
                     threads);
  fast_linear_backward(dx, g.fc_weight, g.fc_bias, d.mlp_hidden, x, p.fc_weight, N, c.C, c.F,
                       threads);
}

// lesson: block_backward
// dinp (zero on entry) receives d(block input); d is scratch.
void fast_block_backward(float* dinp, const BlockGrads& g, BlockActivations& d,
                         const float* dout, const float* x, const BlockActivations& a,
                         const BlockParams& p, const BlockConfig& c, int threads) {
  const int N = c.B * c.T, C = c.C;
  const bool drop = c.dropout > 0;
  if (c.norm == NormPlacement::Pre) {
    // out = r + mlp(ln2(r))
    copy_masked(d.residual1, dout, nullptr, false, N, C, threads);
    copy_masked(d.mlp_out, dout, a.mlp_dropout, drop, N, C, threads);
    fill_zero(d.ln2, N, C, threads);
    mlp_backward(d.ln2, g.mlp, d, d.mlp_out, a.ln2, a, p.mlp, c, threads);
    fast_layernorm_backward(d.residual1, g.ln2_weight, g.ln2_bias, d.ln2, a.residual1,
                            a.ln2_mean, a.ln2_rstd, p.ln2_weight, N, C, threads);
    // r = x + attn(ln1(x))
    add_into(dinp, d.residual1, N, C, threads);
    copy_masked(d.attn_out, d.residual1, a.attn_dropout, drop, N, C, threads);
    fill_zero(d.ln1, N, C, threads);
    attention_backward(d.ln1, g.attn, d, d.attn_out, a.ln1, a, p.attn, c, threads);
    fast_layernorm_backward(dinp, g.ln1_weight, g.ln1_bias, d.ln1, x, a.ln1_mean, a.ln1_rstd,
                            p.ln1_weight, N, C, threads);
  } else {
    // out = ln2(r2), r2 = ln1 + mlp(ln1)
    fill_zero(d.residual2, N, C, threads);
    fast_layernorm_backward(d.residual2, g.ln2_weight, g.ln2_bias, dout, a.residual2,
                            a.ln2_mean, a.ln2_rstd, p.ln2_weight, N, C, threads);
    copy_masked(d.ln1, d.residual2, nullptr, false, N, C, threads);
    copy_masked(d.mlp_out, d.residual2, a.mlp_dropout, drop, N, C, threads);
    mlp_backward(d.ln1, g.mlp, d, d.mlp_out, a.ln1, a, p.mlp, c, threads);
    // ln1 = ln1(r1), r1 = x + attn(x)
    fill_zero(d.residual1, N, C, threads);
    fast_layernorm_backward(d.residual1, g.ln1_weight, g.ln1_bias, d.ln1, a.residual1,
                            a.ln1_mean, a.ln1_rstd, p.ln1_weight, N, C, threads);
    add_into(dinp, d.residual1, N, C, threads);
    copy_masked(d.attn_out, d.residual1, a.attn_dropout, drop, N, C, threads);
    attention_backward(dinp, g.attn, d, d.attn_out, x, a, p.attn, c, threads);
  }
}
// end lesson

}  // namespace

void fast_gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch, const int32_t* tokens,
                       const int32_t* targets, const GPTActivations& acts, const GPTModel& model,
                       int threads) {
  const GPTConfig& cfg = model.config;
  const int B = acts.B, T = acts.T, C = cfg.embed_size, V = cfg.vocab_size, L = cfg.num_layers;
  const int N = B * T;
  const GPTWeights w = model.weights();
  const BlockConfig bc = acts.block_config();
  scratch.carve(B, T);
  float* dout = scratch.dstream[0];
  float* dinp = scratch.dstream[1];

  fill_zero(scratch.dlogits, N, V, threads);
  fast_cross_entropy_backward(scratch.dlogits, 1.0f, acts.probs, targets, N, V, threads);
  float* dlm_head = cfg.tie_weights ? grads["wte.weight"] : grads["lm_head.weight"];
  fill_zero(scratch.dln_f, N, C, threads);
  fast_linear_backward(scratch.dln_f, dlm_head, nullptr, scratch.dlogits, acts.ln_f, w.lm_head,
                       N, C, V, threads);
  fill_zero(dout, N, C, threads);
  fast_layernorm_backward(dout, grads["ln_f.weight"], grads["ln_f.bias"], scratch.dln_f,
                          acts.block_out[L - 1], acts.ln_f_mean, acts.ln_f_rstd, w.ln_f_weight, N,
                          C, threads);
  for (int l = L - 1; l >= 0; --l) {
    const float* x_in = l > 0 ? acts.block_out[l - 1] : acts.embeddings;
    fill_zero(dinp, N, C, threads);
    fast_block_backward(dinp, block_grads(grads, l), scratch.dblock, dout, x_in, acts.blocks[l],
                        w.blocks[l], bc, threads);
    std::swap(dout, dinp);
  }
  if (acts.dropout > 0) {
    dropout_forward(dout, dout, acts.embedding_dropout, int64_t(N) * C);
  }
  float* dwpe = cfg.positions == Positions::Learned ? grads["wpe.weight"] : nullptr;
  embedding_backward(grads["wte.weight"], dwpe, dout, tokens, B, T, C, V);
}

}  // namespace gpt
