// chapters/17_mixed_precision/flash_attention_bf16.cu — chapter 17: flash attention's products on the tensor cores, its softmax in fp32.
//
// What this file teaches: chapter 13's fused attention, rewritten so that a
// WARP, not a thread, owns 16 rows, and every product is mma.sync. The
// algorithm is unchanged (online softmax forward; scores recomputed in the
// backward from lse; dk/dv and dq in separate kernels, so that every
// gradient row has one owner and no atomics are needed). Two pieces do all
// the multiplying:
//   * mma_slice (mma_tile.cuh, version 2's): X·Yᵀ for two row-major tiles in
//     shared memory, X (16 rows of the warp, hs) and Y (keys or queries, hs):
//     S = Q·Kᵀ, and the backward's Sᵀ = K·Qᵀ, dP = dO·Vᵀ, dPᵀ = V·dOᵀ;
//   * add_product (below): P·Y for P still in the warp's registers, as the
//     accumulator fragments S = Q·Kᵀ left it, and Y a (rows, hs) tile in
//     shared memory: O += P·V, dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K.
// Everything around the products stays fp32: scores are scaled and masked,
// m, l, lse and D are computed, and exp is taken, on the accumulators'
// values. Rows of a score tile live in quads of lanes (add_product's
// comment), so a row's max or sum is 2 shuffles away.
//
// Shapes: q, k, v, dout, out, dq, dk, dv (N, T, hs) and lse (N, T), fp32, as
// in chapter 13; or, for the calls that take the heads where they sit
// (flash_attention_bf16.h's HeadRows), the same rows inside the qkv
// projection's (B, T, 3C) and the merged (B, T, C). Only the kernels' fp32
// loads and stores see the difference. Scratch (GrowingDeviceBuffer, grown
// once): the bf16 copies of q, k, v (3·N·T·hs) for the forward, of q, k, v,
// dout (4·N·T·hs) and D (N·T floats) for the backward.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/17_mixed_precision/bf16_piece.cuh"
#include "chapters/17_mixed_precision/flash_attention_bf16.h"
#include "chapters/17_mixed_precision/mma_tile.cuh"
#include "chapters/17_mixed_precision/tensor_core_ptx.cuh"
#include "common/cuda/cuda_check.h"
#include "common/cuda/growing_buffer.h"

