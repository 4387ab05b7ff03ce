// chapters/17_mixed_precision/bf16_matmul_2_mma.cu — chapter 17, version 2: mma.sync fed by ldmatrix from a swizzled tile.
//
// Version 1's WMMA calls hide two instructions: ldmatrix (shared memory →
// fragment registers) and mma.sync (the tensor cores' 16×8×16 product). Here
// the kernel issues them itself (tensor_core_ptx.cuh), which buys three things:
//   * a larger tile per warp, 64×32, so each fragment of A is used 4 times
//     and each of B 4 times from registers;
//   * a shared-memory layout of our choosing: swizzled (mma_tile.cuh), so
//     that ldmatrix's 8 row reads never share a bank;
//   * the bf16 write straight from the accumulators' registers, with no
//     float tile staged in shared memory.
// The block: 8 warps (2 × 4) own a 128×128 tile of out; K advances in
// slices of 32. The copies are plain: each thread loads 16-byte pieces into
// registers and stores them to shared memory, then the block meets at a
// barrier before any warp reads them.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/mma_tile.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::bf16_matmul_internal {
namespace {

constexpr int BM = 128, BN = 128, BK = 32;  // the block's tile of out, and its K slice
constexpr int WARPS_M = 2, WARPS_N = 4;
constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;  // 64 × 32, a warp's part
constexpr int MI = WM / 16, NI = WN / 8;             // 4 × 4 mma blocks per warp
constexpr int kThreads = WARPS_M * WARPS_N * kWarpSize;

// lesson: load_tile_sync
// Rows r0 .. r0 + ROWS of src (rows × K), columns k0 .. k0 + BK, into a
// swizzled (ROWS, BK) tile; zeros past the matrix's last row or column.
template <int ROWS>
__device__ __forceinline__ void load_tile(__nv_bfloat16* tile, const __nv_bfloat16* src, int rows,
                                          int K, int r0, int k0) {
  constexpr int kPieces = BK / kPiece;
  for (int q = threadIdx.x; q < ROWS * kPieces; q += kThreads) {
    const int r = q / kPieces, c = q % kPieces;
    const int row = r0 + r, k = k0 + c * kPiece;
    Piece piece = {};
    if (row < rows && k < K) {
      piece = *reinterpret_cast<const Piece*>(src + static_cast<size_t>(row) * K + k);
    }
    *reinterpret_cast<Piece*>(tile + swizzled<BK>(r, c)) = piece;
  }
}
// end lesson

__global__ void __launch_bounds__(kThreads)
    mma_kernel(__nv_bfloat16* out, const __nv_bfloat16* A, const __nv_bfloat16* B, int M, int N,
               int K) {
  __shared__ __align__(128) __nv_bfloat16 As[BM * BK];  // (BM, BK), swizzled
  __shared__ __align__(128) __nv_bfloat16 Bs[BN * BK];  // (BN, BK), swizzled
  const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int wm0 = warp / WARPS_N * WM, wn0 = warp % WARPS_N * WN;
  float acc[MI][NI][4] = {};  // the warp's 64×32 of out, in mma fragments
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BM>(As, A, M, K, bm, k0);
    load_tile<BN>(Bs, B, N, K, bn, k0);
    __syncthreads();  // the slice is in shared memory
    mma_slice<BK>(acc, As, Bs, wm0, wn0, lane);
    __syncthreads();  // every warp is done with it before it is overwritten
  }
  store_bf16(out, acc, bm + wm0, bn + wn0, M, N, lane);
}

}  // namespace

void matmul_mma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, BN), grid_size(M, BM));
  mma_kernel<<<grid, kThreads>>>(reinterpret_cast<__nv_bfloat16*>(out),
                                 reinterpret_cast<const __nv_bfloat16*>(A),
                                 reinterpret_cast<const __nv_bfloat16*>(B), M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::bf16_matmul_internal
