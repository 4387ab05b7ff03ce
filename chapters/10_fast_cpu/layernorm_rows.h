// chapters/10_fast_cpu/layernorm_rows.h — LayerNorm of a few rows in float, 16 lanes at a time.
//
// Generation normalises a row of C floats 13 times per token (two
// LayerNorms per layer and the final one), on one thread while the other
// waits for it (kv_cache.cc). Chapter 05's layernorm_forward sums each row in
// double through Eigen's expressions; here the sums are float, as in the
// training step's fast_layernorm.cc, in 16 lanes: lane j adds columns j,
// j + 16, j + 32, ... in order, then the lanes are added as a fixed tree and
// the tail (C % 16 columns) after them. Two passes over the row: the mean,
// then the squared deviations from it (no cancellation).
//
// The order of every sum is fixed by C alone, never by where the row lies in
// memory. That matters here: a prefill's row i and an append's row 0 must
// give the same bits (kv_cache.h), and Eigen's sums begin at the first
// 64-byte-aligned float, which moves with the row's address.
#pragma once

#include <cmath>
#include <cstring>

namespace gpt {

// 8 floats: one ymm register (AVX2 and AVX-512 alike). A row is summed in
// 16 lanes, a pair of them: lanes 0-7 take columns 16k .. 16k + 7, lanes
// 8-15 the next 8.
typedef float Lanes8 __attribute__((vector_size(32)));
typedef int LaneIndex8 __attribute__((vector_size(32)));

inline Lanes8 load_lanes(const float* p) {  // any address
  Lanes8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The 16 lanes (lo, hi) added as a tree: lane j + lane j + 8, then j + 4, j + 2, j + 1.
inline float add_lanes(Lanes8 lo, Lanes8 hi) {
  Lanes8 v = lo + hi;
  v += __builtin_shuffle(v, LaneIndex8{4, 5, 6, 7, 0, 1, 2, 3});
  v += __builtin_shuffle(v, LaneIndex8{2, 3, 0, 1, 6, 7, 4, 5});
  v += __builtin_shuffle(v, LaneIndex8{1, 0, 3, 2, 5, 4, 7, 6});
  return v[0];
}

// lesson: layernorm_rows
// out[n, :] = (x[n, :] − mean) / sqrt(var + eps) · weight + bias for the N
// rows of x (N, C); mean and rstd (N) may be nullptr.
inline void layernorm_rows(float* out, float* mean, float* rstd, const float* x,
                           const float* weight, const float* bias, int N, int C, float eps) {
  const int vectors = C / 16 * 16;  // columns summed in lanes; the rest one by one
  for (int n = 0; n < N; ++n) {
    const float* row = x + size_t(n) * C;  // (C)
    Lanes8 lo = {}, hi = {};
    for (int c = 0; c < vectors; c += 16) lo += load_lanes(row + c), hi += load_lanes(row + c + 8);
    float sum = add_lanes(lo, hi);
    for (int c = vectors; c < C; ++c) sum += row[c];
    const float m = sum / C;
    lo = hi = Lanes8{};
    for (int c = 0; c < vectors; c += 16) {
      const Lanes8 d_lo = load_lanes(row + c) - m, d_hi = load_lanes(row + c + 8) - m;
      lo += d_lo * d_lo, hi += d_hi * d_hi;
    }
    float squares = add_lanes(lo, hi);
    for (int c = vectors; c < C; ++c) squares += (row[c] - m) * (row[c] - m);
    const float s = 1.0f / std::sqrt(squares / C + eps);
    float* y = out + size_t(n) * C;  // (C)
    const int eights = C / 8 * 8;  // which columns take the vector path: fixed by C alone
    for (int c = 0; c < eights; c += 8) {
      const Lanes8 v =
          (load_lanes(row + c) - m) * s * load_lanes(weight + c) + load_lanes(bias + c);
      std::memcpy(y + c, &v, sizeof v);
    }
    for (int c = eights; c < C; ++c) y[c] = (row[c] - m) * s * weight[c] + bias[c];
    if (mean != nullptr) mean[n] = m;
    if (rstd != nullptr) rstd[n] = s;
  }
}
// end lesson

}  // namespace gpt
