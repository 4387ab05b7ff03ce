// chapters/12_cuda_matmul/matmul_6_vectorized.cu — chapter 12, version 6: float4 loads, A transposed.
//
// Version 5's arithmetic, with wider memory instructions:
//  * global → shared: each thread copies its share of a tile as float4s
//    (load_tile in tile_load.cuh), a quarter of the load instructions;
//  * A's tile is stored TRANSPOSED in shared memory, As[k][m], so that the 8
//    values of A a thread needs at step k are contiguous and arrive in two
//    float4 reads from shared memory, like the 8 values of B (Bs[k][n]);
//  * C is written as float4s too.
// Edges: load_tile reads edge tiles float by float, and a row of C whose
// length is not a multiple of 4 (or a C that is not 16-byte aligned) is
// written float by float, so any M, N, K work.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/12_cuda_matmul/tile_load.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

// lesson: vectorized_kernel
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    vectorized_kernel(float* C, const float* A, const float* B, int M, int N, int K, bool vec_a,
                      bool vec_b, bool vec_c) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  static_assert(TM % 4 == 0 && TN % 4 == 0, "float4 reads of the register tiles");
  __shared__ __align__(16) float As[BK * BM];  // As[k][m]: transposed
  __shared__ __align__(16) float Bs[BK * BN];  // Bs[k][n]
  const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
  const int row0 = threadIdx.x / (BN / TN) * TM;
  const int col0 = threadIdx.x % (BN / TN) * TN;
  float acc[TM][TN] = {};
  float a[TM], b[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BM, BK, kThreads, true>(As, A, M, K, K, bm, k0, vec_a);
    load_tile<BK, BN, kThreads, false>(Bs, B, K, N, N, k0, bn, vec_b);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int i = 0; i < TM; i += 4) {
        const float4 t = *reinterpret_cast<const float4*>(&As[k * BM + row0 + i]);
        a[i] = t.x, a[i + 1] = t.y, a[i + 2] = t.z, a[i + 3] = t.w;
      }
#pragma unroll
      for (int j = 0; j < TN; j += 4) {
        const float4 t = *reinterpret_cast<const float4*>(&Bs[k * BN + col0 + j]);
        b[j] = t.x, b[j + 1] = t.y, b[j + 2] = t.z, b[j + 3] = t.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i) {
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = bm + row0 + i;
    if (m >= M) break;
#pragma unroll
    for (int j = 0; j < TN; j += 4) {
      const int n = bn + col0 + j;
      float* c = C + int64_t(m) * N + n;
      if (vec_c && n + 3 < N) {
        *reinterpret_cast<float4*>(c) =
            make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q) {  // unrolled: acc stays in registers
          if (n + q < N) c[q] = acc[i][j + q];
        }
      }
    }
  }
}
// end lesson

constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;

}  // namespace

void matmul_vectorized(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, kBN), grid_size(M, kBM));
  vectorized_kernel<kBM, kBN, kBK, kTM, kTN><<<grid, (kBM / kTM) * (kBN / kTN)>>>(
      C, A, B, M, N, K, vector_ok(A, K), vector_ok(B, N), vector_ok(C, N));
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
