// chapters/10_fast_cpu/fast_gpt_forward.cc — chapter 07's forward pass on the fast ops.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/06_transformer_block/dropout.h"
#include "chapters/10_fast_cpu/fast_gpt.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {
namespace {

// out = x + branch, after branch ⊙= mask when training: one pass.
void dropout_residual(float* out, const float* x, float* branch, const float* mask, int N, int C,
                      bool dropout, int threads) {
  parallel_rows(N, threads, [&](int n) {
    const int64_t o = int64_t(n) * C;
    for (int j = 0; j < C; ++j) {
      if (dropout) branch[o + j] *= mask[o + j];
      out[o + j] = x[o + j] + branch[o + j];
    }
  });
}

// Chapter 06's block: the sub-layers of both arrangements, fast.
void attention_sublayer(float* out, BlockActivations& a, const float* x, const BlockParams& p,
                        const BlockConfig& c, int threads) {
  const int N = c.B * c.T;
  fast_linear_forward(a.attn.qkv, x, p.attn.qkv_weight, p.attn.qkv_bias, N, c.C, 3 * c.C,
                      threads);                                                   // (B, T, 3C)
  fast_attention_forward(a.attn.merged, a.attn.weights, a.attn.qkv, c.B, c.T, c.C, c.H,
                         threads);                                                // (B, T, C)
  fast_linear_forward(out, a.attn.merged, p.attn.proj_weight, p.attn.proj_bias, N, c.C, c.C,
                      threads);                                                   // (B, T, C)
}

void mlp_sublayer(float* out, BlockActivations& a, const float* x, const BlockParams& p,
                  const BlockConfig& c, int threads) {
  const int N = c.B * c.T;
  fast_linear_forward(a.mlp_hidden, x, p.mlp.fc_weight, nullptr, N, c.C, c.F, threads);
  fast_bias_gelu_forward(a.mlp_activated, a.mlp_hidden, p.mlp.fc_bias, N, c.F, c.gelu,
                         threads);                                                // (B, T, F)
  fast_linear_forward(out, a.mlp_activated, p.mlp.proj_weight, p.mlp.proj_bias, N, c.F, c.C,
                      threads);                                                   // (B, T, C)
}

// lesson: block
void fast_block_forward(BlockActivations& a, const float* x, const BlockParams& p,
                        const BlockConfig& c, int threads) {
  const int N = c.B * c.T;
  const bool drop = c.dropout > 0;
  if (c.norm == NormPlacement::Pre) {  // r = x + attn(ln1(x));  out = r + mlp(ln2(r))
    fast_layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, p.ln1_weight, p.ln1_bias, N, c.C,
                           c.eps, threads);
    attention_sublayer(a.attn_out, a, a.ln1, p, c, threads);
    dropout_residual(a.residual1, x, a.attn_out, a.attn_dropout, N, c.C, drop, threads);
    fast_layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual1, p.ln2_weight, p.ln2_bias,
                           N, c.C, c.eps, threads);
    mlp_sublayer(a.mlp_out, a, a.ln2, p, c, threads);
    dropout_residual(a.residual2, a.residual1, a.mlp_out, a.mlp_dropout, N, c.C, drop, threads);
  } else {  // r = ln1(x + attn(x));  out = ln2(r + mlp(r))
    attention_sublayer(a.attn_out, a, x, p, c, threads);
    dropout_residual(a.residual1, x, a.attn_out, a.attn_dropout, N, c.C, drop, threads);
    fast_layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.residual1, p.ln1_weight, p.ln1_bias,
                           N, c.C, c.eps, threads);
    mlp_sublayer(a.mlp_out, a, a.ln1, p, c, threads);
    dropout_residual(a.residual2, a.ln1, a.mlp_out, a.mlp_dropout, N, c.C, drop, threads);
    fast_layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, p.ln2_weight, p.ln2_bias,
                           N, c.C, c.eps, threads);
  }
}
// end lesson

}  // namespace

float fast_gpt_forward(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T, int threads) {
  const GPTConfig& cfg = model.config;
  if (T > cfg.max_length) {
    throw std::invalid_argument("sequence of " + std::to_string(T) +
                                " tokens is longer than max_length (" +
                                std::to_string(cfg.max_length) + ")");
  }
  acts.carve(B, T);
  const GPTWeights w = model.weights();
  const int C = cfg.embed_size, V = cfg.vocab_size, N = B * T;
  const BlockConfig bc = acts.block_config();
  embedding_forward(acts.embeddings, tokens, w.wte, w.positions, B, T, C, V);  // (B, T, C)
  if (acts.dropout > 0) {
    dropout_forward(acts.embeddings, acts.embeddings, acts.embedding_dropout, int64_t(N) * C);
  }
  const float* x = acts.embeddings;
  for (int l = 0; l < cfg.num_layers; ++l) {
    const BlockActivations& a = acts.blocks[l];
    fast_block_forward(acts.blocks[l], x, w.blocks[l], bc, threads);
    const float* out = bc.norm == NormPlacement::Pre ? a.residual2 : a.ln2;
    parallel_rows(N, threads, [&](int n) {  // kept where chapter 07 keeps it
      std::copy_n(out + int64_t(n) * C, C, acts.block_out[l] + int64_t(n) * C);
    });
    x = acts.block_out[l];                                                      // (B, T, C)
  }
  fast_layernorm_forward(acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, x, w.ln_f_weight,
                         w.ln_f_bias, N, C, cfg.layernorm_eps, threads);       // (B, T, C)
  fast_linear_forward(acts.logits, acts.ln_f, w.lm_head, nullptr, N, C, V, threads);  // (B, T, V)
  if (!targets) return 0.0f;
  for (int n = 0; n < N; ++n) {
    if (targets[n] < 0 || targets[n] >= V) {
      throw std::out_of_range("target id " + std::to_string(targets[n]) +
                              " outside the vocabulary [0, " + std::to_string(V) + ")");
    }
  }
  return fast_cross_entropy_forward(acts.losses, acts.probs, acts.logits, targets, N, V, threads);
}

}  // namespace gpt
