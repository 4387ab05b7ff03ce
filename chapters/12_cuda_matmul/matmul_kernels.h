// chapters/12_cuda_matmul/matmul_kernels.h — chapter 12: the launchers of the eight kernels.
//
// One per .cu file. matmul.cc checks the sizes and calls these; they only
// pick the grid and launch. Internal to the chapter: use matmul.h.
#pragma once

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

// Version 8 in the same general form, with the default tile shape; and each
// candidate tile shape on its own (plain C = A·B), for the benchmark and tests.
void matmul_double_buffer(float* C, const float* A, const float* B, int M, int N, int K,
                          bool trans_a, bool trans_b, bool accumulate, const float* bias);
int double_buffer_candidates();
const char* double_buffer_candidate_name(int i);
void matmul_double_buffer_candidate(int i, float* C, const float* A, const float* B, int M, int N,
                                    int K);

// out[n, o] += bias[o] for every row n (cuBLAS's linear forward adds it after).
void add_bias(float* out, const float* bias, int N, int OC);
// dbias[o] += Σ_n dout[n, o].
void bias_backward(float* dbias, const float* dout, int N, int OC);

}  // namespace gpt::cuda::matmul_internal
