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
#include <memory>
#include <sstream>
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

// A number as a message shows it: "0.268941", "1e-07", not "0.000000".
std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Softmax weights against their exact values, each within its own allowed
// error (0: exactly). A failure shows every weight, ours and the exact one,
// so that the pattern (all 0? a row not normalised?) is visible at once.
::testing::AssertionResult weights_match(const std::string& what, const std::vector<float>& w,
                                         const std::vector<double>& exact,
                                         const std::vector<double>& allowed) {
  bool ok = true;
  std::string ours = "[", expected = "[";
  for (size_t i = 0; i < w.size(); ++i) {
    ok &= std::abs(w[i] - exact[i]) <= allowed[i];
    ours += (i ? ", " : "") + number(w[i]);
    expected += (i ? ", " : "") + number(exact[i]);
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": weights " << ours << "], expected " << expected << "] (row after row)";
}

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

// For failure messages: what went into weight (n, t, s), the scaled score
// q_t·k_s/√hs, or that the key is in the future and must get weight 0.
ElementContext weights_context(const AttentionRun& r) {
  auto q = std::make_shared<const std::vector<float>>(r.q);
  auto k = std::make_shared<const std::vector<float>>(r.k);
  const int T = r.T, hs = r.hs;
  const DescribeInputs score = [q, k, T, hs](int64_t, const std::vector<int64_t>& at) {
    const int64_t n = at[0], t = at[1], s = at[2];
    if (s > t) return std::string("a future key (key > query), so its weight must be 0");
    double dot = 0;
    for (int c = 0; c < hs; ++c) {
      dot += double((*q)[(n * T + t) * hs + c]) * (*k)[(n * T + s) * hs + c];
    }
    return "score q·k/√hs = " + number(dot / std::sqrt(double(hs)));
  };
  return {{"seq", "query", "key"}, score};
}

class AttentionReference : public ::testing::TestWithParam<const char*> {};

TEST_P(AttentionReference, WeightsMatchPyTorch) {
  const Safetensors ref = load_reference("03_attention", GetParam());
  const AttentionRun r = run_case(ref);
  EXPECT_MATCHES_REFERENCE(r.weights, ref, "out.weights", kTol, weights_context(r));
}

TEST_P(AttentionReference, OutputMatchesPyTorch) {
  const Safetensors ref = load_reference("03_attention", GetParam());
  EXPECT_MATCHES_REFERENCE(run_case(ref).out, ref, "out.out", kTol,
                           ElementContext{{"seq", "t", "c"}, {}});
}

// Properties that hold for any input, checked on the reference cases' inputs.
// Counts the places where a property fails and remembers the first, so that
// a test reports each property once, however many rows break it.
struct Violations {
  int count = 0;
  std::string first;  // e.g. "(seq 0, query 3): sum 0"
  void add(const std::string& where) {
    if (count++ == 0) first = where;
  }
  std::string summary(const std::string& property) const {
    if (count == 0) return "";
    return "\n  " + property + ": " + std::to_string(count) + " times, first at " + first;
  }
};

TEST_P(AttentionReference, WeightsAreACausalProbabilityDistribution) {
  const AttentionRun r = run_case(load_reference("03_attention", GetParam()));
  Violations negative, sum_not_one, future_not_zero;
  for (int n = 0; n < r.N; ++n) {
    for (int t = 0; t < r.T; ++t) {
      const float* row = &r.weights[(size_t(n) * r.T + t) * r.T];
      const std::string at = "(seq " + std::to_string(n) + ", query " + std::to_string(t);
      double sum = 0;
      for (int s = 0; s <= t; ++s) {
        if (!(row[s] >= 0.0f)) negative.add(at + ", key " + std::to_string(s) + ")");
        sum += row[s];
      }
      // Σ_s fl(e_s / S̃) = (S / S̃)·(1 + at most u): the float sum S̃ of t + 1
      // terms is off by at most t·u relative, whatever the order of its adds.
      if (!(std::abs(sum - 1.0) <= (t + 2) * kFloatRoundoff)) {
        sum_not_one.add(at + "), where they sum to " + number(sum));
      }
      for (int s = t + 1; s < r.T; ++s) {
        if (row[s] != 0.0f) future_not_zero.add(at + ", key " + std::to_string(s) + ")");
      }
    }
  }
  const std::string failures =
      negative.summary("a weight is negative") +
      sum_not_one.summary("a row's weights do not sum to 1") +
      future_not_zero.summary("a future key (key > query) has a weight other than 0");
  EXPECT_HOLDS(failures.empty())
      << "each row of weights should be a probability distribution over the keys up to the "
         "query:"
      << failures;
}

TEST_P(AttentionReference, FirstPositionAttendsOnlyToItself) {
  const AttentionRun r = run_case(load_reference("03_attention", GetParam()));
  Violations first_weight_not_one, output_not_v;
  for (int n = 0; n < r.N; ++n) {
    const float w = r.weights[size_t(n) * r.T * r.T];
    if (w != 1.0f) first_weight_not_one.add("seq " + std::to_string(n) + ": " + number(w));
    for (int c = 0; c < r.hs; ++c) {
      const size_t i = size_t(n) * r.T * r.hs + c;  // out[n, 0, c] and v[n, 0, c]
      if (r.out[i] != r.v[i]) {
        output_not_v.add("(seq " + std::to_string(n) + ", c " + std::to_string(c) + "): out " +
                         number(r.out[i]) + ", v " + number(r.v[i]));
      }
    }
  }
  EXPECT_HOLDS(first_weight_not_one.count + output_not_v.count == 0)
      << "position 0 sees only itself: its weight on key 0 must be exactly 1 and its output "
         "exactly its own v:"
      << first_weight_not_one.summary("weight (query 0, key 0) is not 1")
      << output_not_v.summary("out at t = 0 differs from v at t = 0");
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
  EXPECT_PASSES(
      weights_match("softmax of scores [1000, 0; 1000, 1001]", w, {1, 0, 1 / (1 + e), e / (1 + e)},
                    {0, 0, softmax_bound(1 / (1 + e), 2), softmax_bound(e / (1 + e), 2)}));
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
  const double total = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  const double w6 = std::exp(-2.0) / total, w7 = std::exp(-1.0) / total, w8 = 1.0 / total;
  // The future (w[1], w[2], w[5]) exactly 0, the first row exactly 1, the
  // halves within 4 float spacings below 0.5 (2^-25 each), the last row within
  // the softmax bound.
  const double half = 4 * 0x1p-25;
  EXPECT_PASSES(weights_match(
      "softmax of scores [2, nan, inf; 0.5, 0.5, nan; 1, 2, 3]", w,
      {1, 0, 0, 0.5, 0.5, 0, w6, w7, w8},
      {0, 0, 0, half, half, 0, softmax_bound(w6, 3), softmax_bound(w7, 3), softmax_bound(w8, 3)}));
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
  const Tolerance shift_tol{2e-5, 0};
  const CompareReport same = compare(w.data(), out_of_place.data(), {N, T, T}, shift_tol);
  EXPECT_HOLDS(same.ok) << same.describe("softmax(scores + a constant per row) vs softmax(scores)",
                                         shift_tol, {{"seq", "query", "key"}, {}});
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
  EXPECT_HOLDS(scaled < 0.3 && unscaled > 0.7)
      << "the mean largest weight of a row should be below 0.3 with the 1/√hs scaling and "
         "above 0.7 without it; it is "
      << scaled << " and " << unscaled
      << (scaled == 0 && unscaled == 0 ? " (are the weights written?)" : "");
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
