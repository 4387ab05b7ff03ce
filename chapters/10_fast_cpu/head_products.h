// chapters/10_fast_cpu/head_products.h — the small products inside one attention head.
//
// A head's products are tiny (T × hs = 64 × 32 at the seed size) and causal:
// half of every T × T matrix is zeros. fast_matmul's packing and edge tiles
// cost more than the arithmetic at that size, so attention gets two kernels
// of their own, on operands copied into contiguous, zero-padded scratch
// (head_scratch.h: rows padded to a multiple of 4, channels to 16). P may
// also be read straight from the weights, and an output written straight to
// where it belongs, when they need no padding:
//
//   row_dots:    S[i, j] = Σ_d A[i, d] · B[j, d]   for j ≤ i (+ the rest of its
//                16-column chunk): q·kᵀ and dy·vᵀ
//   rows_mix:    Y[i, :] = Σ_j P[i, j] · X[j, :]   over j ≤ i: P·v, dS·k; or
//                with P read transposed, over j ≥ i: Pᵀ·dy, dSᵀ·q
//
// Both hold a block of their output in vector registers, as fast_matmul's
// micro-kernel does, kHeadRows rows × kHeadCols columns (row_dots' last
// block of a row band only as many 16-column chunks as the causal part needs):
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
// vector keeps one copy in registers, with AVX2's ymm registers. (With
// AVX-512 the loads are left to GCC; without AVX2 the asm is left out: with
// no AVX at all a 32-byte vector has no register, and it would not compile.)
inline Vec16 load_to_registers(const float* p) {
#if defined(__AVX2__) && !defined(__AVX512F__)
  Vec8 lo, hi;
  std::memcpy(&lo, p, sizeof lo);
  std::memcpy(&hi, p + 8, sizeof hi);
  asm("" : "+x"(lo), "+x"(hi));
  return {lo, hi};
#else
  return load_unaligned(p);
#endif
}