namespace gpt::cuda {
namespace {

using bf16 = __nv_bfloat16;
using bf16_matmul_internal::kPiece;
using bf16_matmul_internal::mma_slice;
using bf16_matmul_internal::swizzled;

// lesson: flash_bf16_tiles
// A block is 4 warps; each warp owns 16 rows of the block's outer tile of
// 64: queries in the forward and in dq, keys in dk/dv. The inner tiles
// stream past it: 64 keys in the forward, 32 queries (dk/dv) or keys (dq) in
// the backward, whose warps hold four tiles of accumulators (S, dP and two
// gradients) instead of the forward's two (S, O).
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
constexpr int kRows = 16 * kWarps;  // 64: the outer tile
constexpr int kForwardInner = 64;   // keys per step of the forward
constexpr int kBackwardInner = 32;  // queries (dk/dv) or keys (dq) per step of the backward
// end lesson
constexpr float kLog2e = 1.4426950408889634f;  // exp(x) = 2^(x·log2 e): the kernels use exp2f
constexpr float kLn2 = 0.69314718055994531f;

// ---------------------------------------------------------------------------
// Rounding to bf16, and the tiles in shared memory.

// lesson: head_rows
// Where the (T, hs) rows of sequence n = b·heads + h sit in an fp32 tensor:
// row t starts (b·T + t)·ld + h·hs floats from the tensor's start.
//   {1, hs}     (N, T, hs): one sequence after another, as chapter 13 keeps them
//   {H, C}      (B, T, C): head h's columns of each row, the heads merged
//   {H, 3C}     (B, T, 3C): the same inside the qkv projection's rows, from
//               q's third (k's starts C floats on, v's 2C)
struct HeadRows {
  int heads;  // H: sequences per batch row (1: each sequence its own)
  int ld;     // floats from one row of the tensor to the next
};

// Where row t of sequence n starts, in floats from the tensor's start.
__device__ __forceinline__ int64_t row_start(HeadRows rows, int n, int T, int hs, int t) {
  return (int64_t(n / rows.heads) * T + t) * rows.ld + int64_t(n % rows.heads) * hs;
}
// end lesson

// Up to four fp32 tensors of (N, T, hs) rows, each wherever it sits, to be
// rounded into one bf16 buffer, one tensor after another.
struct HeadSources {
  static constexpr int kMost = 4;
  const float* x[kMost];
  HeadRows rows[kMost];
  int count = 0;
};

// Tensor blockIdx.y of `sources` → out + blockIdx.y·N·T·hs, (N, T, hs) bf16,
// rounded to nearest even: thread i writes elements 8i .. 8i + 7 of it, 8
// consecutive columns of one row (hs is a multiple of 8), as one 16-byte store.
__global__ void heads_to_bf16_kernel(bf16* out, HeadSources sources, int T, int hs,
                                     int64_t per_tensor) {  // pieces of each tensor
  const int64_t i = global_thread();
  if (i >= per_tensor) return;
  const int which = blockIdx.y;
  const int64_t e = i * kPiece, r = e / hs;  // r = n·T + t
  const int d = static_cast<int>(e % hs), n = static_cast<int>(r / T), t = static_cast<int>(r % T);
  const float* src = sources.x[which] + row_start(sources.rows[which], n, T, hs, t) + d;
  pieces::Piece piece;
#pragma unroll
  for (int j = 0; j < kPiece; j += 2) piece.pair[j / 2] = __floats2bfloat162_rn(src[j], src[j + 1]);
  reinterpret_cast<pieces::Piece*>(out + which * per_tensor * kPiece)[i] = piece;
}

// Every tensor of `sources` into out, in one launch.
void heads_to_bf16(bf16* out, const HeadSources& sources, int N, int T, int hs) {
  const int64_t per_tensor = int64_t(N) * T * hs / kPiece;
  const dim3 grid(grid_size(per_tensor, 256), sources.count);
  heads_to_bf16_kernel<<<grid, 256>>>(out, sources, T, hs, per_tensor);
  CUDA_CHECK(cudaGetLastError());
}

// The backward's D[n, t] = Σ_d dout[n, t, d] · out[n, t, d] in fp32, in
// order of d, one thread per row, wherever the rows sit: the same sums for
// every layout.
__global__ void row_dots_kernel(float* D, const float* dout, const float* out, HeadRows rows,
                                int T, int hs, int64_t count) {
  const int64_t r = global_thread();  // r = n·T + t
  if (r >= count) return;
  const int64_t start = row_start(rows, static_cast<int>(r / T), T, hs, static_cast<int>(r % T));
  float sum = 0.0f;
  for (int d = 0; d < hs; ++d) sum += dout[start + d] * out[start + d];
  D[r] = sum;
}

// Rows r0 .. r0 + ROWS of one sequence's (T, HS) bf16 matrix into a swizzled
// (ROWS, HS) tile, as cp.async copies of 16 bytes; rows past T are zeros.
template <int ROWS, int HS>
__device__ __forceinline__ void load_rows_async(bf16* tile, const bf16* sequence, int T, int r0) {
  constexpr int kPieces = HS / kPiece;  // 16-byte pieces per row: 4 or 8
  for (int i = threadIdx.x; i < ROWS * kPieces; i += kThreads) {
    const int r = i / kPieces, c = i % kPieces;
    const bool inside = r0 + r < T;
    const bf16* src = inside ? sequence + int64_t(r0 + r) * HS + c * kPiece : sequence;
    ptx::cp_async_16(tile + swizzled<HS>(r, c), src, inside ? 16 : 0);
  }
}

// Two fp32 values → one register of two bf16, the first in the low half.
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 two = __floats2bfloat162_rn(lo, hi);
  return uint32_t(__bfloat16_as_ushort(two.x)) | (uint32_t(__bfloat16_as_ushort(two.y)) << 16);
}

// lesson: add_product
// acc (16, HS) += P (16, 8·NB) · Y (8·NB, HS), one warp's mma, where
//   P  is in the warp's registers as accumulator fragments, P[nb] the 16×8
//      block of columns 8·nb .. 8·nb + 7: lane (g = lane/4, t = lane%4) holds
//      P[nb][0..1] = P(g, 8nb + 2t, +1) and P[nb][2..3] = P(g + 8, same);
//   Y  is a swizzled (8·NB, HS) bf16 tile in shared memory, rows along k.
// An A fragment of 16×16 wants, from lane (g, t), A(g, 2t..2t+1),
// A(g + 8, 2t..2t+1), A(g, 2t+8..2t+9), A(g + 8, 2t+8..2t+9): exactly what
// the lane holds of P's blocks 2kk and 2kk + 1. So P goes from the output
// of one mma to the input of the next without leaving the lane: it is only
// rounded to bf16, two values per register. Y is B (k × n) stored by rows of
// k, so its fragments come from ldmatrix's transposing form.
template <int HS, int NB>
__device__ __forceinline__ void add_product(float (&acc)[HS / 8][4], const float (&P)[NB][4],
                                            const bf16* Y, int lane) {
  static_assert(NB % 2 == 0, "P's columns are taken 16 at a time (one mma's k)");
#pragma unroll
  for (int kk = 0; kk < NB / 2; ++kk) {
    const uint32_t a[4] = {pack_bf16(P[2 * kk][0], P[2 * kk][1]),
                           pack_bf16(P[2 * kk][2], P[2 * kk][3]),
                           pack_bf16(P[2 * kk + 1][0], P[2 * kk + 1][1]),
                           pack_bf16(P[2 * kk + 1][2], P[2 * kk + 1][3])};
#pragma unroll
    for (int nj = 0; nj < HS / 16; ++nj) {
      // Four 8×8 tiles of Y: rows (k) 16kk + 0-7 and + 8-15 of columns 16nj + 0-7,
      // then the same rows of columns 16nj + 8-15. Transposed, they are b[0], b[1]
      // of two 8-column blocks of B.
      const int r = 16 * kk + (lane / 8) % 2 * 8 + lane % 8;
      uint32_t y[4];
      ptx::ldmatrix_x4_trans(y, Y + swizzled<HS>(r, 2 * nj + lane / 16));
      const uint32_t b0[2] = {y[0], y[1]}, b1[2] = {y[2], y[3]};
      ptx::mma_m16n8k16_bf16(acc[2 * nj], a, b0, acc[2 * nj]);
      ptx::mma_m16n8k16_bf16(acc[2 * nj + 1], a, b1, acc[2 * nj + 1]);
    }
  }
}
// end lesson

// The biggest of the 4 values a quad of lanes (the 4 lanes that hold one
// row of a score tile) holds, and their sum: lanes 4g .. 4g + 3 differ in
// their lowest two bits.
__device__ __forceinline__ float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// The query tiles in reverse: the last query tile has the most keys to see,
// so it starts first and the short ones fill in behind it. (Key tiles, in
// dk/dv, are the other way round: the first sees the most queries.)
__device__ __forceinline__ int outer_tile() { return gridDim.x - 1 - blockIdx.x; }

// ---------------------------------------------------------------------------
// Forward.

// lesson: flash_bf16_forward_kernel
// Block (tile, n): queries q0 .. q0 + 63 of sequence n; warp w owns 16 of
// them, q0 + 16w .. q0 + 16w + 15, and lane (g, t) of it rows g and g + 8.
template <int HS>
__global__ void __launch_bounds__(kThreads)
    flash_bf16_forward_kernel(float* out, HeadRows out_rows, float* lse, const bf16* q,
                              const bf16* k, const bf16* v, int T, float scale_log2) {
  __shared__ __align__(128) bf16 Qs[kRows * HS];               // (64 queries, hs)
  __shared__ __align__(128) bf16 Ks[2][kForwardInner * HS];    // 2 stages of (64 keys, hs)
  __shared__ __align__(128) bf16 Vs[2][kForwardInner * HS];    // 2 stages of (64 keys, hs)
  const int64_t seq = int64_t(blockIdx.y) * T;  // first row of sequence n
  const int q0 = outer_tile() * kRows;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int g = lane / 4, t = lane % 4;
  const int row0 = q0 + 16 * warp + g;  // this lane's queries: row0 and row0 + 8
  const int tiles = (min(T, q0 + kRows) + kForwardInner - 1) / kForwardInner;  // causal: no more
  auto load_keys = [&](int j) {  // keys and values of tile j into stage j % 2
    load_rows_async<kForwardInner, HS>(Ks[j % 2], k + seq * HS, T, j * kForwardInner);
    load_rows_async<kForwardInner, HS>(Vs[j % 2], v + seq * HS, T, j * kForwardInner);
  };
  load_rows_async<kRows, HS>(Qs, q + seq * HS, T, q0);
  load_keys(0);
  ptx::cp_async_commit();

  float o[HS / 8][4] = {};             // (16, hs): the warp's rows of out, unnormalised
  float m[2] = {-INFINITY, -INFINITY};  // rows row0, row0 + 8: running max, log2 units
  float l[2] = {0.0f, 0.0f};            // their running Σ 2^(s − m), this lane's columns
  for (int j = 0; j < tiles; ++j) {
    ptx::cp_async_wait<0>();  // this thread's copies of tile j (and Q) have landed
    __syncthreads();          // everyone's have; everyone is done with tile j − 1
    if (j + 1 < tiles) load_keys(j + 1);  // into j − 1's stage, while we compute
    ptx::cp_async_commit();

    float s[1][kForwardInner / 8][4] = {};  // (16, 64): S = Q·Kᵀ, fp32
    mma_slice<HS>(s, Qs, Ks[j % 2], 16 * warp, 0, lane);

    const int k0 = j * kForwardInner;
#pragma unroll
    for (int h = 0; h < 2; ++h) {  // row row0 + 8h: its 16 values in this lane
      const int query = row0 + 8 * h;
      float tile_max = -INFINITY;
#pragma unroll
      for (int nb = 0; nb < kForwardInner / 8; ++nb) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int key = k0 + 8 * nb + 2 * t + e;
          float& x = s[0][nb][2 * h + e];
          x = key <= query ? x * scale_log2 : -INFINITY;  // scaled to log2 units; causal mask
          tile_max = fmaxf(tile_max, x);
        }
      }
      // The row's max over its 4 lanes; finite: key 0 is in tile 0 and seen by every query.
      const float m_new = fmaxf(m[h], quad_max(tile_max));
      const float correction = exp2f(m[h] - m_new);  // rescales the old sums; 0 on tile 0
      m[h] = m_new;
      l[h] *= correction;
#pragma unroll
      for (int nd = 0; nd < HS / 8; ++nd) {
        o[nd][2 * h] *= correction;
        o[nd][2 * h + 1] *= correction;
      }
#pragma unroll
      for (int nb = 0; nb < kForwardInner / 8; ++nb) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[0][nb][2 * h + e];
          x = exp2f(x - m_new);  // P, unnormalised, fp32; 0 where masked
          l[h] += x;             // summed in fp32, before any rounding
        }
      }
    }
    add_product<HS>(o, s[0], Vs[j % 2], lane);  // O += bf16(P) · V
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int query = row0 + 8 * h;
    const float row_sum = quad_sum(l[h]);  // every lane of the quad, before any returns
    if (query >= T) continue;
