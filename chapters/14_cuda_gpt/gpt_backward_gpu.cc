// chapters/14_cuda_gpt/gpt_backward_gpu.cc — chapter 14: chapter 08, read on the GPU.
#include "chapters/14_cuda_gpt/gpt_backward_gpu.h"

#include <stdexcept>

#include <utility>

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

void zero(float* d, int64_t n) { CUDA_CHECK(cudaMemsetAsync(d, 0, n * sizeof(float))); }

// The exercise's views of block l's gradients; an unfinished exercise must
// fail a test cleanly, not crash it with null device pointers.
BlockGrads checked_block_grads(const ParameterLayout& layout, float* grads, int l) {
  const BlockGrads g = device_block_grads(layout, grads, l);
  if (g.ln1_weight == nullptr || g.mlp.fc_weight == nullptr) {
    throw std::logic_error(
        "device_block_grads returned incomplete views: finish chapter 14's exercise, "
        "device_views.cc");
  }
  return g;
}

void dropout_if_training(float* d, const float* mask, int64_t n, float dropout,
                         const GpuOptions& o) {
  if (dropout <= 0) return;
  dropout_forward(d, d, mask, n);  // the gradient of x ⊙ mask is mask
  mark(o, "dropout");
}

// Chapter 08's multihead_attention_backward.
void attention_backward_gpu(float* dinp, const AttentionGrads& g, AttentionActivations& d,
                            const float* dout, const float* inp, const AttentionActivations& a,
                            const float* lse, const AttentionParams& p, const BlockConfig& c,
                            const GpuOptions& o) {
  const int B = c.B, T = c.T, C = c.C, H = c.H, hs = C / H, BT = B * T;
  for (float* buffer : {d.merged, d.y, d.q, d.k, d.v}) zero(buffer, int64_t(BT) * C);
  zero(d.qkv, int64_t(BT) * 3 * C);
  linear_backward(d.merged, g.proj_weight, g.proj_bias, dout, a.merged, p.proj_weight, BT, C, C,
                  o.matmul);
  mark(o, "matmul");
  merge_heads_backward(d.y, d.merged, B, T, C, H);
  mark(o, "heads");
  if (uses_flash(o, B * H, T, hs)) {
    flash_attention_backward(d.q, d.k, d.v, d.y, a.q, a.k, a.v, a.y, lse, B * H, T, hs);
  } else {
    attention_backward(d.q, d.k, d.v, d.y, a.q, a.k, a.v, a.weights, B * H, T, hs);
  }
  mark(o, "attention");
  split_heads_backward(d.qkv, d.q, d.k, d.v, B, T, C, H);
  mark(o, "heads");
  linear_backward(dinp, g.qkv_weight, g.qkv_bias, d.qkv, inp, p.qkv_weight, BT, C, 3 * C,
                  o.matmul);
  mark(o, "matmul");
}

// Chapter 08's feedforward_backward.
void feedforward_backward_gpu(float* dinp, const FeedForwardGrads& g, float* dhidden,
                              float* dactivated, const float* dout, const float* inp,
                              const float* hidden, const float* activated,
                              const FeedForwardParams& p, const BlockConfig& c,
                              const GpuOptions& o) {
  const int N = c.B * c.T;
  zero(dactivated, int64_t(N) * c.F);
  zero(dhidden, int64_t(N) * c.F);
  linear_backward(dactivated, g.proj_weight, g.proj_bias, dout, activated, p.proj_weight, N, c.F,
                  c.C, o.matmul);
  mark(o, "matmul");
  cuda::gelu_backward(dhidden, dactivated, hidden, int64_t(N) * c.F, c.gelu);
  mark(o, "gelu");
  linear_backward(dinp, g.fc_weight, g.fc_bias, dhidden, inp, p.fc_weight, N, c.C, c.F, o.matmul);
  mark(o, "matmul");
}

