// chapters/05_feedforward_layernorm/feedforward_layernorm_test.cc — GELU,
// LayerNorm and the feed-forward network against PyTorch.
//
// The cases in tests/references/05_feedforward_layernorm/ come from
// tests/cases/ch05_feedforward_layernorm.py, computed in float64 and rounded
// once: the exact answers. Tolerance: an element passes when
// |ours - torch| <= 1e-6 + 1e-5 * |torch| (kTol). layernorm_large_mean is
// where exactness matters most: our double sums reach it, a float
// implementation could not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

// GELU and LayerNorm round a few float operations per element (erf and tanh
// within a few ulps), a few u = 2^-24 relative; where GELU(x) is tiny (x far
// below 0, or near 0) the absolute error is a few u of x·Φ(x)'s parts, below
// 1e-6. The feed-forward network adds two dot products of C = 32 and F = 64
// terms of size ~0.1: in any order, ~√F·u·Σ|terms| ≈ 4e-7 even where they
// cancel (atol 1e-6), a few u·√F relative where they do not (rtol 1e-5 =
// 170u). Measured worst, on AVX-512, AVX2 and at -O1: 0.1 of the tolerance.
const Tolerance kTol{1e-6, 1e-5};
const char* kChapter = "05_feedforward_layernorm";

using testing::ReferenceChecks;

// For failure messages: GELU's output element i came from x[i].
ElementContext gelu_context(const std::vector<float>& x) {
  return {{"element"}, same_element("x", x)};
}

// LayerNorm's output (N, C): the input element there and its row's statistics.
ElementContext layernorm_out_context(const std::vector<float>& x, int C) {
  return {{"row", "col"}, both(same_element("x", x), row_statistics("x", x, C, C))};
}
// LayerNorm's mean and rstd (N,): the statistics of the input row.
ElementContext layernorm_row_context(const std::vector<float>& x, int C) {
  return {{"row"}, row_statistics("x", x, C, 1)};
}

// ---------------------------------------------------------------- GELU

TEST(GeluReference, ErfFormMatchesPyTorch) {
  const Safetensors ref = load_reference(kChapter, "gelu");
  const std::vector<float> x = ref.floats("in.x");
  std::vector<float> out(x.size());
  gelu_forward(out.data(), x.data(), int64_t(x.size()), GeluForm::Erf);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.erf", kTol, gelu_context(x));
}

TEST(GeluReference, TanhFormMatchesPyTorch) {
  const Safetensors ref = load_reference(kChapter, "gelu");
  const std::vector<float> x = ref.floats("in.x");
  std::vector<float> out(x.size());
  gelu_forward(out.data(), x.data(), int64_t(x.size()), GeluForm::Tanh);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.tanh", kTol, gelu_context(x));
}

TEST(Gelu, WorksInPlace) {
  const Safetensors ref = load_reference(kChapter, "gelu");
  const std::vector<float> original_x = ref.floats("in.x");
  std::vector<float> x = original_x;  // becomes GELU(x)
  gelu_forward(x.data(), x.data(), int64_t(x.size()), GeluForm::Erf);
  EXPECT_MATCHES_REFERENCE(x, ref, "out.erf", kTol, gelu_context(original_x));
}

// Φ(x) + Φ(-x) = 1, so GELU(x) - GELU(-x) = x: the curve is x/2 plus an even
// function. The tanh form keeps this exactly, because tanh is odd.
TEST(Gelu, OddPartIsHalfTheIdentity) {
  std::string wrong;  // "; erf form: at x = [0.5, 1] it is [0, 0]", where the identity fails
  for (GeluForm form : {GeluForm::Erf, GeluForm::Tanh}) {
    const std::vector<float> x = {0.1f, 0.5f, 1.0f, 2.5f, 7.0f};
    std::vector<float> minus_x(x.size()), at_x(x.size()), at_minus_x(x.size());
    for (size_t i = 0; i < x.size(); ++i) minus_x[i] = -x[i];
    gelu_forward(at_x.data(), x.data(), int64_t(x.size()), form);
    gelu_forward(at_minus_x.data(), minus_x.data(), int64_t(x.size()), form);
    // Each GELU value is off by a few u (~5u) of |x|, the difference by one
    // more rounding: ~11u·x = 7e-7·x < 1e-6·(1 + x).
    std::ostringstream where, value;
    for (size_t i = 0; i < x.size(); ++i) {
      const double difference = double(at_x[i]) - at_minus_x[i];
      if (!(std::abs(difference - x[i]) <= 1e-6 * (1 + x[i]))) {
        where << (where.tellp() > 0 ? ", " : "") << x[i];
        value << (value.tellp() > 0 ? ", " : "") << difference;
      }
    }
    if (where.tellp() > 0) {
      wrong += std::string(wrong.empty() ? "" : "; ") + (form == GeluForm::Erf ? "erf" : "tanh") +
               " form: at x = [" + where.str() + "] it is [" + value.str() + "]";
    }
  }
  EXPECT_HOLDS(wrong.empty()) << "GELU(x) - GELU(-x) should be x (within 1e-6·(1 + x)); " << wrong;
}

