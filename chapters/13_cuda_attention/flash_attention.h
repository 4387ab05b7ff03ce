// chapters/13_cuda_attention/flash_attention.h — chapter 13: attention that never writes its scores.
//
// A block of queries walks over the keys tile by tile, keeping for each
// query a running maximum m, a running sum l of exp(score − m) and a running
// output o (the online softmax): when a tile raises the maximum, l and o are
// rescaled by exp(m_old − m_new). At the end out = o / l. Memory: O(N·T)
// instead of the naive O(N·T²), and Q, K, V are each read a few times.
//
// For the backward the forward saves one number per query, the logsumexp
// lse = m + log l of its scaled scores: then every weight can be recomputed
// exactly as P[t, s] = exp(S[t, s] − lse[t]) without a second softmax.
// With D[t] = Σ_d dO[t, d] · O[t, d] (= Σ_s P[t, s] dP[t, s]), the gradient of
// the scores is dS = P ∘ (dP − D), dP = dO · Vᵀ, recomputed blockwise too.
//
// Head sizes 32 and 64 (the kernels keep a query row in registers, so hs is
// a template parameter); others throw std::invalid_argument. 1 <= N <= 65535
// sequences (N = 0: nothing to do), T >= 1.
#pragma once

namespace gpt::cuda {

void flash_attention_forward(float* out,      // (N, T, hs)
                             float* lse,      // (N, T): logsumexp of each query's scaled scores
                             const float* q,  // (N, T, hs)
                             const float* k,  // (N, T, hs)
                             const float* v,  // (N, T, hs)
                             int N, int T, int hs);

// ADDS into dq, dk, dv. Allocates D, N·T floats, for the call.
void flash_attention_backward(float* dq,          // (N, T, hs), accumulated
                              float* dk,          // (N, T, hs), accumulated
                              float* dv,          // (N, T, hs), accumulated
                              const float* dout,  // (N, T, hs)
                              const float* q,     // (N, T, hs)
                              const float* k,     // (N, T, hs)
                              const float* v,     // (N, T, hs)
                              const float* out,   // (N, T, hs): saved by the forward
                              const float* lse,   // (N, T): saved by the forward
                              int N, int T, int hs);

// Throws std::invalid_argument unless the sizes are ones the fused kernels take.
void check_flash_sizes(const char* op, int N, int T, int hs);

// Whether the fused kernels take these sizes (check_flash_sizes would not throw).
bool flash_takes_sizes(int N, int T, int hs);

}  // namespace gpt::cuda
