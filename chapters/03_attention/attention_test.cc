// chapters/03_attention/attention_test.cc — our causal attention against PyTorch's.
//
// Each case in tests/references/03_attention/ holds q, k, v and PyTorch's
// weights and output (tests/cases/ch03_attention.py), computed in float64 and
// rounded once: the exact answer. Tolerance: an element passes when
// |ours - torch| <= 1e-6 + 1e-5 * |torch|. The "large_scores" case has scores
// near 256, where exp(score) overflows float32: only a softmax that subtracts
// the row maximum passes it. Its scores are exact in float32, so the
// comparison sees the softmax's error alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/03_attention/attention.h"
#include "chapters/03_attention/causal_softmax.h"
#include "common/random.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

// Our float32 arithmetic against the exact answer (u = 2^-24 = kFloatRoundoff):
// a score is a dot product of hs <= 16 terms, a weight an exp, a sum of
// T <= 16 terms and a division, an output a sum of T weights times values.
// Each rounding is at most u of the sizes involved, and they fall either way,
// whatever the order of the adds or the instruction set: a weight is off by
// at most ~(T + 8)·u = 1.4e-6 relative (rtol 1e-5 is seven times that), an
// output by ~√(T + hs)·u·Σ_s w_s·|v_s| ≈ 3e-7 for values of size ~1 (the
// weights sum to 1), even where its sum cancels to near 0 (atol 1e-6).
const Tolerance kTol{1e-6, 1e-5};

// A softmax weight w of a row of n scores, computed in float: exp within 2
// ulps (4u; Eigen's vectorised exp measures 1.4 ulps at most on -20..0, with
// AVX-512 or AVX2), the sum of n terms (n − 1)·u plus the exps' errors carried
// into it (4u), the division u; at most (n + 8)·u relative.
double softmax_bound(double w, int n) { return (n + 8) * kFloatRoundoff * w; }

struct AttentionRun {
  int N, T, hs;
  std::vector<float> q, k, v, out, weights;
};

// Runs our attention_forward on a reference case's inputs.
AttentionRun run_case(const Safetensors& ref) {
  AttentionRun r{config_int(ref, "N"), config_int(ref, "T"), config_int(ref, "hs"),
        ref.floats("in.q"), ref.floats("in.k"), ref.floats("in.v"), {}, {}};
  r.out.assign(size_t(r.N) * r.T * r.hs, std::nanf(""));  // NaN: every entry must be written
  r.weights.assign(size_t(r.N) * r.T * r.T, std::nanf(""));
  attention_forward(r.out.data(), r.weights.data(), r.q.data(), r.k.data(), r.v.data(), r.N,
                    r.T, r.hs);
  return r;
}

class AttentionReference : public ::testing::TestWithParam<const char*> {};

TEST_P(AttentionReference, WeightsMatchPyTorch) {
  const Safetensors ref = load_reference("03_attention", GetParam());
  EXPECT_MATCHES_REFERENCE(run_case(ref).weights, ref, "out.weights", kTol);
}

TEST_P(AttentionReference, OutputMatchesPyTorch) {
  const Safetensors ref = load_reference("03_attention", GetParam());
  EXPECT_MATCHES_REFERENCE(run_case(ref).out, ref, "out.out", kTol);
}

// Properties that hold for any input, checked on the reference cases' inputs.
TEST_P(AttentionReference, WeightsAreACausalProbabilityDistribution) {
  const AttentionRun r = run_case(load_reference("03_attention", GetParam()));
  for (int n = 0; n < r.N; ++n) {
    for (int t = 0; t < r.T; ++t) {
      const float* row = &r.weights[(size_t(n) * r.T + t) * r.T];
      double sum = 0;
      for (int s = 0; s <= t; ++s) {
        EXPECT_GE(row[s], 0.0f);
        sum += row[s];
      }
      // Σ_s fl(e_s / S̃) = (S / S̃)·(1 + at most u): the float sum S̃ of t + 1
      // terms is off by at most t·u relative, whatever the order of its adds.
      EXPECT_NEAR(sum, 1.0, (t + 2) * kFloatRoundoff) << "row sum, n=" << n << " t=" << t;
      for (int s = t + 1; s < r.T; ++s) {
        EXPECT_EQ(row[s], 0.0f) << "position " << t << " attends to the future " << s;
      }
    }
  }
}

TEST_P(AttentionReference, FirstPositionAttendsOnlyToItself) {
  const AttentionRun r = run_case(load_reference("03_attention", GetParam()));
  for (int n = 0; n < r.N; ++n) {
    EXPECT_EQ(r.weights[size_t(n) * r.T * r.T], 1.0f);
    for (int c = 0; c < r.hs; ++c) {
      const size_t i = size_t(n) * r.T * r.hs + c;  // out[n, 0, c] and v[n, 0, c]
      EXPECT_EQ(r.out[i], r.v[i]) << "n=" << n << " c=" << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionReference,
                         ::testing::Values("small", "single_position", "awkward",
                                           "large_scores"));

TEST(CausalSoftmax, LargeScoresDoNotOverflow) {
  // Naively, exp(1000) = inf and inf / inf = NaN. Shifted by the row maximum
  // the exponents are 0 and -1.
  const std::vector<float> scores = {1000.0f, 0.0f,  // row 0: only 1000 counts
                                     1000.0f, 1001.0f};
  std::vector<float> w(4);
  causal_softmax_forward(w.data(), scores.data(), 1, 2);
  const double e = std::exp(1.0);
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], 0.0f);
  EXPECT_NEAR(w[2], 1.0 / (1.0 + e), softmax_bound(1.0 / (1.0 + e), 2));
  EXPECT_NEAR(w[3], e / (1.0 + e), softmax_bound(e / (1.0 + e), 2));
}

