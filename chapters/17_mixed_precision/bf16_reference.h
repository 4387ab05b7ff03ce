// chapters/17_mixed_precision/bf16_reference.h — chapter 17 tests: a bf16 product's exact answer, and how far a right one may be from it.
//
// The reference sums in double, so it is exact to ~1e-16 relative: the
// tolerance is then the GPU's own error, which the lesson derives.
//   * each product a·b of two bf16 is exact in float32 (8 + 8 significant
//     bits fit in 24);
//   * adding K of them in float32, in any order, is off by at most
//     (K − 1)·u·Σ|a·b|, with u = 2^-24 for round-to-nearest; tensor cores may
//     truncate inside their adders, so u = 2^-23 here;
//   * rounding the sum s to bf16 moves it by at most 2^-8·|s| (half of the
//     step between neighbours, 2^-7 at 1: bf16 keeps 8 significant bits).
// So |out − exact| <= 2^-8·|exact| + (1 + 2^-8)·(K − 1)·2^-23·Σ_k|a_k·b_k|.
// A wrong fragment layout, a missed slice or a stale stage is off by about
// |exact| itself, hundreds of times more.
// A linear layer's epilogue (epilogue.h) adds a bias and maybe GELU to the
// fp32 sum before that rounding: the sum's error passes through them times
// their slope (1, and at most 1.13 for GELU), plus their own fp32 arithmetic.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/17_mixed_precision/bf16.h"
#include "common/random.h"

namespace gpt::bf16_testing {

// n standard-normal values, each rounded to bf16.
inline std::vector<Bf16> random_bf16(size_t n, uint64_t seed, float std = 1.0f) {
  Rng rng(seed);
  std::vector<Bf16> v(n);
  for (Bf16& x : v) x = to_bf16(rng.normal(0.0f, std));
  return v;
}

inline double gelu_tanh(double x) {  // GELU's tanh form, in double
  const double kSqrt2OverPi = 0.79788456080286536;
  return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
}

// out = epilogue(A · Bᵀ + bias) in double: A (M, K), B (N, K), bias (N) or
// empty; beside it the value before the epilogue and Σ_k |A[m,k]·B[n,k]|.
struct Exact {
  std::vector<double> value;  // (M, N)
  std::vector<double> pre;    // (M, N): A · Bᵀ + bias, before GELU
  std::vector<double> size;   // (M, N): Σ_k |a·b|
  bool bias = false, gelu = false;
};
inline Exact exact_product(const std::vector<Bf16>& A, const std::vector<Bf16>& B, int M, int N,
                           int K, const std::vector<Bf16>& bias = {}, bool gelu = false) {
  const size_t n_out = size_t(M) * N;
  Exact e{std::vector<double>(n_out), std::vector<double>(n_out), std::vector<double>(n_out),
          !bias.empty(), gelu};
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double sum = bias.empty() ? 0.0 : to_float(bias[n]), size = 0.0;
      for (int k = 0; k < K; ++k) {
        const double p = double(to_float(A[size_t(m) * K + k])) * to_float(B[size_t(n) * K + k]);
        sum += p;
        size += std::fabs(p);
      }
      e.pre[size_t(m) * N + n] = sum;
      e.value[size_t(m) * N + n] = gelu ? gelu_tanh(sum) : sum;
      e.size[size_t(m) * N + n] = size;
    }
  }
  return e;
}

// lesson: bf16_tolerance
inline double allowed_error(double exact, double size, int K) {
  const double rounding = std::ldexp(1.0, -8);  // the result to bf16: half a step at most
  const double sum_error = (K - 1) * std::ldexp(1.0, -23) * size;  // K float32 adds
  return rounding * std::fabs(exact) + (1.0 + rounding) * sum_error;
}
// end lesson

// With an epilogue: `pre` is the exact value before GELU (sum + bias). The
// bias add rounds once in fp32 (2^-24·|pre|); GELU multiplies an error by
// at most 1.13 and its fp32 evaluation (tanhf, a few products) adds a few
// ulps, 2^-20·|pre| allowed.
inline double allowed_error(double exact, double pre, double size, int K, bool gelu) {
  const double rounding = std::ldexp(1.0, -8);
  const double sum_error = (K - 1) * std::ldexp(1.0, -23) * size + std::ldexp(std::fabs(pre), -24);
  const double through = gelu ? 1.13 * sum_error + std::ldexp(std::fabs(pre), -20) : sum_error;
  return rounding * std::fabs(exact) + (1.0 + rounding) * through;
}

