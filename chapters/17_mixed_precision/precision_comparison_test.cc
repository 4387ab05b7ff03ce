// chapters/17_mixed_precision/precision_comparison_test.cc — does bf16 train as well as fp32, at a tiny shape?
//
// precision_comparison.h's rules, tested:
//   * the host's rounding to f fraction bits is bf16 exactly at f = 7, and
//     its RMS relative error is rms_rounding_error(f) (2^-9.24 for bf16);
//   * the moving-average check passes equal curves and fails an offset of
//     twice its tolerance, or a NaN;
//   * at a tiny GPT (V = 40, C = 32, L = 2, H = 2, T = 16, B = 4), fp32 and
//     the bf16 backend train alike for 60 steps: the curves within the
//     noise of a batch's mean loss, the first step within 3 RMS of its
//     prediction, the final held-out loss within its standard error; and so
//     does bf16 emulated on the host (operands rounded to 7 fraction bits);
//   * the check can fail: operands rounded to 1 fraction bit do not pass;
//   * the host path (attention included) with nothing rounded is fp32.
// Runs on the GPU, or on the CPU emulator where the build is emulated.
#include "chapters/17_mixed_precision/precision_comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include "chapters/07_gpt/init.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_products.h"
#include "common/random.h"
#include "common/testing/gpu.h"

