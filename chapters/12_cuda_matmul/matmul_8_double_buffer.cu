// chapters/12_cuda_matmul/matmul_8_double_buffer.cu — chapter 12, version 8: double buffering, and tuned tile shapes.
//
// Version 7 stalls twice per K slice: every thread waits for its global loads
// (hundreds of cycles) before it can copy them to shared memory, and the
// whole block waits at two barriers. Version 8 keeps two copies of each tile
// in shared memory and overlaps the next slice's loads with this slice's
// arithmetic:
//     fetch slice t+1 into registers   (TilePrefetch::fetch: loads in flight)
//     multiply-add on slice t          (shared buffer t % 2)
//     store slice t+1 to the other buffer, one barrier
// One barrier per slice is enough: the buffer being written was last read in
// the previous slice, and every thread has passed the barrier since.
//
// The tile shapes are template parameters, and which shape is fastest depends
// on the GPU (registers per SM, shared memory, clock), so the chapter does
// what libraries do: it compiles a few candidates (kShapes below), the
// benchmark times them all (matmul/SHAPE/v8_<candidate>), and the default
// is the one that won on the GPU the course was measured on (results/).
// Every candidate computes the same product, checked by the tests.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/12_cuda_matmul/tile_load.cuh"
#include "chapters/12_cuda_matmul/write_c.cuh"
#include "common/cuda/cuda_check.h"
#include "common/cuda/dynamic_shared.h"

