// chapters/10_fast_cpu/head_scratch.h — one attention head's working space, and its softmax.
//
// fast_attention.cc (forward) and fast_attention_backward.cc share these: a
// head's q, k, v (and dy) are copied out of the fused (B, T, 3C) projection
// into contiguous scratch, rows padded to a multiple of 4, head channels to 16
// and score columns to 64, with zeros around them, so that head_products.h's
// kernels never need an edge case. A head's output goes straight to where it
// belongs when it needs no padding.
#pragma once

#include <algorithm>
#include <cstdint>

#include <Eigen/Core>

#include "chapters/10_fast_cpu/head_products.h"
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

// Row i of the scores: scale, mask j > i, softmax; in place. Eigen's array
// exp works on whole vectors, 8 or 16 floats at a time (a scalar std::exp
// per score made the softmax the slowest part of attention). Columns past i
// become exact zeros.
inline void scaled_causal_softmax(float* row, int i, int width, float scale) {
  Eigen::Map<Eigen::ArrayXf> seen(row, i + 1);  // j <= i: the past and the present
  const float max = seen.maxCoeff() * scale;
  seen = (seen * scale - max).exp();
  seen *= 1.0f / seen.sum();
  std::fill(row + i + 1, row + width, 0.0f);  // the future: weight exactly 0
}

}  // namespace gpt
