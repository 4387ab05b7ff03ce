// chapters/12_cuda_matmul/cublas_matmul.h — chapter 12: cuBLAS's SGEMM, the reference, on row-major matrices.
#pragma once

namespace gpt::cuda {

// C = op(A) · op(B) (+ C with accumulate), row-major, op as in matmul.h's
// Gemm. Plain fp32: the handle's math mode is CUBLAS_DEFAULT_MATH, which
// never uses TF32 tensor cores for SGEMM (CUBLAS_TF32_TENSOR_OP_MATH would).
void cublas_gemm(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
                 bool trans_b, bool accumulate);

}  // namespace gpt::cuda
