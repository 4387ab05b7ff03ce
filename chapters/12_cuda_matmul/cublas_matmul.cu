// chapters/12_cuda_matmul/cublas_matmul.cu — chapter 12: asking cuBLAS for a row-major product.
//
// Host code only; it is compiled by nvcc because cublas_v2.h needs headers
// of the toolkit (vector_functions.hpp) that @cuda//:headers does not list.
//
// cuBLAS follows Fortran: its matrices are column-major. A row-major (R, C)
// matrix, read column-major, is its transpose (C, R), with no copying. So
// instead of C = op(A) · op(B) we ask cuBLAS for Cᵀ = op(B)ᵀ · op(A)ᵀ, whose
// column-major result is exactly our row-major C: swap the operands, and
// swap M and N.
#include "chapters/12_cuda_matmul/cublas_matmul.h"

#include <cublas_v2.h>

#include <stdexcept>
#include <string>

namespace gpt::cuda {
namespace {

void cublas_check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(call) + " failed: " + cublasGetStatusString(status));
  }
}

// One handle for the whole program, created at first use (creating one
// costs far more than a product). Its math mode forbids TF32.
cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    cublas_check(cublasCreate(&created), "cublasCreate");
    cublas_check(cublasSetMathMode(created, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    return created;
  }();
  return h;
}

}  // namespace

// lesson: cublas_gemm
void cublas_gemm(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
                 bool trans_b, bool accumulate) {
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  // Column-major views of the stored matrices: B (K, N) row-major is (N, K)
  // column-major, i.e. op(B)ᵀ already, leading dimension N; a stored (N, K)
  // Wᵀ-style B is (K, N) column-major and needs a transpose, leading dimension K.
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldb = trans_b ? K : N, lda = trans_a ? M : K;
  cublas_check(cublasSgemm(handle(), op_b, op_a, N, M, K, &alpha, B, ldb, A, lda, &beta, C, N),
               "cublasSgemm");
}
// end lesson

}  // namespace gpt::cuda
