// chapters/10_fast_cpu/head_products.h — the small products inside one attention head.
//
// A head's products are tiny (T × hs = 64 × 32 at the seed size) and causal:
// half of every T × T matrix is zeros. fast_matmul's packing and edge tiles
// cost more than the arithmetic at that size, so attention gets two kernels
// of its own, on operands first copied into contiguous, zero-padded scratch
// (rows padded to a multiple of 4, columns to a multiple of 16):
//
//   row_dots:    S[i, j] = Σ_d A[i, d] · B[j, d]   for j ≤ i (+ the rest of the
//                last 16-column chunk): q·kᵀ and dy·vᵀ
//   rows_mix:    Y[i, :] = Σ_j P[i, j] · X[j, :]   over j in [first(i), last(i)]:
//                P·v, dS·k, and with Pᵀ (stored as such) Pᵀ·dy, dSᵀ·q
//
// Both hold a kHeadRows-row × (up to 4 × 16)-column block of the output in
// vector registers, as fast_matmul's micro-kernel does: 4 rows with AVX-512's
// 32 registers, 1 row with AVX2's 16 (4 rows would not fit: see Vec16).
#pragma once

#include <algorithm>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"

namespace gpt {

inline int round_up_to(int x, int to) { return (x + to - 1) / to * to; }

inline constexpr int kHeadRows = kNR == 32 ? 4 : 1;  // divides the rows' padding of 4

// A (Tr, dp) and Bt (dp, Tc) row-major (Bt is B transposed), Tr a multiple
// of 4, Tc of 64, dp >= 1. Writes S rows i < T, columns up to the end of the
// 64-column block holding column i (the causal part, and a little more).
inline void row_dots(float* S, int ldS, const float* A, const float* Bt, int T, int dp, int Tc) {
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int last_col = std::min(i0 + kHeadRows - 1, T - 1);
    for (int j0 = 0; j0 <= last_col; j0 += 64) {  // 64 columns: 4 vectors
      Vec16 acc[kHeadRows][4];
      for (int r = 0; r < kHeadRows; ++r) {
        for (int c = 0; c < 4; ++c) acc[r][c] = Vec16{};
      }
      for (int d = 0; d < dp; ++d) {
        const Vec16* b = reinterpret_cast<const Vec16*>(Bt + int64_t(d) * Tc + j0);
#pragma GCC unroll 4
        for (int r = 0; r < kHeadRows; ++r) {
          const float a = A[int64_t(i0 + r) * dp + d];
#pragma GCC unroll 4
          for (int c = 0; c < 4; ++c) acc[r][c] += a * b[c];
        }
      }
      for (int r = 0; r < kHeadRows; ++r) {
        for (int c = 0; c < 4; ++c) {
          store_unaligned(S + int64_t(i0 + r) * ldS + j0 + 16 * c, acc[r][c]);
        }
      }
    }
  }
}

// Y[i, 0:dp] = Σ_{j = first(i)}^{last(i)} P[i, j] · X[j, 0:dp]: P (Tr, ldP) with
// rows < Tr readable, X (rows, dp) contiguous, dp a multiple of 16 and at most 64.
// Causal (lower): j in [0, i]; anti (Pᵀ of a causal P): j in [i, T).
template <int Chunks>
void rows_mix_chunks(float* Y, const float* P, int ldP, const float* X, int T, int dp, bool lower) {
  for (int i0 = 0; i0 < T; i0 += kHeadRows) {
    const int j_begin = lower ? 0 : i0;
    const int j_end = lower ? std::min(T, i0 + kHeadRows) : T;
    Vec16 acc[kHeadRows][Chunks];
    for (int r = 0; r < kHeadRows; ++r) {
      for (int c = 0; c < Chunks; ++c) acc[r][c] = Vec16{};
    }
    for (int j = j_begin; j < j_end; ++j) {
      const Vec16* x = reinterpret_cast<const Vec16*>(X + int64_t(j) * dp);
#pragma GCC unroll 4
      for (int r = 0; r < kHeadRows; ++r) {
        const float p = P[int64_t(i0 + r) * ldP + j];
#pragma GCC unroll 4
        for (int c = 0; c < Chunks; ++c) acc[r][c] += p * x[c];
      }
    }
    for (int r = 0; r < kHeadRows; ++r) {
      for (int c = 0; c < Chunks; ++c) {
        *reinterpret_cast<Vec16*>(Y + int64_t(i0 + r) * dp + 16 * c) = acc[r][c];
      }
    }
  }
}

inline void rows_mix(float* Y, const float* P, int ldP, const float* X, int T, int dp,
                     bool lower) {
  for (int d0 = 0; d0 < dp; d0 += 64) {  // 64 columns of Y at a time
    switch (std::min(64, dp - d0) / 16) {
      case 1: rows_mix_chunks<1>(Y + d0, P, ldP, X + d0, T, dp, lower); break;
      case 2: rows_mix_chunks<2>(Y + d0, P, ldP, X + d0, T, dp, lower); break;
      case 3: rows_mix_chunks<3>(Y + d0, P, ldP, X + d0, T, dp, lower); break;
      default: rows_mix_chunks<4>(Y + d0, P, ldP, X + d0, T, dp, lower); break;
    }
  }
}

}  // namespace gpt
