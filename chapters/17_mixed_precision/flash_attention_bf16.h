// chapters/17_mixed_precision/flash_attention_bf16.h — chapter 17: chapter 13's flash attention with its products on the tensor cores.
//
// The same causal attention as chapters/13_cuda_attention/flash_attention.h,
// forward and backward, with the same arguments (and a second pair of calls
// that takes the heads where they sit in the GPT's rows), all fp32 in
// memory: inside,
// q, k, v (and, in the backward, dout) are rounded to bf16 once, every
// matrix product (Q·Kᵀ, P·V, and the backward's dO·Vᵀ, Pᵀ·dO, dSᵀ·Q, dS·K)
// runs on the tensor cores (mma.sync m16n8k16, fp32 sums), and the softmax's
// numbers — the running max m, the running sum l, lse, D — stay fp32. The
// weights P and the score gradients dS are rounded to bf16 just before the
// product that reads them (flash_attention_bf16.cu says why, and what that
// costs). N = 0 is nothing to do, as in chapter 13.
#pragma once

namespace gpt::cuda {

// Whether the bf16 kernels take these sizes: chapter 13's (check_flash_sizes:
// hs 32 or 64, T >= 1, N <= 65535), and N >= 1. Other sizes throw
// std::invalid_argument, with chapter 13's message.
bool flash_attention_bf16_supports(int N, int T, int hs);

// Whether the kernels take B batch rows of H heads of C / H columns each.
bool flash_attention_bf16_supports_heads(int B, int T, int C, int H);

// Chapter 13's flash_attention_forward (causal, scale 1/sqrt(hs), lse the
// logsumexp of the scaled scores), fp32 at the boundary: q, k, v are rounded
// to bf16 inside, the products run on the tensor cores (mma.sync m16n8k16,
// fp32 accumulation), the softmax's statistics stay fp32.
void flash_attention_bf16_forward(float* out,      // (N, T, hs)
                                  float* lse,      // (N, T)
                                  const float* q,  // (N, T, hs)
                                  const float* k,  // (N, T, hs)
                                  const float* v,  // (N, T, hs)
                                  int N, int T, int hs);

// Chapter 13's flash_attention_backward: ADDS into dq, dk, dv (fp32).
void flash_attention_bf16_backward(float* dq,          // (N, T, hs), accumulated
                                   float* dk,          // (N, T, hs), accumulated
                                   float* dv,          // (N, T, hs), accumulated
                                   const float* dout,  // (N, T, hs)
                                   const float* q,     // (N, T, hs)
                                   const float* k,     // (N, T, hs)
                                   const float* v,     // (N, T, hs)
                                   const float* out,   // (N, T, hs): saved by the forward
                                   const float* lse,   // (N, T): saved by the forward
                                   int N, int T, int hs);

// The same attention with the heads read and written where they sit: q, k,
// v from the qkv projection's rows, the output into the merged rows, and
// the backward's dq, dk, dv ADDED into dqkv's: no split or merge of the
// heads before or after. Numbers as the two calls above, bit for bit.
void flash_attention_bf16_forward_heads(float* merged,      // (B, T, C)
                                        float* lse,         // (B·H, T)
                                        const float* qkv,   // (B, T, 3C)
                                        int B, int T, int C, int H);

void flash_attention_bf16_backward_heads(float* dqkv,           // (B, T, 3C), accumulated
                                         const float* dmerged,  // (B, T, C)
                                         const float* qkv,      // (B, T, 3C)
                                         const float* merged,   // (B, T, C): the forward's
                                         const float* lse,      // (B·H, T): the forward's
                                         int B, int T, int C, int H);

}  // namespace gpt::cuda
