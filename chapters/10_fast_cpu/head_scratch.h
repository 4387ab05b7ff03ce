// chapters/10_fast_cpu/head_scratch.h — one attention head's working space, and its softmax.
//
// fast_attention.cc (forward) and fast_attention_backward.cc share these.
// head_products.h's kernels never test for an edge: they want rows padded to
// a multiple of 4, head channels to 16 and score columns to 64, with zeros
// around them. A head's q, k, v (and dy) are read in place inside the fused
// (B, T, 3C) projection when T and hs need no padding (the seed model: T =
// 64, hs = 32); otherwise they are copied into padded scratch first.
#pragma once

#include <algorithm>
#include <cstdint>

#include <Eigen/Core>

#include "chapters/10_fast_cpu/head_products.h"
#include "common/aligned_vector.h"

namespace gpt {


// One head's scratch, per thread; grows once to the largest (T, hs) seen.
struct HeadScratch {
  int T, hs, Tr, dp, Tc;  // rows padded to 4, head channels to 16, columns to 64
  float *q, *k, *v, *dy, *y, *kt, *s, *p, *st;
  AlignedVector<float> buffer;

  void shape(int T_, int hs_) {
    T = T_, hs = hs_, Tr = round_up_to(T, 4), dp = round_up_to(hs, 16), Tc = round_up_to(T, 64);
    const size_t rows = size_t(Tr) * dp, square = size_t(Tr) * Tc, cols = size_t(dp) * Tc;
    const size_t need = 5 * rows + cols + 3 * square;
    if (buffer.size() < need) buffer.resize(need);
    float* at = buffer.data();
    for (float** t : {&q, &k, &v, &dy, &y}) *t = at, at += rows;
    kt = at, at += cols;
    for (float** t : {&s, &p, &st}) *t = at, at += square;
  }
  // No padding needed: the kernels may read a head's rows, and write its
  // output, where they are.
  bool unpadded() const { return Tr == T && dp == hs; }
  // A head's rows as the kernels read them: where they are when unpadded,
  // else a padded copy in dst.
  struct Rows {
    const float* at;
    int64_t ld;  // row stride
  };
  Rows read(float* dst, const float* src, int64_t ld) const {
    if (unpadded()) return {src, ld};
    load(dst, src, ld);
    return {dst, dp};
  }
  // rows (T, hs) at row stride ld  ->  dst (Tr, dp), zeros around them
  void load(float* dst, const float* src, int64_t ld) const {
    for (int i = 0; i < Tr; ++i) {
      float* row = dst + int64_t(i) * dp;
      if (i < T) std::copy_n(src + i * ld, hs, row);
      std::fill(row + (i < T ? hs : 0), row + dp, 0.0f);
    }
  }
  // src's rows (T, hs) -> their transpose (dp, Tc), zeros around it
  void transpose_rows(float* dst, Rows src) const {
    for (int d = 0; d < dp; ++d) {  // only the padding needs its zeros
      std::fill(dst + int64_t(d) * Tc + (d < hs ? T : 0), dst + int64_t(d + 1) * Tc, 0.0f);
    }
    for (int i = 0; i < T; ++i) {
      for (int d = 0; d < hs; ++d) dst[int64_t(d) * Tc + i] = src.at[i * src.ld + d];
    }
  }
  // a (Tr, Tc) square's transpose, over the first T rows and columns
  void transpose_square(float* dst, const float* src) const {
    std::fill_n(dst, size_t(Tr) * Tc, 0.0f);
    for (int i = 0; i < T; ++i) {
      for (int j = 0; j <= i; ++j) dst[int64_t(j) * Tc + i] = src[int64_t(i) * Tc + j];
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
      for (int j = 0; j < hs; ++j) to[j] += from[j];
    }
  }
};

inline HeadScratch& head_scratch(int T, int hs) {
  static thread_local HeadScratch scratch;
  scratch.shape(T, hs);
  return scratch;
}

// Row i of the scores: scale, mask j > i, softmax; in place, 16 columns at a
// time. Eigen's exp on a fixed 16-float array is whole vectors, unrolled (a
// scalar std::exp per score made the softmax the slowest part of attention,
// and a row of i + 1 floats still ends in a short piece done one at a time).
// Inside the last 16 the future columns hold −∞ for the max, then the max,
// whose exp is 1 (an exp of −∞ is subnormal: slow on some CPUs), then 0 for
// the sum; every column past i ends an exact zero. The order of the sums
// depends on nothing but i. Needs width a multiple of 16.
inline void scaled_causal_softmax(float* row, int i, int width, float scale) {
  using Sixteen = Eigen::Map<Eigen::Array<float, 16, 1>>;  // any alignment
  const int pieces = i / 16 + 1, padded = 16 * pieces;  // columns [0, padded) hold j <= i
  float* future = row + i + 1;
  std::fill(future, row + padded, -INFINITY);
  Eigen::Array<float, 16, 1> most = Sixteen(row);
  for (int p = 1; p < pieces; ++p) most = most.max(Sixteen(row + 16 * p));
  // Halve the 16 to 8, 4, then 4 floats (Eigen's maxCoeff of a fixed 16
  // went through the stack, one float at a time).
  const Eigen::Array<float, 8, 1> eight = most.head<8>().max(most.tail<8>());
  const Eigen::Array<float, 4, 1> four = eight.head<4>().max(eight.tail<4>());
  const float max_score = std::max(std::max(four[0], four[1]), std::max(four[2], four[3]));
  const float max = max_score * scale;
  std::fill(future, row + padded, max_score);
  Eigen::Array<float, 16, 1> sum = Eigen::Array<float, 16, 1>::Zero();
  for (int p = 0; p < pieces; ++p) {
    Sixteen e(row + 16 * p);
    e = (e * scale - max).exp();
    if (p == pieces - 1) std::fill(future, row + padded, 0.0f);
    sum += e;
  }
  const float inverse = 1.0f / sum.sum();
  for (int p = 0; p < pieces; ++p) Sixteen(row + 16 * p) *= inverse;
  std::fill(row + padded, row + width, 0.0f);  // the future: weight exactly 0
}

}  // namespace gpt