namespace gpt::cuda::matmul_internal {
namespace {

// lesson: double_buffer_shape
// A block computes a BM×BN tile of C in K slices of BK; each warp a WM×WN
// sub-tile, which its lanes cover with WMITER×WNITER blocks of 4×4 (as in
// version 7: a lane's 4×4 blocks are one float4 of As and one of Bs per k).
// MIN_BLOCKS asks the compiler to fit that many blocks on an SM (it then
// keeps each thread within 65,536 / (MIN_BLOCKS · threads) registers).
// GROUP > 1 hands tiles to blocks in groups of GROUP tile rows (see tile_of).
// DOWN: the transposed copies hand out float4s down the columns (tile_load.cuh).
template <int BM_, int BN_, int BK_, int WM_, int WN_, int WNITER_, int MIN_BLOCKS_ = 1,
          int GROUP_ = 1, bool DOWN_ = false>
struct TileShape {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, WM = WM_, WN = WN_, WNITER = WNITER_;
  static constexpr int MIN_BLOCKS = MIN_BLOCKS_, GROUP = GROUP_;
  static constexpr bool DOWN = DOWN_;
  static constexpr int TM = 4, TN = 4;
  static constexpr int WSUBN = WN / WNITER;                  // a warp sub-block's width
  static constexpr int LANES_N = WSUBN / TN;                 // lanes across it
  static constexpr int WSUBM = (kWarpSize / LANES_N) * TM;   // and its height
  static constexpr int WMITER = WM / WSUBM;
  static constexpr int kThreads = (BM / WM) * (BN / WN) * kWarpSize;
  static constexpr int kSharedBytes = 2 * BK * (BM + BN) * 4;  // two buffers of As and Bs
  static_assert(BM % WM == 0 && BN % WN == 0 && WN % WNITER == 0, "warps tile the block");
  static_assert(WSUBN % TN == 0 && kWarpSize % LANES_N == 0 && WM % WSUBM == 0,
                "lanes tile a warp's sub-block");
};
// end lesson

// lesson: tile_of
// Which tile of C this block computes. Blocks start roughly in the order of
// their index, x fastest: by default a wave of blocks covers a few whole
// rows of tiles, which read a few rows of A but ALL of B — at 4096³ each
// operand is 64 MiB, more than the H100's 50 MB L2, so B streams from HBM
// again for every few rows. With GROUP > 1 consecutive blocks go down
// GROUP tile rows before moving right, so a wave covers a squarer patch
// of C and reads a strip of A and a strip of B that stay in L2.
template <int GROUP>
__device__ __forceinline__ int2 tile_of() {
  if (GROUP <= 1) return make_int2(blockIdx.y, blockIdx.x);  // (row, column) of tiles
  const int tiles_m = gridDim.y, tiles_n = gridDim.x;
  const int id = blockIdx.y * tiles_n + blockIdx.x;      // the launch order
  const int group = id / (GROUP * tiles_n);              // GROUP tile rows per group
  const int first = group * GROUP;
  const int rows = min(GROUP, tiles_m - first);          // the last group may be short
  const int in_group = id - group * GROUP * tiles_n;
  return make_int2(first + in_group % rows, in_group / rows);
}
// end lesson

// lesson: double_buffer_kernel
template <typename S, bool TRANS_A, bool TRANS_B, bool SPLIT_K>
__global__ void __launch_bounds__(S::kThreads, S::MIN_BLOCKS)
    double_buffer_kernel(float* C, const float* A, const float* B, int M, int N, int K,
                         int k_chunk, bool accumulate, const float* bias, bool vec_a, bool vec_b,
                         bool vec_c) {
  constexpr int BM = S::BM, BN = S::BN, BK = S::BK, TM = S::TM, TN = S::TN;
  extern __shared__ __align__(16) float shared[];  // As[2][BK][BM], then Bs[2][BK][BN]
  float* const As = shared;
  float* const Bs = shared + 2 * BK * BM;
  // A's slice is (BM, BK) of a stored (M, K) — copied transposed — or, with
  // TRANS_A, (BK, BM) of a stored (K, M); B's likewise.
  using FetchA = std::conditional_t<TRANS_A, TilePrefetch<BK, BM, S::kThreads, false>,
                                    TilePrefetch<BM, BK, S::kThreads, true, S::DOWN>>;
  using FetchB = std::conditional_t<TRANS_B, TilePrefetch<BN, BK, S::kThreads, true, S::DOWN>,
                                    TilePrefetch<BK, BN, S::kThreads, false>>;
  FetchA next_a;
  FetchB next_b;
  const int2 tile = tile_of<S::GROUP>();
  const int bm = tile.x * BM, bn = tile.y * BN;
  // Split-K (section 12): layer z of the grid sums K from z·k_chunk, k_len
  // deep, into its own (M, N) slab of C. (A template switch: unsplit, the
  // compiler sees k_len = K and spends no registers on any of this.)
  const int k_begin = SPLIT_K ? blockIdx.z * k_chunk : 0;
  const int k_len = SPLIT_K ? min(k_chunk, K - k_begin) : K;
  if (SPLIT_K) {
    A += TRANS_A ? int64_t(k_begin) * M : k_begin;  // the row strides stay K, M, N, K
    B += TRANS_B ? k_begin : int64_t(k_begin) * N;
    C += int64_t(blockIdx.z) * M * N;
  }
  auto fetch = [&](int k0) {
    if (TRANS_A) next_a.fetch(A, k_len, M, M, k0, bm, vec_a);
    else next_a.fetch(A, M, k_len, K, bm, k0, vec_a);
    if (TRANS_B) next_b.fetch(B, N, k_len, K, bn, k0, vec_b);
    else next_b.fetch(B, k_len, N, N, k0, bn, vec_b);
  };

  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int wm0 = warp / (BN / S::WN) * S::WM, wn0 = warp % (BN / S::WN) * S::WN;
  const int lm0 = lane / S::LANES_N * TM, ln0 = lane % S::LANES_N * TN;
  float acc[S::WMITER][S::WNITER][TM][TN] = {};
  float a[S::WMITER][TM], b[S::WNITER][TN];

  fetch(0);
  next_a.store(As);
  next_b.store(Bs);
  __syncthreads();
  const int slices = (k_len + BK - 1) / BK;
  for (int t = 0; t < slices; ++t) {
    const int cur = t % 2;
    const bool more = t + 1 < slices;
    if (more) fetch((t + 1) * BK);  // in flight during the arithmetic below
    const float* as = As + cur * BK * BM;
    const float* bs = Bs + cur * BK * BN;
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int wm = 0; wm < S::WMITER; ++wm) {
        const float4 v = *reinterpret_cast<const float4*>(&as[k * BM + wm0 + wm * S::WSUBM + lm0]);
        a[wm][0] = v.x, a[wm][1] = v.y, a[wm][2] = v.z, a[wm][3] = v.w;
      }
#pragma unroll
      for (int wn = 0; wn < S::WNITER; ++wn) {
        const float4 v = *reinterpret_cast<const float4*>(&bs[k * BN + wn0 + wn * S::WSUBN + ln0]);
        b[wn][0] = v.x, b[wn][1] = v.y, b[wn][2] = v.z, b[wn][3] = v.w;
      }
#pragma unroll
      for (int wm = 0; wm < S::WMITER; ++wm) {
#pragma unroll
        for (int wn = 0; wn < S::WNITER; ++wn) {
#pragma unroll
          for (int i = 0; i < TM; ++i) {
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[wm][wn][i][j] += a[wm][i] * b[wn][j];
          }
        }
      }
    }
    if (more) {  // the other buffer: nobody has read it since the last barrier
      next_a.store(As + (1 - cur) * BK * BM);
      next_b.store(Bs + (1 - cur) * BK * BN);
    }
    __syncthreads();
  }
  // end lesson
  // Epilogue, as in version 7: a lane's 4 neighbouring columns as one float4.
#pragma unroll
  for (int wm = 0; wm < S::WMITER; ++wm) {
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int m = bm + wm0 + wm * S::WSUBM + lm0 + i;
      if (m >= M) continue;
#pragma unroll
      for (int wn = 0; wn < S::WNITER; ++wn) {
        write_c4(C, N, m, bn + wn0 + wn * S::WSUBN + ln0, acc[wm][wn][i], accumulate, bias,
                 vec_c);  // write_c.cuh
      }
    }
  }
}