// One block of S: rows [i0, i0 + kHeadRows), Chunks · 16 columns from j0.
template <int Chunks>
inline void row_dots_block(float* S, int ldS, const float* A, const float* Bt, int i0, int j0,
                           int dp, int Tc) {
  Vec16 acc[kHeadRows][Chunks];
  for (int r = 0; r < kHeadRows; ++r) {
    for (int c = 0; c < Chunks; ++c) acc[r][c] = Vec16{};
  }
  for (int d = 0; d < dp; ++d) {
    Vec16 b[Chunks];
#pragma GCC unroll 4
    for (int c = 0; c < Chunks; ++c) {
      b[c] = load_to_registers(Bt + int64_t(d) * Tc + j0 + 16 * c);
    }
#pragma GCC unroll 4
    for (int r = 0; r < kHeadRows; ++r) {
      const float a = A[int64_t(i0 + r) * dp + d];
#pragma GCC unroll 4
      for (int c = 0; c < Chunks; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < kHeadRows; ++r) {
    for (int c = 0; c < Chunks; ++c) {
      store_unaligned(S + int64_t(i0 + r) * ldS + j0 + 16 * c, acc[r][c]);
    }
  }
}

// A (Tr, dp) and Bt (dp, Tc) row-major (Bt is B transposed), Tr a multiple
// of 4, Tc of 64, dp >= 1. Writes S rows i < T (in blocks of kHeadRows),
// columns up to the end of the 16-column chunk that holds the block's last
// column: the causal part, and a little more. A block whose last columns
// need fewer than kHeadCols / 16 chunks computes only those.
inline void row_dots(float* S, int ldS, const float* A, const float* Bt, int T, int dp, int Tc) {
  constexpr int V = kHeadCols / 16;  // Vec16s across a whole block's row
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int last_col = std::min(i0 + kHeadRows - 1, T - 1);
    int j0 = 0;
    for (; j0 + kHeadCols <= last_col; j0 += kHeadCols) {  // whole blocks
      row_dots_block<V>(S, ldS, A, Bt, i0, j0, dp, Tc);
    }
    switch ((last_col - j0) / 16 + 1) {  // the chunks up to last_col: 1 .. V
      case 1: row_dots_block<1>(S, ldS, A, Bt, i0, j0, dp, Tc); break;
      case 2: row_dots_block<std::min(2, V)>(S, ldS, A, Bt, i0, j0, dp, Tc); break;
      case 3: row_dots_block<std::min(3, V)>(S, ldS, A, Bt, i0, j0, dp, Tc); break;
      default: row_dots_block<V>(S, ldS, A, Bt, i0, j0, dp, Tc); break;
    }
  }
}

// Which product rows_mix takes from a causal P, one whose entries above the
// diagonal are exact zeros (the forward's softmax writes them, and dS's loop):
//   kP:           Y = P·X,  Y[i] = Σ_{j ≤ i} P[i, j] · X[j]   (y = P·v, dq = dS·k)
//   kPTransposed: Y = Pᵀ·X, Y[i] = Σ_{j ≥ i} P[j, i] · X[j]   (dv = Pᵀ·dy, dk = dSᵀ·q)
// Pᵀ is read in place, down P's columns: a broadcast loads one float
// wherever it is, so no transposed copy is needed.
enum class Mix { kP, kPTransposed };

// Y[i, 0:dp] as above: P (Tr, ldP) with rows and columns < Tr readable, X
// (rows, dp) contiguous, dp a multiple of 16, Y (Tr, dp) at row stride ldy.
// Rows are written in blocks of kHeadRows, up to round_up(T, kHeadRows) − 1:
// straight into a (T, dp) output only when kHeadRows divides T. A block's
// rows share one range of j, so a row also meets a few of the others' terms:
// P's exact zeros above the diagonal, which add nothing.
template <int Chunks, Mix kMix>
void rows_mix_chunks(float* Y, int64_t ldy, const float* P, int ldP, const float* X, int T,
                     int dp) {
  constexpr bool kTransposed = kMix == Mix::kPTransposed;
  // The product's P[i, j] lies at i · i_step + j · j_step: along a row of P,
  // or down a column for Pᵀ.
  const int64_t i_step = kTransposed ? 1 : ldP, j_step = kTransposed ? ldP : 1;
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int j_begin = kTransposed ? i0 : 0;
    const int j_end = kTransposed ? T : std::min(T, i0 + kHeadRows);
    Vec16 acc[kHeadRows][Chunks];
    for (int r = 0; r < kHeadRows; ++r) {
      for (int c = 0; c < Chunks; ++c) acc[r][c] = Vec16{};
    }
    for (int j = j_begin; j < j_end; ++j) {
      Vec16 x[Chunks];
#pragma GCC unroll 4
      for (int c = 0; c < Chunks; ++c) {
        x[c] = load_to_registers(X + int64_t(j) * dp + 16 * c);
      }
#pragma GCC unroll 4
      for (int r = 0; r < kHeadRows; ++r) {
        const float p = P[(i0 + r) * i_step + j * j_step];
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

template <Mix kMix>
void rows_mix_columns(float* Y, int64_t ldy, const float* P, int ldP, const float* X, int T,
                      int dp) {
  for (int d0 = 0; d0 < dp; d0 += kHeadCols) {  // kHeadCols columns of Y at a time
    float* y = Y + d0;
    const float* x = X + d0;
    switch (std::min(kHeadCols, dp - d0) / 16) {
      case 1: rows_mix_chunks<1, kMix>(y, ldy, P, ldP, x, T, dp); break;
      case 2: rows_mix_chunks<2, kMix>(y, ldy, P, ldP, x, T, dp); break;
      case 3: rows_mix_chunks<3, kMix>(y, ldy, P, ldP, x, T, dp); break;
      default: rows_mix_chunks<4, kMix>(y, ldy, P, ldP, x, T, dp); break;
    }
  }
}

inline void rows_mix(float* Y, int64_t ldy, const float* P, int ldP, const float* X, int T, int dp,
                     Mix mix) {
  if (mix == Mix::kP) {
    rows_mix_columns<Mix::kP>(Y, ldy, P, ldP, X, T, dp);
  } else {
    rows_mix_columns<Mix::kPTransposed>(Y, ldy, P, ldP, X, T, dp);
  }
}

}  // namespace gpt
