// chapters/14_cuda_gpt/gpt_forward_gpu.cc — chapter 14: composing chapters 11–13 into a GPT.
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/softmax.h"
#include "chapters/13_cuda_attention/attention.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// Chapter 04's multi-head attention: the two projections around the core.
void attention_forward_gpu(float* out, AttentionActivations& a, const float* inp,
                           const AttentionParams& p, const BlockConfig& c, int layer,
                           const AttentionCore& core, const GpuOptions& o) {
  const int BT = c.B * c.T;
  linear_forward(a.qkv, inp, p.qkv_weight, p.qkv_bias, BT, c.C, 3 * c.C, o.matmul);  // (B, T, 3C)
  mark(o, "matmul");
  core(a, layer);                                                                 // (B, T, C)
  linear_forward(out, a.merged, p.proj_weight, p.proj_bias, BT, c.C, c.C, o.matmul);  // (B, T, C)
  mark(o, "matmul");
}

// Chapter 05's feed-forward network.
void feedforward_forward_gpu(float* out, float* hidden, float* activated, const float* inp,
                             const FeedForwardParams& p, const BlockConfig& c,
                             const GpuOptions& o) {
  const int N = c.B * c.T;
  linear_forward(hidden, inp, p.fc_weight, p.fc_bias, N, c.C, c.F, o.matmul);         // (N, F)
  mark(o, "matmul");
  cuda::gelu_forward(activated, hidden, int64_t(N) * c.F, c.gelu);                    // (N, F)
  mark(o, "gelu");
  linear_forward(out, activated, p.proj_weight, p.proj_bias, N, c.F, c.C, o.matmul);  // (N, C)
  mark(o, "matmul");
}

void dropout_if_training(float* x, const float* mask, int64_t n, float dropout,
                         const GpuOptions& o) {
  if (dropout <= 0) return;
  dropout_forward(x, x, mask, n);
  mark(o, "dropout");
}

// Chapter 07's ops throw std::out_of_range on an id outside the vocabulary.
void check_ids(const char* what, const int32_t* ids, int64_t n, int V) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw std::out_of_range(std::string(what) + " " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside the vocabulary [0, " +
                              std::to_string(V) + ")");
    }
  }
}

}  // namespace

bool uses_flash(const GpuOptions& o, int N, int T, int hs) {
  if (!o.flash) return false;
  try {
    check_flash_sizes("flash attention", N, T, hs);
    return true;
  } catch (const std::invalid_argument&) {
    return false;  // a head size the fused kernels do not take: the naive kernels run
  }
}

// lesson: block_forward
void block_forward(float* out, BlockActivations& a, const float* x, const BlockParams& p,
                   const BlockConfig& c, int layer, const AttentionCore& core,
                   const GpuOptions& o) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C;
  if (c.norm == NormPlacement::Pre) {  // r = x + attn(ln1(x));  out = r + mlp(ln2(r))
    layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, p.ln1_weight, p.ln1_bias, N, c.C, c.eps);
    mark(o, "layernorm");
    attention_forward_gpu(a.attn_out, a.attn, a.ln1, p.attn, c, layer, core, o);
    dropout_if_training(a.attn_out, a.attn_dropout, NC, c.dropout, o);
    residual_forward(a.residual1, x, a.attn_out, NC);
    mark(o, "residual");
    layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual1, p.ln2_weight, p.ln2_bias, N,
                      c.C, c.eps);
    mark(o, "layernorm");
    feedforward_forward_gpu(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln2, p.mlp, c, o);
    dropout_if_training(a.mlp_out, a.mlp_dropout, NC, c.dropout, o);
    residual_forward(a.residual2, a.residual1, a.mlp_out, NC);
    mark(o, "residual");
  } else {  // r = ln1(x + attn(x));  out = ln2(r + mlp(r))
    attention_forward_gpu(a.attn_out, a.attn, x, p.attn, c, layer, core, o);
    dropout_if_training(a.attn_out, a.attn_dropout, NC, c.dropout, o);
    residual_forward(a.residual1, x, a.attn_out, NC);
    mark(o, "residual");
    layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.residual1, p.ln1_weight, p.ln1_bias, N,
                      c.C, c.eps);
    mark(o, "layernorm");
    feedforward_forward_gpu(a.mlp_out, a.mlp_hidden, a.mlp_activated, a.ln1, p.mlp, c, o);
    dropout_if_training(a.mlp_out, a.mlp_dropout, NC, c.dropout, o);
    residual_forward(a.residual2, a.ln1, a.mlp_out, NC);
    mark(o, "residual");
    layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, p.ln2_weight, p.ln2_bias, N,
                      c.C, c.eps);
    mark(o, "layernorm");
  }
  const float* result = c.norm == NormPlacement::Pre ? a.residual2 : a.ln2;
  CUDA_CHECK(cudaMemcpyAsync(out, result, NC * sizeof(float), cudaMemcpyDeviceToDevice));
  mark(o, "copy");
}
// end lesson

