// chapters/17_mixed_precision/bf16_matmul_1_wmma_exercise.cu — chapter 17 exercise: version 1, the tensor cores through CUDA's WMMA API.
//
// Your version of bf16_matmul_1_wmma.cu: the kernel below stages every slice
// of A and B in shared memory and writes the accumulators out, but never
// multiplies. The lesson's section on WMMA teaches it, and
// chapters/17_mixed_precision/HINTS.md has graded hints. Build and test it
// (on a GPU, or without one on the CPU emulator) with
//   bazel test --define=exercise=17_mixed_precision/bf16_matmul_1_wmma //chapters/17_mixed_precision/...
//
// A tensor core multiplies small matrices in one instruction. CUDA's WMMA
// API (<mma.h>, namespace nvcuda::wmma) hands them to a warp as "fragments":
// a 16×16 tile of A, a 16×16 tile of B and a 16×16 accumulator, spread over
// the warp's 32 lanes in a layout the API keeps to itself. Three calls do
// all the work, each made by all 32 lanes together:
//   load_matrix_sync   a 16×16 tile from memory into a fragment
//   mma_sync           acc += a · b, the products exact, the sums in float32
//   store_matrix_sync  an accumulator back to memory
// The kernel is chapter 12's shared-memory tiling with fragments in place of
// a thread's scalars: a block of 4 warps (2 × 2) owns a 64×64 tile of out,
// each warp 32×32 of it (2 × 2 fragments); K advances in slices of 32,
// staged in shared memory. Each row of a staged slice is padded by 8 bf16
// (80 bytes a row), so that any 8 consecutive rows start in 8 different
// 16-byte groups of banks. At the end the
// accumulators go through shared memory as float32 and are rounded once to
// bf16 on their way out.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/mma_tile.cuh"  // Piece: eight bf16 in one 16-byte copy
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::bf16_matmul_internal {
namespace {

using namespace nvcuda;

constexpr int BM = 64, BN = 64, BK = 32;  // the block's tile of out, and its K slice
constexpr int LD = BK + 8;                // a staged row, padded: 80 bytes
constexpr int kThreads = 4 * kWarpSize;   // 4 warps, 2 × 2, each 32×32 of out

// Rows r0 .. r0 + 64 of src (rows × K), columns k0 .. k0 + BK, into tile
// (64, LD); zeros past the matrix's last row or column.
__device__ __forceinline__ void load_slice(__nv_bfloat16* tile, const __nv_bfloat16* src,
                                           int rows, int K, int r0, int k0) {
  constexpr int kPieces = BK / 8;
  for (int q = threadIdx.x; q < 64 * kPieces; q += kThreads) {
    const int r = q / kPieces, c = q % kPieces;
    const int row = r0 + r, k = k0 + c * 8;
    Piece piece = {};
    if (row < rows && k < K) {
      piece = *reinterpret_cast<const Piece*>(src + static_cast<size_t>(row) * K + k);
    }
    *reinterpret_cast<Piece*>(tile + r * LD + c * 8) = piece;
  }
}

__global__ void __launch_bounds__(kThreads)
    wmma_kernel(__nv_bfloat16* out, const __nv_bfloat16* A, const __nv_bfloat16* B, int M, int N,
                int K) {
  __shared__ __align__(32) __nv_bfloat16 As[BM * LD];  // (BM, BK) of A, rows padded
  __shared__ __align__(32) __nv_bfloat16 Bs[BN * LD];  // (BN, BK) of B, rows padded
  __shared__ __align__(32) float Cs[BM * BN];          // (BM, BN): the accumulators on their way out
  const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
  const int warp = threadIdx.x / kWarpSize;
  const int wm0 = warp / 2 * 32, wn0 = warp % 2 * 32;  // the warp's 32×32 of the tile
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  }
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_slice(As, A, M, K, bm, k0);
    load_slice(Bs, B, N, K, bn, k0);
    __syncthreads();
    // TODO(exercise): multiply the slice. For each 16-deep step kk of the
    // slice, load this warp's two 16×16 fragments of A (rows wm0 + 16i of As)
    // and two of B (rows wn0 + 16j of Bs, which is B's tile in column-major
    // order), then acc[i][j] += a[i] · b[j] with wmma::mma_sync.
    // Fragments: wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major>
    //            wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major>
    // Each staged row is LD bf16 long.
    __syncthreads();
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(Cs + (wm0 + 16 * i) * BN + wn0 + 16 * j, acc[i][j], BN,
                              wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int q = threadIdx.x; q < BM * BN; q += kThreads) {  // round once, to bf16
    const int row = bm + q / BN, col = bn + q % BN;
    if (row < M && col < N) out[static_cast<size_t>(row) * N + col] = __float2bfloat16(Cs[q]);
  }
}

}  // namespace

void matmul_wmma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, BN), grid_size(M, BM));
  wmma_kernel<<<grid, kThreads>>>(reinterpret_cast<__nv_bfloat16*>(out),
                                  reinterpret_cast<const __nv_bfloat16*>(A),
                                  reinterpret_cast<const __nv_bfloat16*>(B), M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::bf16_matmul_internal