namespace gpt::cuda {
namespace {

TEST(RoundToFractionBits, SevenBitsIsBf16) {
  Rng rng(1);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = static_cast<uint32_t>(rng.next_u64());
    float x;
    std::memcpy(&x, &u, 4);
    if (!std::isfinite(x)) continue;
    const float ours = round_to_fraction_bits(x, 7), bf16 = round_to_bf16(x);
    ASSERT_EQ(std::memcmp(&ours, &bf16, 4), 0) << x;
  }
  EXPECT_EQ(round_to_fraction_bits(1.0f + 0x1p-9f, 7), 1.0f);             // below half a step
  EXPECT_EQ(round_to_fraction_bits(1.0f + 0x1p-8f, 7), 1.0f);             // a tie: to even
  EXPECT_EQ(round_to_fraction_bits(1.0f + 3 * 0x1p-8f, 7), 1.0f + 0x1p-6f);  // a tie: to even, up
  EXPECT_EQ(round_to_fraction_bits(1.7f, 0), 2.0f);
  EXPECT_EQ(round_to_fraction_bits(0.3f, 23), 0.3f);
}

// The derivation's RMS, against the RMS measured over values spread
// log-uniformly over 20 binades.
TEST(RoundToFractionBits, RmsRelativeErrorIsTheDerivedOne) {
  EXPECT_NEAR(std::log2(rms_rounding_error(7)), -9.24, 0.01);
  Rng rng(2);
  // The uniform-error model holds while a step holds many values: within 1%
  // from 3 bits on, 3% at 1 bit.
  for (int f : {7, 5, 3, 1}) {
    double squares = 0;
    const int n = 400000;
    for (int i = 0; i < n; ++i) {
      const float x = static_cast<float>(std::exp2(20.0 * rng.uniform() - 10.0));
      const double relative = (double(round_to_fraction_bits(x, f)) - x) / x;
      squares += relative * relative;
    }
    EXPECT_NEAR(std::sqrt(squares / n) / rms_rounding_error(f), 1.0, f >= 3 ? 0.01 : 0.03)
        << f << " bits";
  }
}

TEST(CheckCurves, ToleranceIsTheNoiseOfAWStepAverage) {
  const std::vector<float> fp32(20, 2.0f);
  const std::vector<double> sigma(20, 1.0);  // N = 100: each step ±0.1; 4 of them ±0.05
  CurveCheck same = check_curves(fp32, fp32, sigma, 100, 4);
  EXPECT_TRUE(same.agrees);
  EXPECT_DOUBLE_EQ(same.tolerance[0], 0.1);
  EXPECT_DOUBLE_EQ(same.tolerance[1], 1.0 / std::sqrt(200.0));
  EXPECT_DOUBLE_EQ(same.tolerance[19], 0.05);

  std::vector<float> shifted(20, 2.0f);
  for (int s = 10; s < 20; ++s) shifted[s] += 0.1f;  // twice the tolerance, from step 11 on
  const CurveCheck off = check_curves(fp32, shifted, sigma, 100, 4);
  EXPECT_FALSE(off.agrees);
  EXPECT_NEAR(off.worst_ratio, 2.0, 1e-5);
  EXPECT_GE(off.worst_step, 13);

  std::vector<float> nan = fp32;
  nan[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(check_curves(fp32, nan, sigma, 100, 4).agrees);
}

// ---------------------------------------------------------------------------
// Training, at a tiny shape.

// A Markov chain over V tokens: each token is followed by one of 4, at
// random. Something to learn, and a floor: the loss cannot go below log 4.
std::vector<int32_t> markov_text(int n, int V, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(n);
  t[0] = 0;
  for (int i = 1; i < n; ++i) t[i] = int32_t((t[i - 1] * 5 + 1 + rng.below(4)) % V);
  return t;
}

GPTConfig tiny() {
  GPTConfig c;
  c.vocab_size = 40, c.embed_size = 32, c.num_layers = 2, c.heads = 2, c.max_length = 16;
  c.ff_dim = 4 * c.embed_size;
  return c;
}

constexpr int kB = 4, kT = 16, kSteps = 60;

Comparison compare(std::shared_ptr<ProductKernels> other, int fraction_bits) {
  const GPTConfig config = tiny();
  TrainingState start(config);
  Rng init(7);
  init_gpt2(start.model, init);
  const std::vector<int32_t> train = markov_text(20000, config.vocab_size, 1);
  const std::vector<int32_t> val = markov_text(4000, config.vocab_size, 2);
  ComparisonSettings settings;
  settings.steps = kSteps;
  settings.lr = 3e-3f;
  settings.eval_batches = 8;
  GpuOptions fp32, candidate;
  candidate.products = std::move(other);
  const Comparison c =
      compare_precisions(start, kB, kT, train, val, fp32, candidate, fraction_bits, settings);
  std::printf("%s\n", comparison_table(c, 10).c_str());
  return c;
}

class Training : public ::testing::Test {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
};

// lesson: bf16_test
TEST_F(Training, Bf16FollowsFp32WithinTheNoise) {
  const Comparison c = compare(bf16_products(), 7);
  EXPECT_LT(c.fp32.back(), c.fp32.front() - 0.5) << "fp32 must learn something";
  EXPECT_TRUE(c.curves.agrees) << "worst: step " << c.curves.worst_step + 1 << ", "
                               << c.curves.worst_ratio << " times the tolerance";
  EXPECT_TRUE(c.first_agrees) << c.first_difference << " against an RMS of "
                              << c.first_predicted_rms;
  EXPECT_TRUE(c.final_agrees) << c.final_other - c.final_fp32 << " against "
                              << c.final_tolerance;
  EXPECT_NE(c.first_difference, 0.0) << "bf16 must round something";
}
// end lesson

TEST_F(Training, EmulatedBf16FollowsFp32WithinTheNoise) {
  const Comparison c = compare(std::make_shared<RoundedProducts>(7, fp32_products(MatmulBackend::kCublas)), 7);
  EXPECT_TRUE(c.curves.agrees) << c.curves.worst_ratio;
  EXPECT_TRUE(c.first_agrees) << c.first_difference << " against " << c.first_predicted_rms;
  EXPECT_TRUE(c.final_agrees) << c.final_other - c.final_fp32 << " against "
                              << c.final_tolerance;
}

// The host path itself, attention included (hs = 32: chapter 13's fused
// kernels take it): with 23 fraction bits nothing is rounded, and the losses
// are fp32's.
TEST_F(Training, TwentyThreeFractionBitsAreFp32) {
  GPTConfig config = tiny();
  config.embed_size = 64, config.ff_dim = 256;
  TrainingState start(config);
  Rng init(3);
  init_gpt2(start.model, init);
  const std::vector<int32_t> text = markov_text(4000, config.vocab_size, 4);
  ComparisonSettings settings;
  settings.steps = 4, settings.eval_batches = 1, settings.perturbations = 1, settings.lr = 3e-3f;
  GpuOptions fp32, exact;
  exact.products = std::make_shared<RoundedProducts>(23, fp32_products(MatmulBackend::kCublas));
  ASSERT_TRUE(exact.products->has_attention(2 * config.heads, kT, 32));
  const Comparison c = compare_precisions(start, 2, kT, text, text, fp32, exact, 23, settings);
  for (int s = 0; s < settings.steps; ++s) EXPECT_NEAR(c.other[s], c.fp32[s], 1e-5) << s;
}

// lesson: coarse_test
// One fraction bit (RMS error 2^-3.24, about 11%): the check must see it.
TEST_F(Training, OneFractionBitDoesNot) {
  const Comparison c = compare(std::make_shared<RoundedProducts>(1, fp32_products(MatmulBackend::kCublas)), 1);
  EXPECT_FALSE(c.curves.agrees && c.final_agrees)
      << "the tolerance cannot tell 1 fraction bit from fp32: it checks nothing";
}
// end lesson

}  // namespace
}  // namespace gpt::cuda
