// chapters/12_cuda_matmul/matmul_2_coalesced.cu — chapter 12, version 2: coalesced memory access.
//
// The same arithmetic as version 1, with threadIdx.x now picking the COLUMN
// n. The 32 threads of a warp compute 32 neighbouring elements of one row of
// C: at every step k they all read the same A[m, k] (one transaction,
// broadcast to the warp) and 32 neighbouring floats of row k of B (one
// 128-byte transaction), and they write 32 neighbouring floats of C. The
// memory system serves a warp's loads in whole 32-byte sectors, so this
// mapping wastes nothing; version 1 used one float in every sector it fetched.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

constexpr int kTile = 32;

// lesson: coalesced_kernel
__global__ void coalesced_kernel(float* C, const float* A, const float* B, int M, int N, int K) {
  const int n = blockIdx.x * kTile + threadIdx.x;  // x picks the column: a warp covers a row segment
  const int m = blockIdx.y * kTile + threadIdx.y;
  if (m >= M || n >= N) return;
  float sum = 0.0f;
  for (int k = 0; k < K; ++k) sum += A[int64_t(m) * K + k] * B[int64_t(k) * N + n];
  C[int64_t(m) * N + n] = sum;
}
// end lesson

}  // namespace

void matmul_coalesced(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, kTile), grid_size(M, kTile));
  coalesced_kernel<<<grid, dim3(kTile, kTile)>>>(C, A, B, M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