#pragma unroll
    for (int nd = 0; nd < HS / 8; ++nd) {
      float* dst = out + row_start(out_rows, blockIdx.y, T, HS, query) + 8 * nd + 2 * t;
      dst[0] = o[nd][2 * h] / row_sum;
      dst[1] = o[nd][2 * h + 1] / row_sum;
    }
    if (t == 0) lse[seq + query] = (m[h] + log2f(row_sum)) * kLn2;  // back to natural log
  }
}
// end lesson

// ---------------------------------------------------------------------------
// Backward: dk and dv.

// lesson: flash_bf16_dkdv_kernel
// Block (tile, n): keys s0 .. s0 + 63 of sequence n; warp w owns 16 of them
// and walks over the queries t >= s0, 32 at a time, computing the TRANSPOSED
// tiles (keys × queries): Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ, so that its keys are
// rows and dV += Pᵀ·dO, dK += dSᵀ·Q are add_product's P·Y.
template <int HS>
__global__ void __launch_bounds__(kThreads)
    flash_bf16_dkdv_kernel(float* dk, float* dv, HeadRows grad_rows, const bf16* q, const bf16* k,
                           const bf16* v, const bf16* dout, const float* lse, const float* D,
                           int T, float scale, float scale_log2) {
  constexpr int kInner = kBackwardInner;
  __shared__ __align__(128) bf16 Ks[kRows * HS];            // (64 keys, hs)
  __shared__ __align__(128) bf16 Vs[kRows * HS];            // (64 keys, hs)
  __shared__ __align__(128) bf16 Qs[2][kInner * HS];        // 2 stages of (32 queries, hs)
  __shared__ __align__(128) bf16 dOs[2][kInner * HS];       // 2 stages of (32 queries, hs)
  __shared__ float lse_s[2][kInner], D_s[2][kInner];        // their lse (log2 units) and D
  const int64_t seq = int64_t(blockIdx.y) * T;
  const int s0 = blockIdx.x * kRows;  // in order: the first key tiles see the most queries
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int g = lane / 4, t = lane % 4;
  const int row0 = s0 + 16 * warp + g;  // this lane's keys: row0 and row0 + 8
  const int tiles = (T - s0 + kInner - 1) / kInner;  // queries s0 .. T − 1: earlier ones see none
  auto load_queries = [&](int j) {  // queries t0 .. t0 + 31 into stage j % 2
    const int t0 = s0 + j * kInner;
    load_rows_async<kInner, HS>(Qs[j % 2], q + seq * HS, T, t0);
    load_rows_async<kInner, HS>(dOs[j % 2], dout + seq * HS, T, t0);
    if (threadIdx.x < kInner) {
      const int query = t0 + threadIdx.x;
      lse_s[j % 2][threadIdx.x] = query < T ? lse[seq + query] * kLog2e : 0.0f;
      D_s[j % 2][threadIdx.x] = query < T ? D[seq + query] : 0.0f;
    }
  };
  load_rows_async<kRows, HS>(Ks, k + seq * HS, T, s0);
  load_rows_async<kRows, HS>(Vs, v + seq * HS, T, s0);
  load_queries(0);
  ptx::cp_async_commit();

  float dk_acc[HS / 8][4] = {}, dv_acc[HS / 8][4] = {};  // (16, hs) each: the warp's keys
  for (int j = 0; j < tiles; ++j) {
    ptx::cp_async_wait<0>();
    __syncthreads();  // tile j is in; everyone is done with tile j − 1
    if (j + 1 < tiles) load_queries(j + 1);
    ptx::cp_async_commit();
    const int st = j % 2, t0 = s0 + j * kInner;

    float p[1][kInner / 8][4] = {};   // (16 keys, 32 queries): Sᵀ, then Pᵀ
    float ds[1][kInner / 8][4] = {};  // the same: dPᵀ, then dSᵀ
    mma_slice<HS>(p, Ks, Qs[st], 16 * warp, 0, lane);
    mma_slice<HS>(ds, Vs, dOs[st], 16 * warp, 0, lane);
#pragma unroll
    for (int nb = 0; nb < kInner / 8; ++nb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {  // (key row0 + 8·(i/2), query column c)
        const int c = 8 * nb + 2 * t + i % 2, key = row0 + 8 * (i / 2), query = t0 + c;
        const bool seen = query >= key && query < T;  // causal; past T: nothing
        const float P = seen ? exp2f(p[0][nb][i] * scale_log2 - lse_s[st][c]) : 0.0f;
        p[0][nb][i] = P;                             // the forward's weight P[t, s]
        ds[0][nb][i] = P * (ds[0][nb][i] - D_s[st][c]);  // dS[t, s] = P (dP − D)
      }
    }
    add_product<HS>(dv_acc, p[0], dOs[st], lane);  // dV += bf16(Pᵀ) · dO
    add_product<HS>(dk_acc, ds[0], Qs[st], lane);  // dK += bf16(dSᵀ) · Q, scaled below
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int key = row0 + 8 * h;
    if (key >= T) continue;
#pragma unroll
    for (int nd = 0; nd < HS / 8; ++nd) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int64_t i = row_start(grad_rows, blockIdx.y, T, HS, key) + 8 * nd + 2 * t + e;
        dk[i] += scale * dk_acc[nd][2 * h + e];  // S = scale · q·k: dK = scale · dSᵀ·Q
        dv[i] += dv_acc[nd][2 * h + e];
      }
    }
  }
}
// end lesson

