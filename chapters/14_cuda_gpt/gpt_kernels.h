// chapters/14_cuda_gpt/gpt_kernels.h — chapter 14: the few kernels chapters 11–13 did not need.
//
// Composing the GPT on the GPU from chapters 11–13 leaves four small jobs
// without a kernel: moving numbers between the fused (B, T, 3C) projection
// and the heads (chapter 04's split_heads and merge_heads, and their chapter
// 08 backwards), applying a dropout mask (chapter 06), measuring and scaling
// the gradient for clipping (chapter 09), and the KV cache of generation
// (kv_cache.cu). Every pointer is a DEVICE pointer; backward ops ADD (+=)
// into their gradient outputs, as in chapter 08.
#pragma once

#include <cstdint>

namespace gpt::cuda {

// q[b, h, t, :] = qkv[b, t, 0C + h*hs : ...], likewise k (1C) and v (2C).
void split_heads(float* q, float* k, float* v,  // (B, H, T, hs) each
                 const float* qkv,              // (B, T, 3C)
                 int B, int T, int C, int H);

// out[b, t, h*hs + i] = heads[b, h, t, i].
void merge_heads(float* out,          // (B, T, C)
                 const float* heads,  // (B, H, T, hs)
                 int B, int T, int C, int H);

// dqkv[b, t, 0C + h*hs + i] += dq[b, h, t, i], likewise dk (1C) and dv (2C).
void split_heads_backward(float* dqkv,                                // (B, T, 3C), accumulated
                          const float* dq, const float* dk, const float* dv,  // (B, H, T, hs)
                          int B, int T, int C, int H);

// dheads[b, h, t, i] += dout[b, t, h*hs + i].
void merge_heads_backward(float* dheads,      // (B, H, T, hs), accumulated
                          const float* dout,  // (B, T, C)
                          int B, int T, int C, int H);

// out = inp ⊙ mask (chapter 06's dropout_forward; its backward is the same
// product on the gradient). `out` may alias `inp`.
void dropout_forward(float* out,         // (N)
                     const float* inp,   // (N)
                     const float* mask,  // (N)
                     int64_t N);

// Σ g², accumulated in double as chapter 09's global_norm does. Waits for the
// GPU (the host needs the number to decide on the scale).
double sum_of_squares(const float* g,  // (n)
                      int64_t n);

// g[i] = float(g[i] · scale), the multiplication in double as on the CPU.
void scale_in_place(float* g,  // (n)
                    int64_t n, double scale);

// The KV cache of one layer holds, per head, the keys and the values of the
// tokens seen so far: k_cache, v_cache (H, P, hs), rows 0 .. pos-1 filled.
// Appends the token at position `pos` from its fused projection qkv (3C):
// k_cache[h, pos, :] = qkv[1C + h*hs : ...], v_cache[h, pos, :] = qkv[2C + h*hs : ...].
void kv_cache_append(float* k_cache,    // (H, P, hs)
                     float* v_cache,    // (H, P, hs)
                     const float* qkv,  // (3C): one token's [q | k | v]
                     int pos, int P, int C, int H);

// Attention of ONE new query per head over the `len` cached positions
// (0 .. len-1, the new token's own included): with q = qkv[0C : 1C],
//   out[h*hs : (h+1)*hs] = Σ_s softmax_s(q_h · k_cache[h, s] / √hs) · v_cache[h, s].
// No mask is needed: every cached position is in the past. One block per head.
void decode_attention(float* out,            // (C): the heads already merged
                      const float* qkv,      // (3C): the query is the first C
                      const float* k_cache,  // (H, P, hs)
                      const float* v_cache,  // (H, P, hs)
                      int len, int P, int C, int H);

}  // namespace gpt::cuda
