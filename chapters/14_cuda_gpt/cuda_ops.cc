// chapters/14_cuda_gpt/cuda_ops.cc — each step of the model as chapter 11–13 kernels.
#include "chapters/14_cuda_gpt/cuda_ops.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/softmax.h"
#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/13_cuda_attention/attention.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

// The products in the format the options name (product_kernels.h).
ProductKernels& CudaOps::products() { return *products_of(options_); }

// ---- forward ----------------------------------------------------------------

void CudaOps::layernorm(float* out, float* mean, float* rstd, const float* inp,
                        const float* weight, const float* bias, int N, int C, float eps) {
  cuda::layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
  mark(options_, "layernorm");
}

// lesson: attention
// Chapter 04's multi-head attention: the two projections around attention proper.
void CudaOps::attention(float* out, AttentionActivations& a, const float* x,
                        const AttentionParams& p, const BlockConfig& c, int layer) {
  const int BT = c.B * c.T;
  products().linear_forward(a.qkv, x, p.qkv_weight, p.qkv_bias, BT, c.C, 3 * c.C);  // (B, T, 3C)
  mark(options_, "matmul");
  attend(a, c, layer);                                                             // (B, T, C)
  products().linear_forward(out, a.merged, p.proj_weight, p.proj_bias, BT, c.C, c.C);  // (B, T, C)
  mark(options_, "matmul");
}

void CudaOps::attend(AttentionActivations& a, const BlockConfig& c, int layer) {
  if (attends_in_place(a, c)) {  // the format's fused kernels, on the heads where they sit
    products().attention_in_place_forward(a.merged, a.lse, a.qkv, c.B, c.T, c.C, c.H);
    mark(options_, "attention");
    return;
  }
  attend_on_split_heads(a, c, layer);
}

void CudaOps::attend_on_split_heads(AttentionActivations& a, const BlockConfig& c, int /*layer*/) {
  const int hs = c.C / c.H, N = c.B * c.H;
  cuda::split_heads(a.q, a.k, a.v, a.qkv, c.B, c.T, c.C, c.H);  // (B, H, T, hs) x3
  mark(options_, "heads");
  if (fused_attention(a, c)) {
    products().attention_forward(a.y, a.lse, a.q, a.k, a.v, N, c.T, hs);  // the format's, fused
  } else {
    cuda::attention_forward(a.y, a.weights, a.q, a.k, a.v, c.B * c.H, c.T, hs);
  }
  mark(options_, "attention");
  cuda::merge_heads(a.merged, a.y, c.B, c.T, c.C, c.H);  // (B, T, C)
  mark(options_, "heads");
}

// Without carved weights (GpuActivations) the fused kernel is the only choice.
bool CudaOps::fused_attention(const AttentionActivations& a, const BlockConfig& c) {
  const int hs = c.C / c.H;
  return a.lse != nullptr && (a.weights == nullptr || uses_flash(options_, c.B * c.H, c.T, hs));
}

// Without carved split heads, the heads where they sit are the only choice.
bool CudaOps::attends_in_place(const AttentionActivations& a, const BlockConfig& c) {
  const bool in_place =
      fused_attention(a, c) && products().has_attention_in_place(c.B, c.T, c.C, c.H);
  if (!in_place && a.q == nullptr) {
    throw std::logic_error("attention at B=" + std::to_string(c.B) + ", T=" +
                           std::to_string(c.T) + ": the activations keep no split heads, and " +
                           products().name() + " does not take these heads in place");
  }
  return in_place;
}
// end lesson

void CudaOps::feedforward(float* out, float* hidden, float* activated, const float* x,
                          const FeedForwardParams& p, const BlockConfig& c) {
  const int N = c.B * c.T;
  if (products().has_feedforward(c.F)) {  // the format's, whole
    products().feedforward_forward(out, hidden, activated, x, p, N, c.C, c.F, c.gelu);
    mark(options_, "feedforward");
    return;
  }
  products().linear_forward(hidden, x, p.fc_weight, p.fc_bias, N, c.C, c.F);  // (N, F)
  mark(options_, "matmul");
  cuda::gelu_forward(activated, hidden, int64_t(N) * c.F, c.gelu);                       // (N, F)
  mark(options_, "gelu");
  products().linear_forward(out, activated, p.proj_weight, p.proj_bias, N, c.F, c.C);  // (N, C)
  mark(options_, "matmul");
}