// What element i of e's product may be off by.
inline double allowed_for(const Exact& e, size_t i, int K) {
  if (!e.bias && !e.gelu) return allowed_error(e.value[i], e.size[i], K);
  return allowed_error(e.value[i], e.pre[i], e.size[i], K, e.gelu);
}

// Every element within allowed_error; on failure, the worst element (by its
// error over what is allowed) with its row, column and numbers.
inline ::testing::AssertionResult matches_exact(const std::vector<Bf16>& out, const Exact& e,
                                                int M, int N, int K, const std::string& name) {
  if (out.size() != size_t(M) * N) {
    return ::testing::AssertionFailure() << name << ": " << out.size() << " elements, expected "
                                         << size_t(M) * N;
  }
  double worst_ratio = -1.0;
  size_t worst = 0, bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double got = to_float(out[i]);
    const double allowed = allowed_for(e, i, K);
    const double error = std::fabs(got - e.value[i]);
    const double ratio = std::isfinite(error) ? error / allowed : INFINITY;
    if (!(ratio <= 1.0)) ++bad;
    if (!(ratio <= worst_ratio)) worst_ratio = ratio, worst = i;
  }
  std::ostringstream line;
  line << name << " (" << M << "x" << N << "x" << K << "): worst at [" << worst / N << ", "
       << worst % N << "]: got " << to_float(out[worst]) << ", exact " << e.value[worst]
       << ", error " << std::fabs(to_float(out[worst]) - e.value[worst]) << " of "
       << allowed_for(e, worst, K) << " allowed (" << worst_ratio
       << " of the tolerance)";
  if (bad > 0) {
    return ::testing::AssertionFailure() << line.str() << "; " << bad << " of " << out.size()
                                         << " elements outside";
  }
  std::cout << "[ compare  ] " << line.str() << std::endl;
  return ::testing::AssertionSuccess();
}

template <class T>  // float or double
std::vector<T> transpose(const std::vector<T>& x, int rows, int cols) {
  std::vector<T> t(x.size());
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) t[size_t(c) * rows + r] = x[size_t(r) * cols + c];
  }
  return t;
}

// The verdict on got (M, N): each element's error over what it is allowed,
// ratios[i], at most 1; the worst is named with its place either way.
inline ::testing::AssertionResult within_bounds(const std::vector<float>& got,
                                                const std::vector<double>& ratios, int M, int N,
                                                int K, const std::string& name) {
  double worst_ratio = -1;
  size_t worst = 0, bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(ratios[i] <= 1.0)) ++bad;
    if (!std::isnan(worst_ratio) && !(ratios[i] <= worst_ratio)) {
      worst_ratio = ratios[i], worst = i;  // the first NaN, once there is one, stays the worst
    }
  }
  std::ostringstream line;
  line << name << " (" << M << "x" << N << ", K " << K << "): worst at [" << worst / N << ", "
       << worst % N << "]: got " << got[worst] << ", error used " << worst_ratio
       << " of its bound";
  if (bad > 0) return ::testing::AssertionFailure() << line.str() << "; " << bad << " outside";
  std::printf("%s\n", line.str().c_str());
  return ::testing::AssertionSuccess();
}

// For the products kept in fp32 (the GPT's bf16 format): got (M, N) ==
// old + e.value (+ bias[j]), where only the fp32 sum is off, over K' = the
// padded K terms, and the bias and an accumulated gradient's old value are
// added in fp32 once each:
//   |got − exact| <= (K' − 1)·2^-23·Σ|a·b| + 2^-23·(|bias| + |old|)
inline ::testing::AssertionResult within_sum_error(const std::vector<float>& got,
                                                   const Exact& e, const std::vector<float>& old,
                                                   const std::vector<float>& bias, int M, int N,
                                                   int K, const std::string& name) {
  const int Kp = (K + 7) / 8 * 8;
  std::vector<double> ratios(got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const double b = bias.empty() ? 0.0 : bias[i % N], o = old.empty() ? 0.0 : old[i];
    const double want = o + e.value[i] + b;
    const double allowed =
        (Kp - 1) * std::ldexp(1.0, -23) * e.size[i] + std::ldexp(std::fabs(b) + std::fabs(o), -23) +
        1e-30;
    ratios[i] = std::fabs(got[i] - want) / allowed;
  }
  return within_bounds(got, ratios, M, N, K, name);
}

}  // namespace gpt::bf16_testing
