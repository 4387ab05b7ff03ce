// chapters/12_cuda_matmul/matmul_7_warptile.cu — chapter 12, version 7: warp tiling, and the GPT's general product.
//
// Version 6 splits the block's 128×128 tile among threads; version 7 adds a
// level in between, as the hardware has one: the block's 8 warps each own a
// WM×WN = 64×32 sub-tile, and inside it each lane computes WMITER×WNITER = 2×2
// small TM×TN = 4×4 blocks, spaced WSUBM = 32 rows and WSUBN = 16 columns apart.
// Why that shape:
//  * at step k the 32 lanes of a warp read 8 neighbouring float4s of As and
//    4 of Bs: contiguous, so shared memory serves them without bank
//    conflicts (version 6's 8-float strides gave two-way conflicts);
//  * a lane still does 64 multiply-adds per 16 floats read (4 float4s: 2 of
//    As, 2 of Bs);
//  * BK = 16: a tile pair holds 2 · 16 · 128 floats = 16 KiB, and the block
//    meets at a barrier half as often per multiply-add as in version 6.
// The same kernel computes every product the GPT needs (matmul.h, Gemm):
// op(A) and op(B) may be transposes of the stored matrices (only the tile
// copy changes: a transposed operand is copied with the other load_tile),
// and the epilogue can add C's old value and a bias.
#include <cuda_runtime.h>

#include <stdexcept>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/12_cuda_matmul/tile_load.cuh"
#include "chapters/12_cuda_matmul/write_c.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

constexpr int BM = 128, BN = 128, BK = 16;      // the block's tile of C, and its K slice
constexpr int WM = 64, WN = 32;                 // a warp's sub-tile
constexpr int WMITER = 2, WNITER = 2;           // a lane's blocks per warp sub-tile
constexpr int TM = 4, TN = 4;                   // a lane's block
constexpr int WSUBM = WM / WMITER, WSUBN = WN / WNITER;  // 32 × 16: 8 × 4 lanes of 4×4
constexpr int kThreads = (BM / WM) * (BN / WN) * kWarpSize;  // 8 warps
static_assert(TM == 4 && TN == 4, "one float4 per lane block row");
static_assert((WSUBM / TM) * (WSUBN / TN) == kWarpSize, "a warp's lanes tile a 32×16 block");

// lesson: warptile_kernel
// C = op(A) · op(B) (+ C) (+ bias): op(A) is (M, K), op(B) is (K, N).
template <bool TRANS_A, bool TRANS_B>
__global__ void __launch_bounds__(kThreads)
    warptile_kernel(float* C, const float* A, const float* B, int M, int N, int K,
                    bool accumulate, const float* bias, bool vec_a, bool vec_b, bool vec_c) {
  __shared__ __align__(16) float As[BK * BM];  // As[k][m]
  __shared__ __align__(16) float Bs[BK * BN];  // Bs[k][n]
  const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int wm0 = warp / (BN / WN) * WM, wn0 = warp % (BN / WN) * WN;  // the warp's sub-tile
  const int lm0 = lane / (WSUBN / TN) * TM, ln0 = lane % (WSUBN / TN) * TN;  // the lane's block
  float acc[WMITER][WNITER][TM][TN] = {};
  float a[WMITER][TM], b[WNITER][TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    if (TRANS_A) {  // A is stored (K, M): its rows are already As's rows
      load_tile<BK, BM, kThreads, false>(As, A, K, M, M, k0, bm, vec_a);
    } else {        // A is stored (M, K): transpose while copying
      load_tile<BM, BK, kThreads, true>(As, A, M, K, K, bm, k0, vec_a);
    }
    if (TRANS_B) {  // B is stored (N, K)
      load_tile<BN, BK, kThreads, true>(Bs, B, N, K, K, bn, k0, vec_b);
    } else {        // B is stored (K, N)
      load_tile<BK, BN, kThreads, false>(Bs, B, K, N, N, k0, bn, vec_b);
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int wm = 0; wm < WMITER; ++wm) {
        const float4 t = *reinterpret_cast<const float4*>(&As[k * BM + wm0 + wm * WSUBM + lm0]);
        a[wm][0] = t.x, a[wm][1] = t.y, a[wm][2] = t.z, a[wm][3] = t.w;
      }
#pragma unroll
      for (int wn = 0; wn < WNITER; ++wn) {
        const float4 t = *reinterpret_cast<const float4*>(&Bs[k * BN + wn0 + wn * WSUBN + ln0]);
        b[wn][0] = t.x, b[wn][1] = t.y, b[wn][2] = t.z, b[wn][3] = t.w;
      }
#pragma unroll
      for (int wm = 0; wm < WMITER; ++wm) {
#pragma unroll
        for (int wn = 0; wn < WNITER; ++wn) {
#pragma unroll
          for (int i = 0; i < TM; ++i) {
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[wm][wn][i][j] += a[wm][i] * b[wn][j];
          }
        }
      }
    }
    __syncthreads();
  }
  // Epilogue: each lane's 4 neighbouring columns, as a float4 where possible.
#pragma unroll
  for (int wm = 0; wm < WMITER; ++wm) {
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int m = bm + wm0 + wm * WSUBM + lm0 + i;
      if (m >= M) continue;
#pragma unroll
      for (int wn = 0; wn < WNITER; ++wn) {
        write_c4(C, N, m, bn + wn0 + wn * WSUBN + ln0, acc[wm][wn][i], accumulate, bias,
                 vec_c);  // write_c.cuh
      }
    }
  }
}
// end lesson

template <bool TRANS_A, bool TRANS_B>
void launch(float* C, const float* A, const float* B, int M, int N, int K, bool accumulate,
            const float* bias) {
  const dim3 grid(grid_size(N, BN), grid_size(M, BM));
  warptile_kernel<TRANS_A, TRANS_B><<<grid, kThreads>>>(
      C, A, B, M, N, K, accumulate, bias, vector_ok(A, TRANS_A ? M : K),
      vector_ok(B, TRANS_B ? K : N), vector_ok(C, N));
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void matmul_warptile(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
                     bool trans_b, bool accumulate, const float* bias) {
  // Only the three products a linear layer needs are compiled.
  if (!trans_a && !trans_b) {
    launch<false, false>(C, A, B, M, N, K, accumulate, bias);  // matmul; linear's dinp = dout · W
  } else if (!trans_a && trans_b) {
    launch<false, true>(C, A, B, M, N, K, accumulate, bias);  // linear forward: inp · Wᵀ
  } else if (trans_a && !trans_b) {
    launch<true, false>(C, A, B, M, N, K, accumulate, bias);  // linear's dW = doutᵀ · inp
  } else {
    throw std::invalid_argument("gemm: trans_a and trans_b together are not compiled");
  }
}

}  // namespace gpt::cuda::matmul_internal