void CudaOps::dropout_residual(float* out, const float* x, float* branch, const float* mask,
                               int64_t n) {
  if (mask != nullptr) apply_mask(branch, mask, n);
  cuda::residual_forward(out, x, branch, n);
  mark(options_, "residual");
}

void CudaOps::apply_mask(float* x, const float* mask, int64_t n) {
  cuda::dropout_forward(x, x, mask, n);
  mark(options_, "dropout");
}

void CudaOps::copy(float* dst, const float* src, int64_t n) {
  CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice));
  mark(options_, "copy");
}

void CudaOps::embedding(float* out, const int32_t* tokens, const float* wte,
                        const float* positions, int B, int T, int C, int V) {
  cuda::embedding_forward(out, tokens, wte, positions, B, T, C, V);
  mark(options_, "embedding");
}

void CudaOps::linear(float* out, const float* inp, const float* weight, const float* bias, int N,
                     int IC, int OC) {
  products().linear_forward(out, inp, weight, bias, N, IC, OC);
  mark(options_, "matmul");
}

float CudaOps::cross_entropy(float* losses, float* probs, const float* logits,
                             const int32_t* targets, int N, int V) {
  const float loss = cuda::cross_entropy_forward(losses, probs, logits, targets, N, V);
  mark(options_, "cross_entropy");
  return loss;
}

bool CudaOps::fuses_classifier_loss(int V) const {
  return products_of(options_)->has_classifier_loss(V);
}

float CudaOps::classifier_loss(float* losses, float* logits, const float* x, const float* weight,
                               const int32_t* targets, int N, int C, int V) {
  const float loss = products().classifier_loss(losses, logits, x, weight, targets, N, C, V);
  mark(options_, "classifier_loss");
  return loss;
}

void CudaOps::upload_ids(int32_t* dst, const int32_t* src, int64_t n) {
  CUDA_CHECK(cudaMemcpy(dst, src, size_t(n) * sizeof(int32_t), cudaMemcpyHostToDevice));
}

// ---- backward -----------------------------------------------------------------

void CudaOps::zero(float* x, int64_t n) {
  CUDA_CHECK(cudaMemsetAsync(x, 0, size_t(n) * sizeof(float)));
}

void CudaOps::layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                 const float* inp, const float* mean, const float* rstd,
                                 const float* weight, int N, int C) {
  cuda::layernorm_backward(dinp, dweight, dbias, dout, inp, mean, rstd, weight, N, C);
  mark(options_, "layernorm");
}

// lesson: attention_backward
// Chapter 08's multihead_attention_backward, with the format's fused
// backward where the forward ran the fused kernel.
void CudaOps::attention_backward(float* dinp, const AttentionGrads& g, AttentionActivations& d,
                                 const float* dout, const float* inp,
                                 const AttentionActivations& a, const AttentionParams& p,
                                 const BlockConfig& c) {
  const int B = c.B, T = c.T, C = c.C, H = c.H, hs = C / H, BT = B * T;
  const bool in_place = attends_in_place(a, c);  // as the forward did
  if (!in_place && d.q == nullptr) {  // the forward split the heads: so must the backward
    throw std::logic_error("attention's backward: the scratch keeps no split heads");
  }
  zero(d.merged, int64_t(BT) * C);
  zero(d.qkv, int64_t(BT) * 3 * C);
  products().linear_backward(d.merged, g.proj_weight, g.proj_bias, dout, a.merged, p.proj_weight,
                             BT, C, C);
  mark(options_, "matmul");
  if (in_place) {  // the format's, from and into the heads where they sit
    products().attention_in_place_backward(d.qkv, d.merged, a.qkv, a.merged, a.lse, B, T, C, H);
    mark(options_, "attention");
  } else {
    for (float* buffer : {d.y, d.q, d.k, d.v}) zero(buffer, int64_t(BT) * C);
    cuda::merge_heads_backward(d.y, d.merged, B, T, C, H);
    mark(options_, "heads");
    if (fused_attention(a, c)) {
      products().attention_backward(d.q, d.k, d.v, d.y, a.q, a.k, a.v, a.y, a.lse, B * H, T, hs);
    } else {
      cuda::attention_backward(d.q, d.k, d.v, d.y, a.q, a.k, a.v, a.weights, B * H, T, hs);
    }
    mark(options_, "attention");
    cuda::split_heads_backward(d.qkv, d.q, d.k, d.v, B, T, C, H);
    mark(options_, "heads");
  }
  products().linear_backward(dinp, g.qkv_weight, g.qkv_bias, d.qkv, inp, p.qkv_weight, BT, C,
                             3 * C);
  mark(options_, "matmul");
}
// end lesson

