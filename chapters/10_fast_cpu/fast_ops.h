// chapters/10_fast_cpu/fast_ops.h — chapters 04–08's ops again, fast.
//
// Same maths, same tensors, same += convention for gradients as chapters
// 04–08; what changes is how the work meets the machine:
//   - matrix products go through fast_matmul (packed, register-blocked, threaded);
//   - ops that read and write the same rows are fused into one pass:
//     bias + GELU, scale + causal mask + softmax, softmax + cross-entropy;
//   - attention is per-head matrix products: each head copies its q, k and v
//     out of the fused (B, T, 3C) projection, with no split or merge tensors;
//   - row-wise ops run their rows on `threads` OpenMP threads;
//   - nothing allocates: every buffer is the caller's.
// Row-wise results match chapters 05–08 to float rounding (the tests say how close).
#pragma once

#include <cstdint>

#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/09_training/adamw.h"

namespace gpt {

// ---- linear (chapter 04): out = inp · Wᵀ + b ------------------------------
// packed_weight: Wᵀ already packed (packed_weights.h), or nullptr.
void fast_linear_forward(float* out,          // (N, O)
                         const float* inp,    // (N, I)
                         const float* weight, // (O, I)
                         const float* bias,   // (O) or nullptr
                         int N, int I, int O, int threads,
                         const float* packed_weight = nullptr);
// dweight (O, I) += doutᵀ · inp, or dweight = … when `overwrite_dweight`,
// and dbias (O) += Σ_n dout[n] (dbias may be nullptr), summed as two halves
// of the tokens, the second added last: a thread per half on 2 threads,
// each on the tokens its earlier ops wrote.
void fast_weight_gradient(float* dweight, float* dbias, const float* dout, const float* inp,
                          int N, int I, int O, int threads, bool overwrite_dweight = false);
// dinp += dout · W (dinp may be nullptr: not needed), or dinp = dout · W when
// `overwrite_dinp` (a scratch gradient: no pass to zero it first);
// dweight += doutᵀ · inp, or = … when `overwrite_dweight`; dbias += Σ_n
// dout[n] (dbias may be nullptr). Overwriting gives the values of adding into
// zeros, bit for bit but for the sign of a zero: a sum of −0 stays −0, where
// 0 + (−0) is +0.
void fast_linear_backward(float* dinp, float* dweight, float* dbias,
                          const float* dout,    // (N, O)
                          const float* inp,     // (N, I)
                          const float* weight,  // (O, I)
                          int N, int I, int O, int threads, bool overwrite_dinp = false,
                          bool overwrite_dweight = false);

// ---- LayerNorm (chapter 05), in float, one row per task ----------------------
void fast_layernorm_forward(float* out, float* mean, float* rstd,  // (N, C), (N), (N)
                            const float* inp, const float* weight, const float* bias,
                            int N, int C, float eps, int threads);
// dinp (N, C) += the gradient, or = … when `overwrite_dinp`; dweight and dbias (C) +=.
void fast_layernorm_backward(float* dinp, float* dweight, float* dbias,
                             const float* dout, const float* inp, const float* mean,
                             const float* rstd, const float* weight, int N, int C, int threads,
                             bool overwrite_dinp = false);

// ---- GELU (chapter 05), fused with the bias of the layer before it -----------
// hidden[n, :] += bias; activated = gelu(hidden): one pass instead of two.
void fast_bias_gelu_forward(float* activated, float* hidden,  // (N, F) each
                            const float* bias,                // (F)
                            int N, int F, GeluForm form, int threads);
// dhidden += dactivated ⊙ gelu'(hidden), or dhidden = … when `overwrite` (a
// scratch gradient: the same bits as zeroing it first, without that pass)
void fast_gelu_backward(float* dhidden, const float* dactivated, const float* hidden,
                        int64_t count, GeluForm form, int threads, bool overwrite = false);

// ---- causal self-attention (chapter 03–04) on the fused projection ----------
// qkv (B, T, 3C) holds q | k | v; head h uses channels [h·hs, (h+1)·hs) of each.
// weights (B, H, T, T): the softmax rows, kept for backward, with exact zeros
// above the diagonal (the backward reads P down its columns and counts on
// them); out (B, T, C): heads merged.
void fast_attention_forward(float* out, float* weights, const float* qkv,
                            int B, int T, int C, int H, int threads);
// dqkv (B, T, 3C) += d(qkv), given dout (B, T, C); or dqkv = … when
// `overwrite` (a scratch gradient: each head writes its own columns of it,
// so nothing need zero it first). dqkv must not overlap qkv or dout.
void fast_attention_backward(float* dqkv, const float* dout, const float* qkv,
                             const float* weights, int B, int T, int C, int H, int threads,
                             bool overwrite = false);

// ---- AdamW (chapter 09), vectorised ------------------------------------------
// adamw_update (chapter 09's adamw.h), the same bits, 8 floats at a time.
void fast_adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                       float lr, const AdamWConfig& config, float weight_decay);

// ---- softmax + cross-entropy (chapter 07), fused ------------------------------
// Returns the mean loss; probs (N, V) kept for backward; losses (N).
float fast_cross_entropy_forward(float* losses, float* probs, const float* logits,
                                 const int32_t* targets, int N, int V, int threads);
// dlogits += dloss · (probs − onehot(targets)) / N, or = … when `overwrite`
void fast_cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                                 const int32_t* targets, int N, int V, int threads,
                                 bool overwrite = false);

}  // namespace gpt