// ---------------------------------------------------------------------------
// Backward: dq.

// Block (tile, n): queries q0 .. q0 + 63 of sequence n; warp w owns 16 of
// them and walks over the keys s <= its last query, 32 at a time:
// S = Q·Kᵀ, dP = dO·Vᵀ, dS = P (dP − D), dQ += dS·K.
template <int HS>
__global__ void __launch_bounds__(kThreads)
    flash_bf16_dq_kernel(float* dq, HeadRows grad_rows, const bf16* q, const bf16* k,
                         const bf16* v, const bf16* dout, const float* lse, const float* D, int T,
                         float scale, float scale_log2) {
  constexpr int kInner = kBackwardInner;
  __shared__ __align__(128) bf16 Qs[kRows * HS];       // (64 queries, hs)
  __shared__ __align__(128) bf16 dOs[kRows * HS];      // (64 queries, hs)
  __shared__ __align__(128) bf16 Ks[2][kInner * HS];   // 2 stages of (32 keys, hs)
  __shared__ __align__(128) bf16 Vs[2][kInner * HS];   // 2 stages of (32 keys, hs)
  const int64_t seq = int64_t(blockIdx.y) * T;
  const int q0 = outer_tile() * kRows;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int g = lane / 4, t = lane % 4;
  const int row0 = q0 + 16 * warp + g;  // this lane's queries: row0 and row0 + 8
  const int tiles = (min(T, q0 + kRows) + kInner - 1) / kInner;
  auto load_keys = [&](int j) {
    load_rows_async<kInner, HS>(Ks[j % 2], k + seq * HS, T, j * kInner);
    load_rows_async<kInner, HS>(Vs[j % 2], v + seq * HS, T, j * kInner);
  };
  load_rows_async<kRows, HS>(Qs, q + seq * HS, T, q0);
  load_rows_async<kRows, HS>(dOs, dout + seq * HS, T, q0);
  load_keys(0);
  ptx::cp_async_commit();
  float lse_row[2], D_row[2];  // rows row0, row0 + 8: lse in log2 units, and D
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int query = row0 + 8 * h;
    lse_row[h] = query < T ? lse[seq + query] * kLog2e : 0.0f;
    D_row[h] = query < T ? D[seq + query] : 0.0f;
  }

  float dq_acc[HS / 8][4] = {};  // (16, hs): the warp's rows of dq, before the scale
  for (int j = 0; j < tiles; ++j) {
    ptx::cp_async_wait<0>();
    __syncthreads();
    if (j + 1 < tiles) load_keys(j + 1);
    ptx::cp_async_commit();
    const int st = j % 2, k0 = j * kInner;

    float p[1][kInner / 8][4] = {};   // (16 queries, 32 keys): S, then P
    float ds[1][kInner / 8][4] = {};  // the same: dP, then dS
    mma_slice<HS>(p, Qs, Ks[st], 16 * warp, 0, lane);
    mma_slice<HS>(ds, dOs, Vs[st], 16 * warp, 0, lane);
#pragma unroll
    for (int nb = 0; nb < kInner / 8; ++nb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int h = i / 2, key = k0 + 8 * nb + 2 * t + i % 2, query = row0 + 8 * h;
        const float P = key <= query ? exp2f(p[0][nb][i] * scale_log2 - lse_row[h]) : 0.0f;
        ds[0][nb][i] = P * (ds[0][nb][i] - D_row[h]);
      }
    }
    add_product<HS>(dq_acc, ds[0], Ks[st], lane);  // dQ += bf16(dS) · K
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int query = row0 + 8 * h;
    if (query >= T) continue;
