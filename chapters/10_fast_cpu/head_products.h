// chapters/10_fast_cpu/head_products.h — the small products inside one attention head.
//
// A head's products are tiny (T × hs = 64 × 32 at the seed size) and causal:
// half of every T × T matrix is zeros. fast_matmul's packing and edge tiles
// cost more than the arithmetic at that size, so attention gets two kernels
// of their own, on operands with no edges: rows a multiple of 4, channels of
// 16, read in place when they already are, else from zero-padded scratch
// (head_scratch.h):
//
//   row_dots:    S[i, j] = Σ_d A[i, d] · B[j, d]   for j ≤ i (+ the rest of its
//                kHeadCols-column block): q·kᵀ and dy·vᵀ
//   rows_mix:    Y[i, :] = Σ_j P[i, j] · X[j, :]   over j in [first(i), last(i)]:
//                P·v, dS·k, and with Pᵀ (stored as such) Pᵀ·dy, dSᵀ·q
//
// Both hold a block of their output in vector registers, as fast_matmul's
// micro-kernel does, kHeadRows rows × kHeadCols columns:
//   AVX-512 (32 zmm registers): 4 × 64, 16 accumulators;
//   AVX2 (16 ymm registers of 8 floats): 2 × 32, 8 accumulators. One row of
//   64 would fill 8 registers too, but every step would load 8 vectors for 8
//   multiply-adds, and a row of 32 (4 accumulators) would wait on the adds'
//   latency: two rows of 32 load 4 vectors and 2 floats for 8 multiply-adds.
// Each output element adds its terms in the same order whatever the block:
// the block changes the speed, never the bits.
#pragma once

#include <algorithm>
#include <cstring>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"

namespace gpt {

inline int round_up_to(int x, int to) { return (x + to - 1) / to * to; }

inline constexpr int kHeadRows = kNR == 32 ? 4 : 2;   // divides the rows' padding of 4
inline constexpr int kHeadCols = kNR == 32 ? 64 : 32;  // divides the columns' padding of 64

// GCC folds a vector's load into every multiply-add that uses it, so each
// row of a block would load it again. An empty asm that claims to change the
// vector keeps one copy in registers. (AVX2 only: with AVX-512 the kernels
// are as they were measured.)
inline Vec16 load_to_registers(const float* p) {
#if defined(__AVX512F__)
  return load_unaligned(p);
#else
  Vec8 lo, hi;
  std::memcpy(&lo, p, sizeof lo);
  std::memcpy(&hi, p + 8, sizeof hi);
  asm("" : "+x"(lo), "+x"(hi));
  return {lo, hi};
#endif
}

// A (Tr, dp) at row stride lda, and Bt (dp, Tc) row-major (Bt is B
// transposed), Tr a multiple of 4, Tc of 64, dp >= 1. Writes S rows i < T,
// columns up to the end of the kHeadCols-column block holding column i (the
// causal part, and a little more).
inline void row_dots(float* S, int ldS, const float* A, int64_t lda, const float* Bt, int T,
                     int dp, int Tc) {
  constexpr int V = kHeadCols / 16;  // Vec16s across a block's row
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int last_col = std::min(i0 + kHeadRows - 1, T - 1);
    for (int j0 = 0; j0 <= last_col; j0 += kHeadCols) {
      Vec16 acc[kHeadRows][V];
      for (int r = 0; r < kHeadRows; ++r) {
        for (int c = 0; c < V; ++c) acc[r][c] = Vec16{};
      }
      for (int d = 0; d < dp; ++d) {
        Vec16 b[V];
#pragma GCC unroll 4
        for (int c = 0; c < V; ++c) {
          b[c] = load_to_registers(Bt + int64_t(d) * Tc + j0 + 16 * c);
        }
#pragma GCC unroll 4
        for (int r = 0; r < kHeadRows; ++r) {
          const float a = A[(i0 + r) * lda + d];
#pragma GCC unroll 4
          for (int c = 0; c < V; ++c) acc[r][c] += a * b[c];
        }
      }
      for (int r = 0; r < kHeadRows; ++r) {
        for (int c = 0; c < V; ++c) {
          store_unaligned(S + int64_t(i0 + r) * ldS + j0 + 16 * c, acc[r][c]);
        }
      }
    }
  }
}

// Y[i, 0:dp] = Σ_{j = first(i)}^{last(i)} P[i, j] · X[j, 0:dp]: P (Tr, ldP) with
// rows < Tr readable, X (rows, dp) at row stride ldx, Y (Tr, dp) at row stride
// ldy (rows T to Tr − 1 are written too), dp a multiple of 16.
// Causal (lower): j in [0, i]; anti (Pᵀ of a causal P): j in [i, T). A block's
// rows share one range of j, so a row also meets a few of the others' terms:
// P's exact zeros (j > i when lower, j < i when anti), which add nothing.
template <int Chunks>
void rows_mix_chunks(float* Y, int64_t ldy, const float* P, int ldP, const float* X, int64_t ldx,
                     int T, bool lower) {
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int j_begin = lower ? 0 : i0;
    const int j_end = lower ? std::min(T, i0 + kHeadRows) : T;
    Vec16 acc[kHeadRows][Chunks];
    for (int r = 0; r < kHeadRows; ++r) {
      for (int c = 0; c < Chunks; ++c) acc[r][c] = Vec16{};
    }
    for (int j = j_begin; j < j_end; ++j) {
      Vec16 x[Chunks];
#pragma GCC unroll 4
      for (int c = 0; c < Chunks; ++c) {
        x[c] = load_to_registers(X + j * ldx + 16 * c);
      }
#pragma GCC unroll 4
      for (int r = 0; r < kHeadRows; ++r) {
        const float p = P[int64_t(i0 + r) * ldP + j];
#pragma GCC unroll 4
        for (int c = 0; c < Chunks; ++c) acc[r][c] += p * x[c];
      }
    }
    for (int r = 0; r < kHeadRows; ++r) {
      for (int c = 0; c < Chunks; ++c) {
        store_unaligned(Y + (i0 + r) * ldy + 16 * c, acc[r][c]);
      }
    }
  }
}

inline void rows_mix(float* Y, int64_t ldy, const float* P, int ldP, const float* X, int64_t ldx,
                     int T, int dp, bool lower) {
  for (int d0 = 0; d0 < dp; d0 += kHeadCols) {  // kHeadCols columns of Y at a time
    float* y = Y + d0;
    const float* x = X + d0;
    switch (std::min(kHeadCols, dp - d0) / 16) {
      case 1: rows_mix_chunks<1>(y, ldy, P, ldP, x, ldx, T, lower); break;
      case 2: rows_mix_chunks<2>(y, ldy, P, ldP, x, ldx, T, lower); break;
      case 3: rows_mix_chunks<3>(y, ldy, P, ldP, x, ldx, T, lower); break;
      default: rows_mix_chunks<4>(y, ldy, P, ldP, x, ldx, T, lower); break;
    }
  }
}

}  // namespace gpt
