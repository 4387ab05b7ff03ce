// chapters/12_cuda_matmul/matmul_4_register_1d.cu — chapter 12, version 4: several results per thread.
//
// Version 3 does one multiply-add per two shared-memory reads: shared memory,
// not arithmetic, is the bottleneck. Here each thread computes TM = 8
// elements of one column of C. At every step k of a tile it reads one B
// value into a register and reuses it for its 8 rows: 8 multiply-adds per
// 9 shared-memory reads (the 8 A values are the same for the whole warp, a
// broadcast). The block's tile of C grows to BM×BN = 64×64 with only
// BM·BN/TM = 512 threads, and its K slice shrinks to BK = 8 so that every
// thread copies exactly one element of each input tile.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

// lesson: register_1d_kernel
template <int BM, int BN, int BK, int TM>
__global__ void register_1d_kernel(float* C, const float* A, const float* B, int M, int N,
                                   int K) {
  constexpr int kThreads = BM * BN / TM;
  static_assert(BM * BK == kThreads && BK * BN == kThreads, "one tile element per thread");
  __shared__ float As[BM][BK];
  __shared__ float Bs[BK][BN];
  const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
  const int col = threadIdx.x % BN;        // this thread's column of the C tile
  const int rows = threadIdx.x / BN * TM;  // and its first row: TM rows below it
  float acc[TM] = {};                      // TM results, in registers
  for (int k0 = 0; k0 < K; k0 += BK) {
    const int ar = threadIdx.x / BK, ac = threadIdx.x % BK;  // the element of A it copies
    const int br = threadIdx.x / BN, bc = threadIdx.x % BN;  // and of B
    As[ar][ac] = bm + ar < M && k0 + ac < K ? A[int64_t(bm + ar) * K + k0 + ac] : 0.0f;
    Bs[br][bc] = k0 + br < K && bn + bc < N ? B[int64_t(k0 + br) * N + bn + bc] : 0.0f;
    __syncthreads();
    for (int k = 0; k < BK; ++k) {
      const float b = Bs[k][col];  // one read, reused TM times
      for (int i = 0; i < TM; ++i) acc[i] += As[rows + i][k] * b;
    }
    __syncthreads();
  }
  for (int i = 0; i < TM; ++i) {
    const int m = bm + rows + i, n = bn + col;
    if (m < M && n < N) C[int64_t(m) * N + n] = acc[i];
  }
}
// end lesson

constexpr int kBM = 64, kBN = 64, kBK = 8, kTM = 8;

}  // namespace

void matmul_register_1d(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, kBN), grid_size(M, kBM));
  register_1d_kernel<kBM, kBN, kBK, kTM>
      <<<grid, kBM * kBN / kTM>>>(C, A, B, M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