TEST(CausalSoftmax, NeverReadsTheFuture) {
  // NaN and infinity above the diagonal must not leak into the weights.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> scores = {2.0f, nan, inf,
                                     0.5f, 0.5f, nan,
                                     1.0f, 2.0f, 3.0f};
  std::vector<float> w(9, -1.0f);
  causal_softmax_forward(w.data(), scores.data(), 1, 3);
  const std::vector<float> expected_zeros = {w[1], w[2], w[5]};
  for (float z : expected_zeros) EXPECT_EQ(z, 0.0f);
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_FLOAT_EQ(w[3], 0.5f);
  EXPECT_FLOAT_EQ(w[4], 0.5f);
  const double total = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  EXPECT_NEAR(w[6], std::exp(-2.0) / total, softmax_bound(std::exp(-2.0) / total, 3));
  EXPECT_NEAR(w[8], 1.0 / total, softmax_bound(1.0 / total, 3));
}

TEST(CausalSoftmax, InPlaceEqualsOutOfPlaceAndIgnoresARowShift) {
  const int N = 3, T = 7;
  Rng rng(7);
  std::vector<float> scores(N * T * T);
  for (float& s : scores) s = rng.normal(0.0f, 3.0f);
  std::vector<float> out_of_place(scores.size());
  causal_softmax_forward(out_of_place.data(), scores.data(), N, T);
  std::vector<float> in_place = scores;
  causal_softmax_forward(in_place.data(), in_place.data(), N, T);
  EXPECT_EQ(in_place, out_of_place);
  // softmax(x + c) = softmax(x): add a different constant to every row.
  std::vector<float> shifted = scores;
  for (int row = 0; row < N * T; ++row) {
    for (int s = 0; s < T; ++s) shifted[row * T + s] += 40.0f * (row % 5 - 2);
  }
  std::vector<float> w(scores.size());
  causal_softmax_forward(w.data(), shifted.data(), N, T);
  // Not bit for bit: a shifted score, |s| < 128, is rounded to a spacing of
  // 2^-17, so each s − max moves by up to 2·2^-18 = 7.6e-6, and a weight
  // (numerator and sum) by up to 2·7.6e-6 of itself, plus a few u: < 2e-5.
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], out_of_place[i], 2e-5) << i;
}

// Why divide by sqrt(hs): with unit-variance q and k, a dot product of hs terms
// has variance hs. Unscaled, the scores grow with the head size and the softmax
// saturates: each position attends almost entirely to one other.
TEST(Attention, ScalingKeepsTheWeightsSoftAsTheHeadGrows) {
  const int N = 8, T = 64, hs = 64;
  Rng rng(3);
  std::vector<float> q(N * T * hs), k(q.size()), v(q.size()), out(q.size());
  for (float& x : q) x = rng.normal(0.0f, 1.0f);
  for (float& x : k) x = rng.normal(0.0f, 1.0f);
  for (float& x : v) x = rng.normal(0.0f, 1.0f);
  // Mean over rows t >= 16 (with enough keys to choose from) of the largest weight.
  const auto mean_top_weight = [&](const std::vector<float>& queries) {
    std::vector<float> w(size_t(N) * T * T);
    attention_forward(out.data(), w.data(), queries.data(), k.data(), v.data(), N, T, hs);
    double total = 0;
    int rows = 0;
    for (int n = 0; n < N; ++n) {
      for (int t = 16; t < T; ++t, ++rows) {
        const float* row = &w[(size_t(n) * T + t) * T];
        total += *std::max_element(row, row + t + 1);
      }
    }
    return total / rows;
  };
  std::vector<float> unscaled_q = q;  // q * sqrt(hs) undoes the 1/sqrt(hs)
  for (float& x : unscaled_q) x *= std::sqrt(float(hs));
  const double scaled = mean_top_weight(q), unscaled = mean_top_weight(unscaled_q);
  std::printf("[ measure  ] hs=%d: mean largest weight %.3f scaled, %.3f unscaled\n", hs,
              scaled, unscaled);
  EXPECT_LT(scaled, 0.3);
  EXPECT_GT(unscaled, 0.7);
}

TEST(Attention, BadSizesAreAClearError) {
  std::vector<float> buf(16);
  try {
    attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), 1, 4, 0);
    FAIL() << "no error for hs = 0";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hs=0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), 1,
                                 0, 4),
               std::invalid_argument);
}

}  // namespace
}  // namespace gpt