#pragma unroll
    for (int nd = 0; nd < HS / 8; ++nd) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        dq[row_start(grad_rows, blockIdx.y, T, HS, query) + 8 * nd + 2 * t + e] +=
            scale * dq_acc[nd][2 * h + e];
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Launchers.

float scale_of(int hs) { return 1.0f / std::sqrt(static_cast<float>(hs)); }

// B batch rows of C = H·hs columns, each H heads of a size the kernels take.
void check_heads_in_place(const char* op, int B, int T, int C, int H) {
  check_size(op, "B", B, 0);
  check_size(op, "H", H, 1);
  if (C % H != 0) {
    throw std::invalid_argument(std::string(op) + ": C must be a multiple of H (heads of C / H " +
                                "columns), got C = " + std::to_string(C) + ", H = " +
                                std::to_string(H));
  }
  check_flash_sizes(op, B * H, T, C / H);
}

template <int HS>
void forward(float* out, HeadRows out_rows, float* lse, const bf16* q, const bf16* k,
             const bf16* v, int N, int T) {
  const dim3 grid(grid_size(T, kRows), N);
  flash_bf16_forward_kernel<HS><<<grid, kThreads>>>(out, out_rows, lse, q, k, v, T,
                                                    scale_of(HS) * kLog2e);
  CUDA_CHECK(cudaGetLastError());
}