// The approximation is close to the exact curve everywhere, but not equal.
TEST(Gelu, TanhApproximationIsWithinOneThousandthOfErf) {
  const Safetensors ref = load_reference(kChapter, "gelu");
  const std::vector<float> x = ref.floats("in.x");
  std::vector<float> exact(x.size()), approx(x.size());
  gelu_forward(exact.data(), x.data(), int64_t(x.size()), GeluForm::Erf);
  gelu_forward(approx.data(), x.data(), int64_t(x.size()), GeluForm::Tanh);
  double worst = 0;
  float worst_x = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::abs(exact[i] - approx[i]) > worst) worst = std::abs(exact[i] - approx[i]), worst_x = x[i];
  }
  std::printf("[ gelu     ] max |erf form - tanh form| = %.2e at x = %.2f\n", worst, worst_x);
  EXPECT_HOLDS(worst > 1e-5 && worst < 1e-3)
      << "the erf and tanh forms should differ by between 1e-5 and 1e-3, but differ by at most "
      << worst << " (at x = " << worst_x << ")"
      << (worst == 0 ? ": are both forms computed, and differently?" : "");
}

TEST(Gelu, NegativeSizeIsAClearError) {
  float x = 0;
  EXPECT_THROW(gelu_forward(&x, &x, -1, GeluForm::Erf), std::invalid_argument);
}

// ----------------------------------------------------------- LayerNorm

class LayerNormReference : public ::testing::TestWithParam<const char*> {};

TEST_P(LayerNormReference, OutputMeanAndRstdMatchPyTorch) {
  const Safetensors ref = load_reference(kChapter, GetParam());
  const int N = config_int(ref, "N"), C = config_int(ref, "C");
  const float eps = std::stof(ref.metadata.at("eps"));
  std::vector<float> out(size_t(N) * C), mean(N), rstd(N);
  const std::vector<float> x = ref.floats("in.x");  // (N, C)
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), ref.floats("weight").data(),
                    ref.floats("bias").data(), N, C, eps);
  ReferenceChecks checks(ref);
  checks.add(mean, "out.mean", kTol, layernorm_row_context(x, C));
  checks.add(rstd, "out.rstd", kTol, layernorm_row_context(x, C));
  checks.add(out, "out.out", kTol, layernorm_out_context(x, C));
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, LayerNormReference,
                         ::testing::Values("layernorm", "layernorm_awkward",
                                           "layernorm_large_mean"));

TEST(LayerNorm, MeanAndRstdMayBeOmitted) {
  const Safetensors ref = load_reference(kChapter, "layernorm");
  const int N = config_int(ref, "N"), C = config_int(ref, "C");
  const std::vector<float> x = ref.floats("in.x");  // (N, C)
  std::vector<float> out(size_t(N) * C);
  layernorm_forward(out.data(), nullptr, nullptr, x.data(), ref.floats("weight").data(),
                    ref.floats("bias").data(), N, C, 1e-5f);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.out", kTol, layernorm_out_context(x, C));
}

// Why two passes: var = E[x²] - E[x]² subtracts two numbers near 10⁶ to get
// one near 0.01. In float, whose spacing near 10⁶ is 0.0625, nothing is left.
TEST(LayerNorm, OnePassVarianceFailsOnRowsFarFromZero) {
  const Safetensors ref = load_reference(kChapter, "layernorm_large_mean");
  const int N = config_int(ref, "N"), C = config_int(ref, "C");
  const std::vector<float> x = ref.floats("in.x"), rstd = ref.floats("out.rstd");
  int wrong_rows = 0;
  for (int n = 0; n < N; ++n) {
    float sum = 0, sum_sq = 0;  // the one-pass formula, in float
    for (int c = 0; c < C; ++c) sum += x[n * C + c], sum_sq += x[n * C + c] * x[n * C + c];
    const float mean = sum / C, var = sum_sq / C - mean * mean;
    const float one_pass_rstd = 1.0f / std::sqrt(var + 1e-5f);
    std::printf("[ one-pass ] row %d: var %+.4f, rstd %9.4f (exact %.4f)\n", n, var,
                one_pass_rstd, rstd[n]);
    if (!(std::abs(one_pass_rstd - rstd[n]) < 0.1f * rstd[n])) ++wrong_rows;  // NaN counts
  }
  EXPECT_GE(wrong_rows, N / 2) << "the case no longer shows the one-pass formula failing";
}