template <typename S>
KSplit split_for(int M, int N, int K) {
  const int64_t tiles = int64_t(grid_size(N, S::BN)) * grid_size(M, S::BM);
  return choose_k_split(tiles, int64_t(S::MIN_BLOCKS) * multiprocessor_count(), K, S::BK);
}

// The kernel, after asking (once) for its shared memory where it needs more
// than the 48 KiB a kernel gets without asking.
template <typename S, bool TRANS_A, bool TRANS_B, bool SPLIT_K>
auto kernel_ready() {
  return with_dynamic_shared<double_buffer_kernel<S, TRANS_A, TRANS_B, SPLIT_K>,
                             S::kSharedBytes>();
}

// splits: kAutoSplit (split_for decides) or how many layers to try for (1: none).
template <typename S, bool TRANS_A, bool TRANS_B, bool ALLOW_SPLIT = false>
void launch(float* C, const float* A, const float* B, int M, int N, int K, bool accumulate,
            const float* bias, int splits = 1) {
  const bool vec_a = vector_ok(A, TRANS_A ? M : K), vec_b = vector_ok(B, TRANS_B ? K : N);
  // lesson: split_k_launch
  const KSplit split = !ALLOW_SPLIT        ? KSplit{1, K}
                       : splits == kAutoSplit ? split_for<S>(M, N, K)
                                              : k_split_of(splits, K, S::BK);
  const dim3 grid(grid_size(N, S::BN), grid_size(M, S::BM), split.splits);
  if (split.splits == 1) {
    auto kernel = kernel_ready<S, TRANS_A, TRANS_B, false>();
    kernel<<<grid, S::kThreads, S::kSharedBytes>>>(C, A, B, M, N, K, K, accumulate, bias, vec_a,
                                                    vec_b, vector_ok(C, N));
    CUDA_CHECK(cudaGetLastError());
    return;
  }
  float* partials = partials_workspace(size_t(split.splits) * M * N);  // (splits, M, N)
  auto kernel = kernel_ready<S, TRANS_A, TRANS_B, ALLOW_SPLIT>();
  kernel<<<grid, S::kThreads, S::kSharedBytes>>>(partials, A, B, M, N, K, split.chunk, false,
                                                  nullptr, vec_a, vec_b, vector_ok(partials, N));
  CUDA_CHECK(cudaGetLastError());
  sum_partials(C, partials, split.splits, M, N, accumulate, bias);  // split_k.cu
  // end lesson
}

// lesson: double_buffer_candidates
// The candidates: (BM, BN, BK, WM, WN, WNITER). Threads = 32 per warp tile;
// a lane holds WM·WN/32 results: 64 (8 warps of 64×32) or 128 (64×64).
using Shape0 = TileShape<128, 128, 16, 64, 32, 2>;     // version 7's tiles, double-buffered
using Shape1 = TileShape<128, 128, 16, 64, 32, 2, 2>;  // the same in 128 registers: 2 blocks an SM
using Shape2 = TileShape<128, 128, 8, 64, 32, 2>;      // thinner slices, fewer registers
using Shape3 = TileShape<128, 128, 32, 64, 32, 2>;     // thicker slices: fewer barriers
using Shape4 = TileShape<128, 128, 16, 64, 64, 4>;     // 4 warps of 64×64, 128 results a lane
using Shape5 = TileShape<128, 256, 16, 64, 64, 4>;     // 8 warps of 64×64
using Shape6 = TileShape<256, 128, 16, 64, 64, 4>;
using Shape7 = TileShape<64, 128, 16, 32, 64, 4>;      // small blocks, for small products
using Shape8 = TileShape<128, 128, 8, 64, 32, 2, 2, 8>;   // Shape2 in 2 blocks an SM, tiles in
                                                          // groups of 8 rows
