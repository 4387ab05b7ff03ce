// chapters/17_mixed_precision/bf16_products.cc — chapter 17: each linear layer's three products on bf16 tensor cores.
#include "chapters/17_mixed_precision/bf16_products.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/bf16_operands.h"
#include "chapters/17_mixed_precision/classifier_loss.h"
#include "chapters/17_mixed_precision/cublaslt_matmul.h"
#include "chapters/17_mixed_precision/feedforward_bf16.h"
#include "chapters/17_mixed_precision/flash_attention_bf16.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/growing_buffer.h"

namespace gpt::cuda {
namespace {

// The format's bf16 scratch, each buffer reused in stream order
// (growing_buffer.h): the two operands of the product being made, and
// version 3's copies of those that lie with K down their columns (product,
// below; cuBLASLt reads those where they lie).
enum class Scratch { kOperandA, kOperandB, kRowsOfA, kRowsOfB, kCount };
GrowingDeviceBuffer<Bf16>& scratch(Scratch which) {
  static GrowingDeviceBuffer<Bf16> buffers[static_cast<int>(Scratch::kCount)];
  return buffers[static_cast<int>(which)];
}
GrowingDeviceBuffer<Bf16>& operand_a() { return scratch(Scratch::kOperandA); }
GrowingDeviceBuffer<Bf16>& operand_b() { return scratch(Scratch::kOperandB); }
GrowingDeviceBuffer<Bf16>& rows_of_a() { return scratch(Scratch::kRowsOfA); }
GrowingDeviceBuffer<Bf16>& rows_of_b() { return scratch(Scratch::kRowsOfB); }

class Bf16Products : public ProductKernels {
 public:
  explicit Bf16Products(Bf16Matmul matmul)
      : matmul_(matmul), version_(matmul == Bf16Matmul::kOursWgmma ? 4 : 3) {
    if (matmul_ != Bf16Matmul::kCublasLt && !bf16_matmul_runs_here(version_)) {
      throw std::runtime_error("bf16_products: version 4 (wgmma) runs only on an sm_90 GPU "
                               "(H100, H200)");
    }
  }

  std::string precision() const override { return "bf16"; }
  std::string name() const override {
    return std::string("bf16 tensor cores, ") +
           (matmul_ == Bf16Matmul::kCublasLt
                ? std::string("cuBLASLt")
                : "chapter 17's version " + std::to_string(version_)) +
           ", fp32 master weights";
  }

  // lesson: lent_floats
  // A tensor only the format reads is bf16 rows, each padded to whole
  // 16-byte pieces (padded_k values), from the memory's first 16-byte
  // boundary (bf16_rows_in): half a float a value, a multiple of 4 floats,
  // and 4 more for the up to 3 before the boundary, so that what is carved
  // after it keeps the alignment it would have had.
  size_t lent_floats(size_t rows, int columns) const override {
    return rows * size_t(padded_k(columns)) / 2 + 4;
  }
  // end lesson

  // lesson: linear_forward
  // out = inp · Wᵀ + b: K = IC runs along the rows of both, as stored.
  void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                      int IC, int OC) override {
    const int K = padded_k(IC);
    Bf16* a = operand_a().at_least(size_t(N) * K);   // (N, K)
    Bf16* b = operand_b().at_least(size_t(OC) * K);  // (OC, K)
    to_bf16_rows(a, inp, N, IC, K);
    to_bf16_rows(b, weight, OC, IC, K);
    product(out, a, b, bias, N, OC, K, /*accumulate=*/false);  // (N, OC), fp32
  }
  // end lesson

  // lesson: linear_backward
  // dout is rounded once, into rows, for both products (backward_products,
  // below). db += Σ_n dout stays fp32 (chapter 12's kernel).
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override {
    if (N == 0) return;  // no rows: nothing to add
    const int ld = padded_k(OC);
    Bf16* d = operand_a().at_least(size_t(N) * ld);  // dout (N, ld)
    to_bf16_rows(d, dout, N, OC, ld);
    backward_products(dinp, dweight, d, ld, inp, weight, N, IC, OC);
    if (dbias != nullptr) matmul_internal::bias_backward(dbias, dout, N, OC);
  }