template <int HS>
void backward(float* dq, float* dk, float* dv, HeadRows grad_rows, const bf16* q, const bf16* k,
              const bf16* v, const bf16* dout, const float* lse, const float* D, int N, int T) {
  const dim3 grid(grid_size(T, kRows), N);
  const float scale = scale_of(HS);
  flash_bf16_dkdv_kernel<HS><<<grid, kThreads>>>(dk, dv, grad_rows, q, k, v, dout, lse, D, T,
                                                 scale, scale * kLog2e);
  CUDA_CHECK(cudaGetLastError());
  flash_bf16_dq_kernel<HS><<<grid, kThreads>>>(dq, grad_rows, q, k, v, dout, lse, D, T, scale,
                                               scale * kLog2e);
  CUDA_CHECK(cudaGetLastError());
}

// The forward for rows wherever they sit: q, k, v read through in_rows,
// out written through out_rows.
void forward_on_rows(float* out, HeadRows out_rows, float* lse, const float* q, const float* k,
                     const float* v, HeadRows in_rows, int N, int T, int hs) {
  const int64_t count = int64_t(N) * T * hs;  // elements of each of q, k, v
  static GrowingDeviceBuffer<bf16> scratch;  // q, k, v in bf16: (3, N, T, hs)
  bf16* const qkv = scratch.at_least(3 * count);
  heads_to_bf16(qkv, HeadSources{{q, k, v}, {in_rows, in_rows, in_rows}, 3}, N, T, hs);
  if (hs == 32) {
    forward<32>(out, out_rows, lse, qkv, qkv + count, qkv + 2 * count, N, T);
  } else {
    forward<64>(out, out_rows, lse, qkv, qkv + count, qkv + 2 * count, N, T);
  }
}

