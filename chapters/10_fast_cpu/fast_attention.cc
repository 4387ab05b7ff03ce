// chapters/10_fast_cpu/fast_attention.cc — attention, head by head, on small register-blocked kernels.
//
// Chapter 03 loops over (b, h, i, j) one score at a time. Here each of the
// B·H heads is a task for a thread: its q, k and v are copied out of the
// fused (B, T, 3C) projection into contiguous, zero-padded scratch, then
// S = q·kᵀ and y = P·v are head_products.h's kernels, and the softmax in
// between is one vectorized pass per row (scale, causal mask, exp, sum,
// normalise). Only the causal half of S is computed.
#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/head_products.h"
#include "chapters/10_fast_cpu/row_loops.h"
#include "common/aligned_vector.h"

namespace gpt {
namespace {

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
  // rows (T, hs) at row stride ld  ->  dst (Tr, dp), zeros around them
  void load(float* dst, const float* src, int64_t ld) const {
    for (int i = 0; i < Tr; ++i) {
      float* row = dst + int64_t(i) * dp;
      if (i < T) std::copy_n(src + i * ld, hs, row);
      std::fill(row + (i < T ? hs : 0), row + dp, 0.0f);
    }
  }
  // src (Tr, dp) -> its transpose (dp, Tc), zeros around it
  void transpose_rows(float* dst, const float* src) const {
    std::fill_n(dst, size_t(dp) * Tc, 0.0f);
    for (int i = 0; i < T; ++i) {
      for (int d = 0; d < hs; ++d) dst[int64_t(d) * Tc + i] = src[int64_t(i) * dp + d];
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
};

HeadScratch& head_scratch(int T, int hs) {
  static thread_local HeadScratch scratch;
  scratch.shape(T, hs);
  return scratch;
}

// Row i of the scores: scale, mask j > i, softmax; in place. Eigen's array
// exp works on 16 floats at a time (a scalar std::exp per score made the
// softmax the slowest part of attention). Columns past i become exact zeros.
void scaled_causal_softmax(float* row, int i, int width, float scale) {
  Eigen::Map<Eigen::ArrayXf> seen(row, i + 1);  // j <= i: the past and the present
  const float max = seen.maxCoeff() * scale;
  seen = (seen * scale - max).exp();
  seen *= 1.0f / seen.sum();
  std::fill(row + i + 1, row + width, 0.0f);  // the future: weight exactly 0
}

}  // namespace

// lesson: attention_forward
void fast_attention_forward(float* out, float* weights, const float* qkv, int B, int T, int C,
                            int H, int threads) {
  const int hs = C / H;
  const float scale = 1.0f / std::sqrt(float(hs));
  parallel_rows(B * H, threads, [&](int bh) {
    const int b = bh / H, h = bh % H;
    HeadScratch& s = head_scratch(T, hs);
    const float* q = qkv + int64_t(b) * T * 3 * C + h * hs;  // (T, hs), row stride 3C
    s.load(s.q, q, 3 * C);
    s.load(s.k, q + C, 3 * C);
    s.load(s.v, q + 2 * C, 3 * C);
    s.transpose_rows(s.kt, s.k);
    row_dots(s.s, s.Tc, s.q, s.kt, T, s.dp, s.Tc);           // S = q·kᵀ, causal part
    for (int i = 0; i < s.Tr; ++i) {
      if (i < T) {
        scaled_causal_softmax(s.s + int64_t(i) * s.Tc, i, s.Tc, scale);
      } else {
        std::fill_n(s.s + int64_t(i) * s.Tc, s.Tc, 0.0f);
      }
    }
    float* P = weights + int64_t(bh) * T * T;                // (T, T), kept for backward
    for (int i = 0; i < T; ++i) std::copy_n(s.s + int64_t(i) * s.Tc, T, P + int64_t(i) * T);
    rows_mix(s.y, s.s, s.Tc, s.v, T, s.dp, /*lower=*/true);  // y = P·v
    s.store(out + int64_t(b) * T * C + h * hs, C, s.y);      // (T, hs) of (B, T, C)
  });
}
// end lesson

void fast_attention_backward(float* dqkv, float* dscratch, const float* dout, const float* qkv,
                             const float* weights, int B, int T, int C, int H, int threads) {
  (void)dscratch;  // the per-thread head scratch holds dS
  const int hs = C / H;
  const float scale = 1.0f / std::sqrt(float(hs));
  parallel_rows(B * H, threads, [&](int bh) {
    const int b = bh / H, h = bh % H;
    HeadScratch& s = head_scratch(T, hs);
    const int64_t base = int64_t(b) * T * 3 * C + h * hs;
    s.load(s.q, qkv + base, 3 * C);
    s.load(s.k, qkv + base + C, 3 * C);
    s.load(s.v, qkv + base + 2 * C, 3 * C);
    s.load(s.dy, dout + int64_t(b) * T * C + h * hs, C);     // (T, hs) of (B, T, C)
    const float* P = weights + int64_t(bh) * T * T;
    std::fill_n(s.p, size_t(s.Tr) * s.Tc, 0.0f);
    for (int i = 0; i < T; ++i) std::copy_n(P + int64_t(i) * T, i + 1, s.p + int64_t(i) * s.Tc);
    // y = P·v:  dv = Pᵀ·dy,  dP = dy·vᵀ
    s.transpose_square(s.st, s.p);
    rows_mix(s.y, s.st, s.Tc, s.dy, T, s.dp, /*lower=*/false);
    s.store(dqkv + base + 2 * C, 3 * C, s.y);
    s.transpose_rows(s.kt, s.v);
    row_dots(s.s, s.Tc, s.dy, s.kt, T, s.dp, s.Tc);
    // P = softmax(scale · S) row by row:  dS = scale · P ⊙ (dP − Σ_j dP ⊙ P)
    for (int i = 0; i < s.Tr; ++i) {
      float* row = s.s + int64_t(i) * s.Tc;
      if (i < T) {
        Eigen::Map<Eigen::ArrayXf> dp(row, i + 1);
        const Eigen::Map<const Eigen::ArrayXf> pi(s.p + int64_t(i) * s.Tc, i + 1);
        dp = scale * pi * (dp - (dp * pi).sum());
        std::fill(row + i + 1, row + s.Tc, 0.0f);
      } else {
        std::fill_n(row, s.Tc, 0.0f);
      }
    }
    // S = q·kᵀ:  dq = dS·k,  dk = dSᵀ·q
    rows_mix(s.y, s.s, s.Tc, s.k, T, s.dp, /*lower=*/true);
    s.store(dqkv + base, 3 * C, s.y);
    s.transpose_square(s.st, s.s);
    rows_mix(s.y, s.st, s.Tc, s.q, T, s.dp, /*lower=*/false);
    s.store(dqkv + base + C, 3 * C, s.y);
  });
}

}  // namespace gpt