using Shape9 = TileShape<128, 128, 16, 64, 32, 2, 1, 8>;  // Shape0, tiles in groups of 8 rows
using Shape10 = TileShape<128, 128, 16, 64, 32, 2, 2, 1, true>;  // Shape1, copies down columns
using Shape11 = TileShape<128, 128, 8, 64, 32, 2, 2, 1, true>;   // Shape2 in 2 blocks, down
using Shape12 = TileShape<128, 128, 8, 64, 32, 2, 2, 8, true>;   // Shape8, down
using Default = Shape1;  // fastest on the H100 and on the H200 at 4096³ and at GPT-2's shapes
                         // (results/h100, results/h200)
// end lesson

// BMxBNxBK_wWMxWN (+ "_2" for two blocks an SM, "_gG" for groups of G tile
// rows, "_d" for copies down the columns), in the order above. Shapes 8 to 12 were added
// after the H100 run; the H200 run timed them all, and none beats Shape1 at 4096³ or at
// GPT-2's shapes (results/h200).
const char* const kShapeNames[] = {"128x128x16_w64x32",     "128x128x16_w64x32_2",
                                   "128x128x8_w64x32",      "128x128x32_w64x32",
                                   "128x128x16_w64x64",     "128x256x16_w64x64",
                                   "256x128x16_w64x64",     "64x128x16_w32x64",
                                   "128x128x8_w64x32_2_g8", "128x128x16_w64x32_g8",
                                   "128x128x16_w64x32_2_d", "128x128x8_w64x32_2_d",
                                   "128x128x8_w64x32_2_g8_d"};

}  // namespace

int double_buffer_candidates() { return sizeof(kShapeNames) / sizeof(kShapeNames[0]); }

const char* double_buffer_candidate_name(int i) {
  if (i < 0 || i >= double_buffer_candidates()) {
    throw std::invalid_argument("double_buffer_candidate_name: no candidate " + std::to_string(i));
  }
  return kShapeNames[i];
}

void matmul_double_buffer_candidate(int i, float* C, const float* A, const float* B, int M, int N,
                                    int K) {
  switch (i) {
    case 0: return launch<Shape0, false, false>(C, A, B, M, N, K, false, nullptr);
    case 1: return launch<Shape1, false, false>(C, A, B, M, N, K, false, nullptr);
    case 2: return launch<Shape2, false, false>(C, A, B, M, N, K, false, nullptr);
    case 3: return launch<Shape3, false, false>(C, A, B, M, N, K, false, nullptr);
    case 4: return launch<Shape4, false, false>(C, A, B, M, N, K, false, nullptr);
    case 5: return launch<Shape5, false, false>(C, A, B, M, N, K, false, nullptr);
    case 6: return launch<Shape6, false, false>(C, A, B, M, N, K, false, nullptr);
    case 7: return launch<Shape7, false, false>(C, A, B, M, N, K, false, nullptr);
    case 8: return launch<Shape8, false, false>(C, A, B, M, N, K, false, nullptr);
    case 9: return launch<Shape9, false, false>(C, A, B, M, N, K, false, nullptr);
    case 10: return launch<Shape10, false, false>(C, A, B, M, N, K, false, nullptr);
    case 11: return launch<Shape11, false, false>(C, A, B, M, N, K, false, nullptr);
    case 12: return launch<Shape12, false, false>(C, A, B, M, N, K, false, nullptr);
    default:
      throw std::invalid_argument("matmul_double_buffer_candidate: no candidate " +
                                  std::to_string(i));
  }
}

KSplit double_buffer_split(int M, int N, int K) { return split_for<Default>(M, N, K); }

void matmul_double_buffer(float* C, const float* A, const float* B, int M, int N, int K,
                          bool trans_a, bool trans_b, bool accumulate, const float* bias,
                          int splits) {
  if (!trans_a && !trans_b) {
    launch<Default, false, false, true>(C, A, B, M, N, K, accumulate, bias, splits);
  } else if (!trans_a && trans_b) {
    launch<Default, false, true, true>(C, A, B, M, N, K, accumulate, bias, splits);
  } else if (trans_a && !trans_b) {
    launch<Default, true, false, true>(C, A, B, M, N, K, accumulate, bias, splits);
  } else {
    throw std::invalid_argument("gemm: trans_a and trans_b together are not compiled");
  }
}

}  // namespace gpt::cuda::matmul_internal
