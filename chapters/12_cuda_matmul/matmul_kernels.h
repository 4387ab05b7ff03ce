// chapters/12_cuda_matmul/matmul_kernels.h — chapter 12: the launchers of the eight kernels.
//
// One per .cu file. matmul.cc checks the sizes and calls these; they only
// pick the grid and launch. Internal to the chapter: use matmul.h.
#pragma once

#include <cstddef>

#include "chapters/12_cuda_matmul/split_k.h"

namespace gpt::cuda::matmul_internal {

void matmul_naive(float* C, const float* A, const float* B, int M, int N, int K);
void matmul_coalesced(float* C, const float* A, const float* B, int M, int N, int K);
void matmul_shared(float* C, const float* A, const float* B, int M, int N, int K);
void matmul_register_1d(float* C, const float* A, const float* B, int M, int N, int K);
void matmul_register_2d(float* C, const float* A, const float* B, int M, int N, int K);
void matmul_vectorized(float* C, const float* A, const float* B, int M, int N, int K);

// Version 7 in its general form (see Gemm in matmul.h); matmul() calls it
// with no transposes, no accumulation and no bias. (gemm() uses version 8.)
void matmul_warptile(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
                     bool trans_b, bool accumulate, const float* bias);

// Version 8 in the same general form, with the default tile shape, splitting
// K when the product has too few tiles to fill the GPU (split_k.h); `splits`
// > 0 overrides that choice (1: never split), for the benchmark. And each
// candidate tile shape on its own (plain C = A·B, never split).
constexpr int kAutoSplit = 0;
void matmul_double_buffer(float* C, const float* A, const float* B, int M, int N, int K,
                          bool trans_a, bool trans_b, bool accumulate, const float* bias,
                          int splits = kAutoSplit);
// How version 8's default shape would split an M×N×K product on this GPU.
KSplit double_buffer_split(int M, int N, int K);
int double_buffer_candidates();
const char* double_buffer_candidate_name(int i);
void matmul_double_buffer_candidate(int i, float* C, const float* A, const float* B, int M, int N,
                                    int K);

// Split-K's second half (split_k.cu): C = Σ_z partials[z] (+ bias) (+ C),
// partials (splits, M, N); the program's scratch buffer for partial sums
// (split-K's, and chapter 17's reductions in two passes; grown as needed,
// never shrunk, reused in stream order); and the GPU's number of SMs.
void sum_partials(float* C, const float* partials, int splits, int M, int N, bool accumulate,
                  const float* bias);
float* partials_workspace(size_t floats);
int multiprocessor_count();
// out[n, o] += bias[o] for every row n (cuBLAS's linear forward adds it after).
void add_bias(float* out, const float* bias, int N, int OC);
// dbias[o] += Σ_n dout[n, o].
void bias_backward(float* dbias, const float* dout, int N, int OC);

}  // namespace gpt::cuda::matmul_internal
