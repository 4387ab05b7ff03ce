// chapters/10_fast_cpu/layernorm_rows.h — chapter 05's LayerNorm, its double sums in vector registers.
//
// Generation normalises a row of C floats 2L + 1 times per token (two
// LayerNorms per layer and the final one), on one thread while the other
// waits for it (kv_cache.cc). Chapter 05's layernorm_forward keeps each
// row's sums in double, through Eigen expressions of `row.cast<double>()`,
// which Eigen evaluates a float at a time, one chain of dependent adds
// (perf annotate: results/intel-xeon-avx512/layernorm-rows/profile.txt).
// This is the same arithmetic, four doubles to a register, in four chains
// side by side. Each float is widened to double and summed in 16 lanes
// (lane j adds columns j, j + 16, j + 32, ... in order), the lanes are
// added as a fixed tree and the tail (C % 16 columns) after them: first the
// mean, then the squared deviations from it, then the output, (x − mean)·rstd
// in double, rounded to float, times the weight plus the bias in float, as
// chapter 05 writes it. So the results are chapter 05's up to the order of
// the double sums (a float output differs by one rounding at most), rows far
// from zero keep the accuracy chapter 05's double sums buy them, and the
// order of every sum is fixed by C alone, never by where the row lies in
// memory: a prefill's row i and an append's row 0 give the same bits
// (kv_cache.h). (The training step's LayerNorm, fast_layernorm.cc, sums in
// float instead; generation keeps chapter 05's numbers, to within one
// rounding.) No checks here: C >= 1 and N >= 0 are the caller's (KVCache's
// configuration is validated once).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

namespace gpt {
namespace layernorm_lanes {

typedef float Floats4 __attribute__((vector_size(16)));    // 4 floats: an xmm register
typedef double Doubles4 __attribute__((vector_size(32)));  // 4 doubles: a ymm register

// lesson: layernorm_lanes
// x[0..3] widened to double; x may lie anywhere.
static inline Doubles4 widen(const float* x) {
  Floats4 f;
  std::memcpy(&f, x, sizeof f);
  return __builtin_convertvector(f, Doubles4);
}

// 16 lanes, 4 registers of 4: lane j pairs with lane j + 8, then j + 4,
// then j + 2 and j + 1 within the last register. The same tree for any C.
static inline double add_lanes(const Doubles4 (&acc)[4]) {
  Doubles4 v = (acc[0] + acc[2]) + (acc[1] + acc[3]);
  v += __builtin_shufflevector(v, v, 2, 3, 0, 1);
  v += __builtin_shufflevector(v, v, 1, 0, 3, 2);
  return v[0];
}
// end lesson

}  // namespace layernorm_lanes

// lesson: layernorm_rows
// out[n, :] = (x[n, :] − mean) / sqrt(var + eps) · weight + bias for the N
// rows of x (N, C), C >= 1; mean and rstd (N) may be nullptr; out may be x.
static inline void layernorm_rows(float* out, float* mean, float* rstd, const float* x,
                                  const float* weight, const float* bias, int N, int C,
                                  float eps) {
  using namespace layernorm_lanes;
  const int vectors = C / 16 * 16;  // columns summed in the 16 lanes; the rest after them
  for (int n = 0; n < N; ++n) {
    const float* row = x + size_t(n) * C;  // (C)
    Doubles4 acc[4] = {};
    for (int c = 0; c < vectors; c += 16) {
#pragma GCC unroll 4  // acc in registers: GCC's -O2 leaves this loop rolled, acc in memory
      for (int k = 0; k < 4; ++k) acc[k] += widen(row + c + 4 * k);
    }
    double sum = add_lanes(acc);
    for (int c = vectors; c < C; ++c) sum += double(row[c]);
    const double m = sum / C;  // pass 1: the mean
    Doubles4 sq[4] = {};  // the squared deviations, in the same 16 lanes
    for (int c = 0; c < vectors; c += 16) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const Doubles4 d = widen(row + c + 4 * k) - m;
        sq[k] += d * d;
      }
    }
    double squares = add_lanes(sq);
    for (int c = vectors; c < C; ++c) {
      const double d = double(row[c]) - m;
      squares += d * d;
    }
    const double r = 1.0 / std::sqrt(squares / C + double(eps));  // pass 2: 1 / std
    float* y = out + size_t(n) * C;  // (C)
    const int fours = C / 4 * 4;  // pass 3; which columns take the vector path: fixed by C
    for (int c = 0; c < fours; c += 4) {
      Floats4 w, b;
      std::memcpy(&w, weight + c, sizeof w);
      std::memcpy(&b, bias + c, sizeof b);
      const Floats4 v = __builtin_convertvector((widen(row + c) - m) * r, Floats4) * w + b;
      std::memcpy(y + c, &v, sizeof v);
    }
    for (int c = fours; c < C; ++c) y[c] = float((double(row[c]) - m) * r) * weight[c] + bias[c];
    if (mean != nullptr) mean[n] = float(m);
    if (rstd != nullptr) rstd[n] = float(r);
  }
}
// end lesson

}  // namespace gpt