void CudaOps::feedforward_backward(float* dinp, const FeedForwardGrads& g, float* dhidden,
                                   float* dactivated, const float* dout, const float* inp,
                                   const float* hidden, const float* activated,
                                   const FeedForwardParams& p, const BlockConfig& c) {
  const int N = c.B * c.T;
  if (products().has_feedforward(c.F)) {  // the format's, whole
    products().feedforward_backward(dinp, g, dhidden, dactivated, dout, inp, hidden, activated,
                                    p, N, c.C, c.F, c.gelu);
    mark(options_, "feedforward");
    return;
  }
  zero(dactivated, int64_t(N) * c.F);
  zero(dhidden, int64_t(N) * c.F);
  products().linear_backward(dactivated, g.proj_weight, g.proj_bias, dout, activated,
                             p.proj_weight, N, c.F, c.C);
  mark(options_, "matmul");
  cuda::gelu_backward(dhidden, dactivated, hidden, int64_t(N) * c.F, c.gelu);
  mark(options_, "gelu");
  products().linear_backward(dinp, g.fc_weight, g.fc_bias, dhidden, inp, p.fc_weight, N, c.C,
                             c.F);
  mark(options_, "matmul");
}

void CudaOps::residual_backward(float* da, float* db, const float* dout, int64_t n) {
  cuda::residual_backward(da, db, dout, n);
  mark(options_, "residual");
}

void CudaOps::linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                              const float* inp, const float* weight, int N, int IC, int OC) {
  products().linear_backward(dinp, dweight, dbias, dout, inp, weight, N, IC, OC);
  mark(options_, "matmul");
}

void CudaOps::cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                                     const int32_t* targets, int N, int V) {
  cuda::cross_entropy_backward(dlogits, dloss, probs, targets, N, V);
  mark(options_, "cross_entropy");
}

void CudaOps::classifier_loss_backward(float* dx, float* dweight, const float* logits,
                                       const float* x, const float* weight, int N, int C, int V) {
  products().classifier_loss_backward(dx, dweight, logits, x, weight, N, C, V);
  mark(options_, "classifier_loss");
}

void CudaOps::embedding_backward(float* dwte, float* dwpe, const float* dout,
                                 const int32_t* tokens, int B, int T, int C, int V) {
  cuda::embedding_backward(dwte, dwpe, dout, tokens, B, T, C, V);
  mark(options_, "embedding");
}

// ---- the optimizer --------------------------------------------------------------

// lesson: dropout_mask
// The same Rng calls as chapter 06's dropout_mask on the CPU, in the order
// chapter 09's train_step asks for them: the mask is drawn on the host and
// copied to the device, so every engine consumes the same random numbers.
void CudaOps::dropout_mask(float* mask, int64_t n, float p, Rng& rng) {
  host_mask_.resize(size_t(n));
  gpt::dropout_mask(host_mask_.data(), n, p, rng);
  CUDA_CHECK(cudaMemcpy(mask, host_mask_.data(), size_t(n) * sizeof(float),
                        cudaMemcpyHostToDevice));
}
// end lesson

double CudaOps::clip_grad_norm(float* grads, size_t n, float max_norm) {
  const double norm = cuda::clip_grad_norm(grads, n, max_norm);
  mark(options_, "clip");
  return norm;
}

void CudaOps::adamw_step(const ParameterLayout& layout, float* params, const float* grads,
                         float* m, float* v, int t, float lr, const AdamWConfig& config) {
  cuda::adamw_step(layout, params, grads, m, v, t, lr, config);
  mark(options_, "adamw");
}

}  // namespace gpt::cuda
