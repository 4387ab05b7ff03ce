// chapters/12_cuda_matmul/matmul.cc — chapter 12: checking the sizes and choosing a kernel.
#include "chapters/12_cuda_matmul/matmul.h"

#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/cublas_matmul.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"

namespace gpt::cuda {
namespace {

// M, N >= 0 and K >= 1; returns false when there is nothing to compute.
bool check_sizes(const char* op, int M, int N, int K) {
  check_size(op, "M", M, 0);
  check_size(op, "N", N, 0);
  check_size(op, "K", K, 1);
  return M > 0 && N > 0;
}

}  // namespace

// lesson: matmul
void matmul(float* C, const float* A, const float* B, int M, int N, int K, int version) {
  check_version("matmul", version, kMatmulVersions);
  if (!check_sizes("matmul", M, N, K)) return;
  using namespace matmul_internal;
  switch (version) {
    case 1: return matmul_naive(C, A, B, M, N, K);
    case 2: return matmul_coalesced(C, A, B, M, N, K);
    case 3: return matmul_shared(C, A, B, M, N, K);
    case 4: return matmul_register_1d(C, A, B, M, N, K);
    case 5: return matmul_register_2d(C, A, B, M, N, K);
    case 6: return matmul_vectorized(C, A, B, M, N, K);
    case 7: return matmul_warptile(C, A, B, M, N, K, false, false, false, nullptr);
    default: return matmul_double_buffer(C, A, B, M, N, K, false, false, false, nullptr);
  }
}
// end lesson

void matmul_cublas(float* C, const float* A, const float* B, int M, int N, int K) {
  if (!check_sizes("matmul_cublas", M, N, K)) return;
  cublas_gemm(C, A, B, M, N, K, false, false, false);
}

void gemm(float* C, const float* A, const float* B, int M, int N, int K, const Gemm& options,
          MatmulBackend backend) {
  if (!check_sizes("gemm", M, N, K)) return;
  if (options.trans_a && options.trans_b) {
    throw std::invalid_argument("gemm: trans_a and trans_b together are not supported");
  }
  if (backend == MatmulBackend::kCublas) {
    cublas_gemm(C, A, B, M, N, K, options.trans_a, options.trans_b, options.accumulate);
    if (options.bias != nullptr) matmul_internal::add_bias(C, options.bias, M, N);
  } else {
    matmul_internal::matmul_double_buffer(C, A, B, M, N, K, options.trans_a, options.trans_b,
                                          options.accumulate, options.bias);
  }
}

}  // namespace gpt::cuda