// lesson: gpt_forward_tokens
void gpt_forward_tokens(GpuActivations& acts, const DeviceModel& model, int B, int T,
                        int first_position, const AttentionCore& core, const GpuOptions& o) {
  const GPTConfig& c = model.config();
  const GPTWeights& w = model.weights();  // device pointers into the one parameter buffer
  const int C = c.embed_size, V = c.vocab_size;
  const float* positions = w.positions + int64_t(first_position) * C;  // rows from first_position
  embedding_forward(acts.embeddings, acts.tokens, w.wte, positions, B, T, C, V);  // (B, T, C)
  mark(o, "embedding");
  dropout_if_training(acts.embeddings, acts.embedding_dropout, int64_t(B) * T * C, acts.dropout,
                      o);
  const float* x = acts.embeddings;
  for (int l = 0; l < c.num_layers; ++l) {
    block_forward(acts.block_out[l], acts.blocks[l], x, w.blocks[l], acts.block_config(), l,
                  core, o);
    x = acts.block_out[l];                                                          // (B, T, C)
  }
  layernorm_forward(acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, x, w.ln_f_weight, w.ln_f_bias,
                    B * T, C, c.layernorm_eps);                                     // (B, T, C)
  mark(o, "layernorm");
  linear_forward(acts.logits, acts.ln_f, w.lm_head, nullptr, B * T, C, V, o.matmul);  // (B, T, V)
  mark(o, "matmul");
}
// end lesson

// lesson: all_positions
AttentionCore all_positions(GpuActivations& acts, int B, int T, const GpuOptions& o) {
  const GPTConfig& c = acts.config();
  const int C = c.embed_size, H = c.heads, hs = c.head_size();
  return [&acts, B, T, C, H, hs, o](AttentionActivations& a, int layer) {
    split_heads(a.q, a.k, a.v, a.qkv, B, T, C, H);  // (B, H, T, hs) x3
    mark(o, "heads");
    if (uses_flash(o, B * H, T, hs)) {
      flash_attention_forward(a.y, acts.lse[layer], a.q, a.k, a.v, B * H, T, hs);
    } else {
      attention_forward(a.y, a.weights, a.q, a.k, a.v, B * H, T, hs);
    }
    mark(o, "attention");
    merge_heads(a.merged, a.y, B, T, C, H);  // (B, T, C)
    mark(o, "heads");
  };
}
// end lesson

// lesson: gpt_forward
void gpt_forward(GpuActivations& acts, const int32_t* tokens, const DeviceModel& model, int B,
                 int T, const GpuOptions& o) {
  const GPTConfig& c = model.config();
  if (T > c.max_length) {
    throw std::invalid_argument("sequence of " + std::to_string(T) + " tokens is longer than " +
                                "max_length (" + std::to_string(c.max_length) + ")");
  }
  check_ids("token", tokens, int64_t(B) * T, c.vocab_size);  // a kernel cannot throw: check here
  acts.carve(B, T);
  CUDA_CHECK(cudaMemcpy(acts.tokens, tokens, size_t(B) * T * sizeof(int32_t),
                        cudaMemcpyHostToDevice));
  gpt_forward_tokens(acts, model, B, T, 0, all_positions(acts, B, T, o), o);
}
// end lesson

float gpt_forward_loss(GpuActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const DeviceModel& model, int B, int T, const GpuOptions& o) {
  const int V = model.config().vocab_size;
  check_ids("target", targets, int64_t(B) * T, V);
  gpt_forward(acts, tokens, model, B, T, o);
  CUDA_CHECK(cudaMemcpy(acts.targets, targets, size_t(B) * T * sizeof(int32_t),
                        cudaMemcpyHostToDevice));
  const float loss = cross_entropy_forward(acts.losses, acts.probs, acts.logits, acts.targets,
                                           B * T, V);
  mark(o, "cross_entropy");
  return loss;
}

}  // namespace gpt::cuda