// The backward for rows wherever they sit: q, k, v through in_rows; dout
// and out through out_rows; dq, dk, dv added to through grad_rows.
void backward_on_rows(float* dq, float* dk, float* dv, HeadRows grad_rows, const float* dout,
                      const float* out, HeadRows out_rows, const float* q, const float* k,
                      const float* v, HeadRows in_rows, const float* lse, int N, int T, int hs) {
  const int64_t rows = int64_t(N) * T, count = rows * hs;
  static GrowingDeviceBuffer<bf16> scratch;  // q, k, v, dout in bf16: (4, N, T, hs)
  static GrowingDeviceBuffer<float> row_dots;  // D: (N, T)
  bf16* const inputs = scratch.at_least(4 * count);
  float* const D = row_dots.at_least(rows);
  heads_to_bf16(inputs, HeadSources{{q, k, v, dout}, {in_rows, in_rows, in_rows, out_rows}, 4},
                N, T, hs);
  // D from the fp32 dout and out: D = Σ_s P dP only up to the roundings,
  // and its own error should not add 2^-8 to every dS.
  row_dots_kernel<<<grid_size(rows, 256), 256>>>(D, dout, out, out_rows, T, hs, rows);
  CUDA_CHECK(cudaGetLastError());
  const bf16 *qb = inputs, *kb = inputs + count, *vb = inputs + 2 * count,
             *dob = inputs + 3 * count;
  if (hs == 32) {
    backward<32>(dq, dk, dv, grad_rows, qb, kb, vb, dob, lse, D, N, T);
  } else {
    backward<64>(dq, dk, dv, grad_rows, qb, kb, vb, dob, lse, D, N, T);
  }
}

}  // namespace

