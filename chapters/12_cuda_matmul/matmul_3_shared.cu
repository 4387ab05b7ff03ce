// chapters/12_cuda_matmul/matmul_3_shared.cu — chapter 12, version 3: tiles in shared memory.
// Exercise: matmul_3_shared_exercise.cu is this file with the kernel's body removed.
//
// In version 2 every thread reads its whole row of A and column of B from
// global memory: a 32×32 block of threads reads each element of its A rows
// and B columns 32 times. Here the block first copies a TILE×TILE tile of A
// and one of B into shared memory (on-chip, a few cycles away), each thread
// copying one element of each, waits at a barrier, and then every thread
// reads the TILE products it needs from shared memory. Global traffic drops
// by a factor TILE. Elements outside the matrices are stored as 0, so a
// partial tile at an edge adds nothing.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

// lesson: shared_kernel
// TILE = 32: a block of 32×32 = 1024 threads (the most a block may have),
// one warp per row of the tile, and 2 · 32 · 32 · 4 = 8 KiB of shared memory.
template <int TILE>
__global__ void shared_kernel(float* C, const float* A, const float* B, int M, int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m = blockIdx.y * TILE + ty, n = blockIdx.x * TILE + tx;
  float sum = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TILE) {
    // Each thread copies one element of each tile (0 outside the matrices).
    As[ty][tx] = m < M && k0 + tx < K ? A[int64_t(m) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = k0 + ty < K && n < N ? B[int64_t(k0 + ty) * N + n] : 0.0f;
    __syncthreads();  // the tiles are complete
    for (int k = 0; k < TILE; ++k) sum += As[ty][k] * Bs[k][tx];
    __syncthreads();  // everyone is done with the tiles before they are overwritten
  }
  if (m < M && n < N) C[int64_t(m) * N + n] = sum;
}
// end lesson

constexpr int kTile = 32;

}  // namespace

void matmul_shared(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, kTile), grid_size(M, kTile));
  shared_kernel<kTile><<<grid, dim3(kTile, kTile)>>>(C, A, B, M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