  // A linear layer's two backward products, from its output's gradient d
  // in bf16 rows, ld = padded_k(OC) apart (not in operand_b). dinp += d · W
  // runs along OC: d's rows as stored, W's columns (W rounded transposed).
  // dW += dᵀ · inp runs along N: down d's columns, read where they lie
  // (product, below), and inp's (inp rounded transposed). dinp may be null.
  void backward_products(float* dinp, float* dweight, const Bf16* d, int ld, const float* inp,
                         const float* weight, int N, int IC, int OC) {
    if (dinp != nullptr) {
      Bf16* wt = operand_b().at_least(size_t(IC) * ld);  // Wᵀ (IC, ld)
      to_bf16_transposed(wt, weight, OC, IC, ld);
      product(dinp, d, wt, nullptr, N, IC, ld, /*accumulate=*/true);  // (N, IC)
    }
    const int Kn = padded_k(N);
    Bf16* xt = operand_b().at_least(size_t(IC) * Kn);  // inpᵀ (IC, Kn)
    to_bf16_transposed(xt, inp, N, IC, Kn);
    product(dweight, k_down_columns(d, ld), k_along_rows(xt, Kn), nullptr, OC, IC, N,
            /*accumulate=*/true);  // (OC, IC)
  }
  // end lesson

  // Attention proper: section 12's bf16 flash attention where it takes the
  // sizes (head sizes 32 and 64), else chapter 13's naive fp32 kernels run.
  bool has_attention(int N, int T, int hs) const override {
    return flash_attention_bf16_supports(N, T, hs);
  }
  void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                         int N, int T, int hs) override {
    flash_attention_bf16_forward(out, lse, q, k, v, N, T, hs);
  }
  void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                          const float* k, const float* v, const float* out, const float* lse,
                          int N, int T, int hs) override {
    flash_attention_bf16_backward(dq, dk, dv, dout, q, k, v, out, lse, N, T, hs);
  }

  // The same kernels on the heads where they sit (section 12's HeadRows):
  // no split_heads or merge_heads around them.
  bool has_attention_in_place(int B, int T, int C, int H) const override {
    return flash_attention_bf16_supports_heads(B, T, C, H);
  }
  void attention_in_place_forward(float* merged, float* lse, const float* qkv, int B, int T,
                                  int C, int H) override {
    flash_attention_bf16_forward_heads(merged, lse, qkv, B, T, C, H);
  }
  void attention_in_place_backward(float* dqkv, const float* dmerged, const float* qkv,
                                   const float* merged, const float* lse, int B, int T, int C,
                                   int H) override {
    flash_attention_bf16_backward_heads(dqkv, dmerged, qkv, merged, lse, B, T, C, H);
  }

  // The loss head: section 11's kernel on the lm_head's bf16 logits, kept in
  // the memory lent for the logits: lent_floats of it from chapter 14's
  // engine, N·V floats from activations laid out for fp32, which N rows of
  // V_padded bf16 (plus up to 12 bytes to align them) fit from V = 16 on.
  bool has_classifier_loss(int V) const override { return V >= 16; }

  // lesson: classifier_loss
  // logits (N, V_padded) = x · Wᵀ in bf16, then the loss of each row and its
  // gradient written over it, dloss = 1/N: the mean. No fp32 logits, no probs.
  float classifier_loss(float* losses, float* logits, const float* x, const float* weight,
                        const int32_t* targets, int N, int C, int V) override {
    const int K = padded_k(C), V_padded = padded_k(V);
    Bf16* a = operand_a().at_least(size_t(N) * K);         // x (N, K)
    Bf16* b = operand_b().at_least(size_t(V_padded) * K);  // W (V_padded, K), rows past V zero
    to_bf16_rows(a, x, N, C, K);
    to_bf16_rows(b, weight, V, C, K);
    CUDA_CHECK(cudaMemset(b + size_t(V) * K, 0, size_t(V_padded - V) * K * sizeof(Bf16)));
    Bf16* z = bf16_rows_in(logits);  // (N, V_padded)
    product_bf16(z, a, b, N, V_padded, K);
    classifier_loss_bf16(losses, z, targets, N, V, V_padded, 1.0f / N);
    return mean_loss(losses, N, N);
  }

  // The gradient the forward left in `logits`, already bf16: a linear
  // layer's two products, dx += dz · W and dW += dzᵀ · x.
  void classifier_loss_backward(float* dx, float* dweight, const float* logits, const float* x,
                                const float* weight, int N, int C, int V) override {
    if (N == 0) return;
    const Bf16* dz = bf16_rows_in(logits);  // (N, V_padded)
    backward_products(dx, dweight, dz, padded_k(V), x, weight, N, C, V);
  }
  // end lesson

  // The feed-forward sub-layer, its hidden layer kept in bf16
  // (feedforward_bf16.h) in the memory lent for it (lent_floats): F a
  // multiple of 8, so that its rows are whole 16-byte pieces the next
  // product reads as they are.
  bool has_feedforward(int F) const override { return F >= 8 && F % 8 == 0; }

  // lesson: feedforward_forward
  // h = x · W_fcᵀ (bf16, without the bias), a = GELU(h + b_fc) (bf16), then
  // out = a · W_projᵀ + b_proj (fp32). h and a are what the backward reads.
  void feedforward_forward(float* out, float* hidden, float* activated, const float* inp,
                           const FeedForwardParams& p, int N, int C, int F,
                           GeluForm form) override {
    if (N == 0) return;  // no rows: nothing to compute
    const int K = padded_k(C);
    Bf16* x = operand_a().at_least(size_t(N) * K);     // (N, K)
    Bf16* w_fc = operand_b().at_least(size_t(F) * K);  // (F, K)
    to_bf16_rows(x, inp, N, C, K);
    to_bf16_rows(w_fc, p.fc_weight, F, C, K);
    Bf16* h = bf16_rows_in(hidden);     // (N, F)
    Bf16* a = bf16_rows_in(activated);  // (N, F)
    product_bf16(h, x, w_fc, N, F, K);
    gelu_forward_bf16(a, h, p.fc_bias, N, F, form);
    Bf16* w_proj = operand_b().at_least(size_t(C) * F);  // (C, F)
    to_bf16_rows(w_proj, p.proj_weight, C, F, F);
    product(out, a, w_proj, p.proj_bias, N, C, F, /*accumulate=*/false);  // (N, C), fp32
  }
  // end lesson

  // lesson: feedforward_backward
  // The mirror, every (N, F) tensor bf16: da = dout · W_proj rounded once,
  // dh = da · GELU'(h + b_fc), and the weight gradients read dout, a and dh
  // down their columns, where they lie, not rounded again.
  void feedforward_backward(float* dinp, const FeedForwardGrads& g, float* dhidden,
                            float* dactivated, const float* dout, const float* inp,
                            const float* hidden, const float* activated,
                            const FeedForwardParams& p, int N, int C, int F,
                            GeluForm form) override {
    if (N == 0) return;  // no rows: nothing to add
    const Bf16* h = bf16_rows_in(hidden);     // (N, F)
    const Bf16* a = bf16_rows_in(activated);  // (N, F)
    Bf16* da = bf16_rows_in(dactivated);      // (N, F)
    Bf16* dh = bf16_rows_in(dhidden);         // (N, F)
    // proj: da = dout · W_proj along C; dW_proj += doutᵀ · a along N.
    const int Kc = padded_k(C);
    Bf16* d = operand_a().at_least(size_t(N) * Kc);        // dout (N, Kc)
    Bf16* w_projt = operand_b().at_least(size_t(F) * Kc);  // W_projᵀ (F, Kc)
    to_bf16_rows(d, dout, N, C, Kc);
    to_bf16_transposed(w_projt, p.proj_weight, C, F, Kc);
    product_bf16(da, d, w_projt, N, F, Kc);
    product(g.proj_weight, k_down_columns(d, Kc), k_down_columns(a, F), nullptr, C, F, N,
            /*accumulate=*/true);  // (C, F)
    if (g.proj_bias != nullptr) matmul_internal::bias_backward(g.proj_bias, dout, N, C);
    gelu_backward_bf16(dh, da, h, p.fc_bias, N, F, form);
    // fc: dinp += dh · W_fc and dW_fc += dhᵀ · x, from dh as it is stored.
    backward_products(dinp, g.fc_weight, dh, F, inp, p.fc_weight, N, C, F);
    if (g.fc_bias != nullptr) bias_backward_bf16(g.fc_bias, dh, N, F);
  }
  // end lesson

 private:
  // out (M, N) = A · Bᵀ, rounded once to bf16.
  void product_bf16(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
    if (matmul_ == Bf16Matmul::kCublasLt) {
      matmul_cublaslt_bf16(out, A, B, nullptr, M, N, K);
    } else {
      bf16_matmul(out, A, B, M, N, K, version_);
    }
  }

  // out (M, N) [+]= A · Bᵀ [+ bias], A (M, K) and B (N, K) bf16 rows along
  // K, out fp32.
  void product(float* out, const Bf16* A, const Bf16* B, const float* bias, int M, int N, int K,
               bool accumulate) {
    product(out, k_along_rows(A, K), k_along_rows(B, K), bias, M, N, K, accumulate);
  }

  // lesson: product_as_they_lie
  // The same with each operand as it lies (cublaslt_matmul.h's Bf16Operand).
  // cuBLASLt reads an operand with K down its columns where it lies.
  // Versions 3 and 4 read only rows along K, a multiple of 8 long with zeros
  // past K, so they get a copy of such an operand in rows (bf16_transposed).
  void product(float* out, Bf16Operand A, Bf16Operand B, const float* bias, int M, int N, int K,
               bool accumulate) {
    if (matmul_ == Bf16Matmul::kCublasLt) {
      matmul_cublaslt_bf16_f32(out, A, B, bias, M, N, K, accumulate);
      return;
    }
    const Bf16* a = rows_along_k(A, M, K, rows_of_a());  // (M, padded K)
    const Bf16* b = rows_along_k(B, N, K, rows_of_b());  // (N, padded K)
    bf16_product_f32(out, a, b, bias, M, N, padded_k(K), accumulate, version_);
  }
  // end lesson

  // x's `rows` rows along K, ld = padded_k(K) apart: x itself, or its copy in `copy`.
  static const Bf16* rows_along_k(Bf16Operand x, int rows, int K,
                                  GrowingDeviceBuffer<Bf16>& copy) {
    const int ld = padded_k(K);
    if (!x.k_down_columns) {
      // The format's own rows are padded with zeros to exactly this length.
      if (x.ld != ld) throw std::logic_error("versions 3 and 4 read rows padded to a multiple of 8");
      return x.data;
    }
    Bf16* dst = copy.at_least(size_t(rows) * ld);  // (rows, ld)
    bf16_transposed(dst, x.data, K, rows, x.ld, ld);
    return dst;
  }

  Bf16Matmul matmul_;
  int version_;  // ours: 3 or 4
};

}  // namespace

std::shared_ptr<ProductKernels> bf16_products(Bf16Matmul matmul) {
  return std::make_shared<Bf16Products>(matmul);
}

}  // namespace gpt::cuda