bool flash_attention_bf16_supports_heads(int B, int T, int C, int H) {
  return B >= 1 && H >= 1 && C % H == 0 && flash_attention_bf16_supports(B * H, T, C / H);
}

bool flash_attention_bf16_supports(int N, int T, int hs) {
  // N = 0 is taken, as nothing to do, but not supported; else chapter 13's sizes.
  return N >= 1 && flash_takes_sizes(N, T, hs);
}

void flash_attention_bf16_forward(float* out, float* lse, const float* q, const float* k,
                                  const float* v, int N, int T, int hs) {
  check_flash_sizes("flash_attention_bf16_forward", N, T, hs);  // N = 0: nothing to do
  if (N == 0) return;
  const HeadRows sequences{1, hs};  // (N, T, hs)
  forward_on_rows(out, sequences, lse, q, k, v, sequences, N, T, hs);
}

void flash_attention_bf16_backward(float* dq, float* dk, float* dv, const float* dout,
                                   const float* q, const float* k, const float* v,
                                   const float* out, const float* lse, int N, int T, int hs) {
  check_flash_sizes("flash_attention_bf16_backward", N, T, hs);
  if (N == 0) return;
  const HeadRows sequences{1, hs};  // (N, T, hs)
  backward_on_rows(dq, dk, dv, sequences, dout, out, sequences, q, k, v, sequences, lse, N, T, hs);
}

// lesson: heads_in_place
// Sequence n = b·H + h is head h of batch row b: its q, k and v are columns
// h·hs .. h·hs + hs − 1 of the C-wide thirds of each (3C) row of qkv, its
// output the same columns of each (C) row of merged. No copy of the heads.
void flash_attention_bf16_forward_heads(float* merged, float* lse, const float* qkv, int B,
                                        int T, int C, int H) {
  check_heads_in_place("flash_attention_bf16_forward_heads", B, T, C, H);
  if (B == 0) return;
  const int hs = C / H;
  forward_on_rows(merged, HeadRows{H, C}, lse, qkv, qkv + C, qkv + 2 * C, HeadRows{H, 3 * C},
                  B * H, T, hs);
}

void flash_attention_bf16_backward_heads(float* dqkv, const float* dmerged, const float* qkv,
                                         const float* merged, const float* lse, int B, int T,
                                         int C, int H) {
  check_heads_in_place("flash_attention_bf16_backward_heads", B, T, C, H);
  if (B == 0) return;
  const int hs = C / H;
  const HeadRows qkv_rows{H, 3 * C}, merged_rows{H, C};
  backward_on_rows(dqkv, dqkv + C, dqkv + 2 * C, qkv_rows, dmerged, merged, merged_rows, qkv,
                   qkv + C, qkv + 2 * C, qkv_rows, lse, B * H, T, hs);
}
// end lesson

}  // namespace gpt::cuda