// LayerNorm forgets where a row is and how wide it is: with eps = 0, unit
// weight and zero bias, normalising 3x + 5 gives the same as normalising x, and
// every output row has mean 0 and variance 1.
TEST(LayerNorm, OutputForgetsTheRowsShiftAndScale) {
  const Safetensors ref = load_reference(kChapter, "layernorm");
  const int N = config_int(ref, "N"), C = config_int(ref, "C");
  const std::vector<float> x = ref.floats("in.x"), ones(C, 1.0f), zeros(C, 0.0f);
  std::vector<float> moved(x.size()), a(x.size()), b(x.size());
  for (size_t i = 0; i < x.size(); ++i) moved[i] = 3.0f * x[i] + 5.0f;
  layernorm_forward(a.data(), nullptr, nullptr, x.data(), ones.data(), zeros.data(), N, C, 0.0f);
  layernorm_forward(b.data(), nullptr, nullptr, moved.data(), ones.data(), zeros.data(), N, C, 0.0f);
  // 3x + 5 is rounded to float: up to u·|3x + 5| <= 23u per element, which
  // normalising divides by the row's spread (~6): ~2e-7, plus LayerNorm's own
  // few u on each side.
  const Tolerance same_tol{1e-5, 1e-5};
  const CompareReport same = compare(b.data(), a.data(), {N, C}, same_tol);
  EXPECT_HOLDS(same.ok) << same.describe("ln(3x + 5) vs ln(x)", same_tol,
                                         {{"row", "col"}, same_element("x", x)});
  // Each output is off by a few u relative (|a| <= ~3): their mean by ~u,
  // their mean square by ~6u = 4e-7. One message for all the rows that miss.
  int rows_off = 0;
  std::ostringstream first_off;  // the first such row, with its mean and variance
  for (int n = 0; n < N; ++n) {
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += a[n * C + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (a[n * C + c] - m) * (a[n * C + c] - m);
    if (!(std::abs(m) <= 1e-6 && std::abs(v / C - 1.0) <= 1e-5)) {
      if (rows_off++ == 0) first_off << "row " << n << ": mean " << m << ", variance " << v / C;
    }
  }
  EXPECT_HOLDS(rows_off == 0) << "with unit weight and zero bias every output row should have "
                                 "mean 0 (within 1e-6) and variance 1 (within 1e-5); "
                              << rows_off << " of " << N << " rows do not; the first, "
                              << first_off.str();
}

TEST(LayerNorm, EmptyRowsAreAClearError) {
  float x = 0, w = 1, b = 0, y = 0;
  EXPECT_THROW(layernorm_forward(&y, nullptr, nullptr, &x, &w, &b, 1, 0, 1e-5f),
               std::invalid_argument);
}

// -------------------------------------------------------- feed-forward

class FeedForwardReference : public ::testing::TestWithParam<const char*> {};

TEST_P(FeedForwardReference, HiddenActivatedAndOutputMatchPyTorch) {
  const Safetensors ref = load_reference(kChapter, GetParam());
  const int N = config_int(ref, "B") * config_int(ref, "T");
  const int C = config_int(ref, "embed_size"), F = config_int(ref, "ff_dim");
  const GeluForm form = ref.metadata.at("gelu") == "tanh" ? GeluForm::Tanh : GeluForm::Erf;
  const std::vector<float> fc_w = ref.floats("fc.weight"), fc_b = ref.floats("fc.bias");
  const std::vector<float> proj_w = ref.floats("proj.weight"), proj_b = ref.floats("proj.bias");
  const FeedForwardParams params{fc_w.data(), fc_b.data(), proj_w.data(), proj_b.data()};
  std::vector<float> out(size_t(N) * C), hidden(size_t(N) * F), activated(size_t(N) * F);
  feedforward_forward(out.data(), hidden.data(), activated.data(), ref.floats("in.x").data(),
                      params, N, C, F, form);
  // In the order computed: the first tensor listed as differing is where to look.
  ReferenceChecks checks(ref);
  checks.add(hidden, "out.hidden", kTol, {{"b", "t", "f"}, {}});
  checks.add(activated, "out.activated", kTol,
             {{"b", "t", "f"}, same_element("hidden", ref.floats("out.hidden"))});
  checks.add(out, "out.out", kTol, {{"b", "t", "c"}, {}});
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, FeedForwardReference,
                         ::testing::Values("feedforward_erf", "feedforward_tanh"));

TEST(FeedForward, ZeroWidthIsAClearError) {
  const FeedForwardParams params{nullptr, nullptr, nullptr, nullptr};
  float x = 0;
  EXPECT_THROW(feedforward_forward(&x, &x, &x, &x, params, 1, 1, 0, GeluForm::Erf),
               std::invalid_argument);
}

}  // namespace
}  // namespace gpt
