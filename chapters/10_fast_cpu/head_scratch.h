// chapters/10_fast_cpu/head_scratch.h — one attention head's working space, and its softmax.
//
// fast_attention.cc (forward) and fast_attention_backward.cc share these: a
// head's q, k, v (and dy) are copied out of the fused (B, T, 3C) projection
// into contiguous scratch, rows padded to a multiple of 4, head channels to 16
// and score columns to 64, with zeros around them, so that head_products.h's
// kernels never need an edge case. A head's output goes straight to where it
// belongs when it needs no padding. The causal softmax and its backward pass
// are here too, a register of scores at a time (the forward a whole head's
// rows at once).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <Eigen/Core>

#include "chapters/10_fast_cpu/head_products.h"
#include "chapters/10_fast_cpu/row_blocks.h"
#include "chapters/10_fast_cpu/transpose_8x8.h"
#include "common/aligned_vector.h"

namespace gpt {


// One head's scratch, per thread; grows once to the largest (T, hs) seen.
struct HeadScratch {
  int T, hs, Tr, dp, Tc;  // rows padded to 4, head channels to 16, columns to 64
  float *q, *k, *v, *dy, *y, *kt, *s, *p;
  AlignedVector<float> buffer;

  void shape(int T_, int hs_) {
    T = T_, hs = hs_, Tr = round_up_to(T, 4), dp = round_up_to(hs, 16), Tc = round_up_to(T, 64);
    const size_t rows = size_t(Tr) * dp, square = size_t(Tr) * Tc, cols = size_t(dp) * Tc;
    const size_t need = 5 * rows + cols + 2 * square;
    if (buffer.size() < need) buffer.resize(need);
    float* at = buffer.data();
    for (float** t : {&q, &k, &v, &dy, &y}) *t = at, at += rows;
    kt = at, at += cols;
    for (float** t : {&s, &p}) *t = at, at += square;
  }
  // No padding needed: a kernel may write a head's output where it goes.
  bool unpadded() const { return Tr == T && dp == hs; }
  // rows (T, hs) at row stride ld  ->  dst (Tr, dp), zeros around them
  void load(float* dst, const float* src, int64_t ld) const {
    for (int i = 0; i < Tr; ++i) {
      float* row = dst + int64_t(i) * dp;
      if (i < T) std::copy_n(src + i * ld, hs, row);
      std::fill(row + (i < T ? hs : 0), row + dp, 0.0f);
    }
  }
  // src (Tr, dp) -> its transpose (dp, Tc), zeros around it. Eight rows by
  // eight channels at a time, turned in registers (transpose_8x8.h); src's
  // zero channels past hs become kt's zero rows.
  void transpose_rows(float* dst, const float* src) const {
    for (int d = 0; d < dp; ++d) {  // only the columns past T need their zeros
      std::fill(dst + int64_t(d) * Tc + T, dst + int64_t(d + 1) * Tc, 0.0f);
    }
    int i = 0;
    for (; i + 8 <= T; i += 8) {
      const float* rows[8];
      for (int r = 0; r < 8; ++r) rows[r] = src + int64_t(i + r) * dp;
      for (int d = 0; d < dp; d += 8) transpose_8x8(dst + int64_t(d) * Tc + i, Tc, rows, d);
    }
    for (; i < T; ++i) {  // the last T mod 8 rows
      for (int d = 0; d < dp; ++d) dst[int64_t(d) * Tc + i] = src[int64_t(i) * dp + d];
    }
  }
  // result rows (Tr, dp) -> dst (T, hs) at row stride ld
  void store(float* dst, int64_t ld, const float* src) const {
    for (int i = 0; i < T; ++i) std::copy_n(src + int64_t(i) * dp, hs, dst + i * ld);
  }
  // dst (T, hs) of stride ld += src (Tr, dp): gradients add into their buffer
  void add(float* dst, int64_t ld, const float* src) const {
    for (int i = 0; i < T; ++i) {
      const float* from = src + int64_t(i) * dp;
      float* to = dst + i * ld;
#pragma omp simd
      for (int j = 0; j < hs; ++j) to[j] += from[j];
    }
  }
};

inline HeadScratch& head_scratch(int T, int hs) {
  static thread_local HeadScratch scratch;
  scratch.shape(T, hs);
  return scratch;
}

// The scores S (rows × width, row stride `width`, a multiple of 16) of one
// head, T of them real: row i becomes softmax(scale · S[i, 0..i]) followed by
// exact zeros; rows from T on become zeros. Row i's columns 0..i must hold
// its scores; the columns after them are overwritten. A block of kRowLanes
// columns at a time: Eigen's exp over exactly a row's i + 1 scores would
// take the last few one float at a time, each a call to the C library's
// expf. Here every exp is a whole block: the future columns inside a row's
// last block are first given a score of the row, so that they neither raise
// the max nor overflow the exp, and their exps are then multiplied by 0.
// The order of every sum is fixed by the blocks, not by where the row lies.
//
// A row's work is a chain (max, then exp and sum, then the scale), each step
// waiting on the last. So the rows go through it in three passes, all rows'
// maxima, then all exps and sums, then all scales: within a pass the rows
// are independent, and the core can work on several at once.
// lesson: softmax_passes
inline void scaled_causal_softmax(float* S, int width, int T, int rows, float scale) {
  constexpr int W = kRowLanes;
  constexpr int kMaxRows = 256;  // rows per round of passes: their numbers fit on the stack
  float row_max[kMaxRows], inv_sum[kMaxRows];  // scale · the largest score; 1 / Σ exp
  for (int i0 = 0; i0 < T; i0 += kMaxRows) {
    const int i1 = std::min(T, i0 + kMaxRows);
    for (int i = i0; i < i1; ++i) {  // 1: each row's largest score
      row_max[i - i0] = row_largest(S + int64_t(i) * width, i + 1) * scale;
    }
    for (int i = i0; i < i1; ++i) {  // 2: exp and its sum
      float* row = S + int64_t(i) * width;
      const int seen = i + 1, last = last_block(i);
      RowBlock sums = RowBlock::Zero();
      for (int j = 0; j < last; j += W) {
        RowBlockAt e(row + j);
        e = (e * scale - row_max[i - i0]).exp();
        sums += e;
      }
      RowBlockAt e(row + last);  // the future: × 0
      e = (partial_block(row + last, seen - last, row[0]) * scale - row_max[i - i0]).exp() *
          ConstRowBlockAt(kKeep + 16 - (seen - last));
      sums += e;
      inv_sum[i - i0] = 1.0f / sums.sum();
    }
    for (int i = i0; i < i1; ++i) {  // 3: divide by the sum; zeros past the last block
      float* row = S + int64_t(i) * width;
      const int last = last_block(i);
      for (int j = 0; j <= last; j += W) RowBlockAt(row + j) *= inv_sum[i - i0];
      for (int j = last + W; j < width; j += W) RowBlockAt(row + j).setZero();
      if (!std::isfinite(inv_sum[i - i0])) {  // a NaN or an infinity in the row: 0 × NaN is NaN
        std::fill(row + i + 1, row + last + W, 0.0f);
      }
    }
  }
  std::fill(S + int64_t(T) * width, S + int64_t(rows) * width, 0.0f);
}
// end lesson

// The softmax's backward for one head, in place: dP (rows × width, T rows
// real, row stride `width`) becomes, row by row,
//   dS[i, j] = scale · P[i, j] · (dP[i, j] − Σ_{j' ≤ i} dP[i, j'] · P[i, j'])   for j ≤ i,
// with zeros past i and in the rows from T on. P has the same shape and is
// exactly zero past the diagonal. A block at a time, as the forward: dP's
// lanes past i inside a row's last block are zeroed first (0 × P, not an
// infinity × 0, enters the sum), and come out zero (+ 0 turns −0 into 0).
// One row at a time: taken in passes, as the forward's rows are, the
// backward measured no faster.
inline void causal_softmax_backward(float* dP, const float* P, int width, int T, int rows,
                                    float scale) {
  constexpr int W = kRowLanes;
  for (int i = 0; i < T; ++i) {
    float* dp_row = dP + int64_t(i) * width;
    const float* p_row = P + int64_t(i) * width;
    const int last = last_block(i);
    for (int j = i + 1; j < last + W; ++j) dp_row[j] = 0.0f;
    RowBlock sums = RowBlock::Zero();
    for (int j = 0; j <= last; j += W) {
      sums += ConstRowBlockAt(dp_row + j) * ConstRowBlockAt(p_row + j);
    }
    const float sum = sums.sum();  // Σ_j dP ⊙ P
    for (int j = 0; j <= last; j += W) {
      RowBlockAt ds(dp_row + j);
      ds = scale * ConstRowBlockAt(p_row + j) * (ds - sum) + 0.0f;
    }
    for (int j = last + W; j < width; j += W) RowBlockAt(dp_row + j).setZero();
    if (!std::isfinite(sum)) std::fill(dp_row + i + 1, dp_row + last + W, 0.0f);
  }
  std::fill(dP + int64_t(T) * width, dP + int64_t(rows) * width, 0.0f);
}

}  // namespace gpt
