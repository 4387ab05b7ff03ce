// chapters/12_cuda_matmul/matmul_1_naive.cu — chapter 12, version 1: one thread per element of C.
//
// The textbook loop moved onto the GPU: thread (m, n) computes the dot
// product of row m of A and column n of B. It is correct and slow. The
// threads of a warp are consecutive in threadIdx.x, and here threadIdx.x
// picks the ROW m: the 32 threads of a warp read 32 different rows of A
// (addresses K floats apart, 32 separate memory transactions per load) and
// write 32 different rows of C. Version 2 changes only that mapping.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

constexpr int kTile = 32;  // a 32×32 block of threads covers a 32×32 block of C

// lesson: naive_kernel
__global__ void naive_kernel(float* C, const float* A, const float* B, int M, int N, int K) {
  const int m = blockIdx.x * kTile + threadIdx.x;  // x picks the row: uncoalesced
  const int n = blockIdx.y * kTile + threadIdx.y;
  if (m >= M || n >= N) return;
  float sum = 0.0f;
  for (int k = 0; k < K; ++k) sum += A[int64_t(m) * K + k] * B[int64_t(k) * N + n];
  C[int64_t(m) * N + n] = sum;
}
// end lesson

}  // namespace

void matmul_naive(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(M, kTile), grid_size(N, kTile));
  naive_kernel<<<grid, dim3(kTile, kTile)>>>(C, A, B, M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