// lesson: block_backward
// Chapter 08's block_backward: ADDS into dinp and the block's gradients.
void block_backward(float* dinp, const BlockGrads& g, BlockActivations& d, const float* dout,
                    const float* inp, const BlockActivations& a, const float* lse,
                    const BlockParams& p, const BlockConfig& c, const GpuOptions& o) {
  const int N = c.B * c.T, C = c.C;
  const int64_t NC = int64_t(N) * C;
  for (float* buffer : {d.ln1, d.attn_out, d.residual1, d.ln2, d.mlp_out, d.residual2}) {
    zero(buffer, NC);
  }
  if (c.norm == NormPlacement::Pre) {
    residual_backward(d.residual1, d.mlp_out, dout, NC);
    mark(o, "residual");
    dropout_if_training(d.mlp_out, a.mlp_dropout, NC, c.dropout, o);
    feedforward_backward_gpu(d.ln2, g.mlp, d.mlp_hidden, d.mlp_activated, d.mlp_out, a.ln2,
                             a.mlp_hidden, a.mlp_activated, p.mlp, c, o);
    layernorm_backward(d.residual1, g.ln2_weight, g.ln2_bias, d.ln2, a.residual1, a.ln2_mean,
                       a.ln2_rstd, p.ln2_weight, N, C);
    mark(o, "layernorm");
    residual_backward(dinp, d.attn_out, d.residual1, NC);
    mark(o, "residual");
    dropout_if_training(d.attn_out, a.attn_dropout, NC, c.dropout, o);
    attention_backward_gpu(d.ln1, g.attn, d.attn, d.attn_out, a.ln1, a.attn, lse, p.attn, c, o);
    layernorm_backward(dinp, g.ln1_weight, g.ln1_bias, d.ln1, inp, a.ln1_mean, a.ln1_rstd,
                       p.ln1_weight, N, C);
    mark(o, "layernorm");
  } else {
    layernorm_backward(d.residual2, g.ln2_weight, g.ln2_bias, dout, a.residual2, a.ln2_mean,
                       a.ln2_rstd, p.ln2_weight, N, C);
    mark(o, "layernorm");
    residual_backward(d.ln1, d.mlp_out, d.residual2, NC);
    mark(o, "residual");
    dropout_if_training(d.mlp_out, a.mlp_dropout, NC, c.dropout, o);
    feedforward_backward_gpu(d.ln1, g.mlp, d.mlp_hidden, d.mlp_activated, d.mlp_out, a.ln1,
                             a.mlp_hidden, a.mlp_activated, p.mlp, c, o);
    layernorm_backward(d.residual1, g.ln1_weight, g.ln1_bias, d.ln1, a.residual1, a.ln1_mean,
                       a.ln1_rstd, p.ln1_weight, N, C);
    mark(o, "layernorm");
    residual_backward(dinp, d.attn_out, d.residual1, NC);
    mark(o, "residual");
    dropout_if_training(d.attn_out, a.attn_dropout, NC, c.dropout, o);
    attention_backward_gpu(dinp, g.attn, d.attn, d.attn_out, inp, a.attn, lse, p.attn, c, o);
  }
}
// end lesson

}  // namespace

// lesson: gpt_backward
void gpt_backward(float* grads, GpuBackwardScratch& s, const GpuActivations& acts,
                  const DeviceModel& model, const GpuOptions& o) {
  const GPTConfig& c = model.config();
  const ParameterLayout& layout = model.layout();
  const GPTWeights& w = model.weights();
  const int B = acts.B, T = acts.T, C = c.embed_size, V = c.vocab_size, L = c.num_layers;
  const int N = B * T;
  const auto slot = [&](const std::string& name) { return device_slot(layout, grads, name); };
  s.carve(B, T);
  zero(s.dlogits, int64_t(N) * V);
  zero(s.dln_f, int64_t(N) * C);
  float* dout = s.dstream[0];  // d(output of the block being processed)
  float* dinp = s.dstream[1];  // d(its input)
  zero(dout, int64_t(N) * C);

  cross_entropy_backward(s.dlogits, 1.0f, acts.probs, acts.targets, N, V);
  mark(o, "cross_entropy");
  float* dlm_head = c.tie_weights ? slot("wte.weight") : slot("lm_head.weight");
  linear_backward(s.dln_f, dlm_head, nullptr, s.dlogits, acts.ln_f, w.lm_head, N, C, V, o.matmul);
  mark(o, "matmul");
  layernorm_backward(dout, slot("ln_f.weight"), slot("ln_f.bias"), s.dln_f, acts.block_out[L - 1],
                     acts.ln_f_mean, acts.ln_f_rstd, w.ln_f_weight, N, C);
  mark(o, "layernorm");
  for (int l = L - 1; l >= 0; --l) {
    const float* x_in = l > 0 ? acts.block_out[l - 1] : acts.embeddings;
    zero(dinp, int64_t(N) * C);
    block_backward(dinp, checked_block_grads(layout, grads, l), s.dblock, dout, x_in,
                   acts.blocks[l], acts.lse[l], w.blocks[l], acts.block_config(), o);
    std::swap(dout, dinp);
  }
  dropout_if_training(dout, acts.embedding_dropout, int64_t(N) * C, acts.dropout, o);
  float* dwpe = c.positions == Positions::Learned ? slot("wpe.weight") : nullptr;
  embedding_backward(slot("wte.weight"), dwpe, dout, acts.tokens, B, T, C, V);
  mark(o, "embedding");
}
// end lesson

}  // namespace gpt::cuda
