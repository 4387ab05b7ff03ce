// chapters/17_mixed_precision/classifier_loss_test.cc — chapter 17: the fused bf16 classifier loss against a double-precision reference.
//
// The reference computes, in double, from the same bf16 logits z (so the
// inputs' rounding is no error of the kernel), per row with target t:
//   M = max z,  S = Σ_v exp(z_v − M),  loss = log S + M − z_t,
//   p_v = exp(z_v − M) / S,  g_v = (p_v − [v == t]) · dloss.
// The kernel does the same in fp32 and rounds g to bf16. How far it may be,
// with u = 2^-24 (fp32 rounds to nearest: half of its 2^-23 spacing at 1)
// and D = max z − min z, the row's range:
//
// The sum S, relative error ε_S:
//   * each term exp(z_v − M): z_v − M is rounded in fp32, by at most
//     u·|z_v − M| <= u·D, which exp turns into the same relative error;
//     expf itself is within 2 ulp (CUDA's documented maximum without
//     --use_fast_math; the emulator's is exact), <= 2^-22 relative;
//   * the online softmax rescales a partial sum when its max grows, at most
//     once per pack a thread reads, and once more at the block's combine:
//     r <= ceil(V / 512) + 1 factors exp(m_old − m_new), each off by 2^-22
//     (expf), u (the product) and u·|m_old − m_new|; the |Δm| of one
//     partial sum add up to at most 2·D;
//   * V positive terms added in fp32, in any order (a thread's own, then
//     the block's tree): at most (V − 1)·u·S.
//   ε_S = (V − 1)·u + (r + 1)·(2^-22 + u) + 3·D·u.
// For V = 50,257 the additions dominate: ε_S ≈ 3.0e-3 of S, hence about
// 3.0e-3 absolute on the loss (0.03% of a loss near log V ≈ 10.8).
//
// The loss, logf(S̃) + (M − z_t), absolute error:
//   |log S̃ − log S| <= ε_S / (1 − ε_S);  logf: 1 ulp <= 2^-23·|log S|;
//   M − z_t rounds by u·(M − z_t); the final addition by u·|loss|;
//   allowed = [ε_S/(1 − ε_S) + 2^-23·|log S| + u·(M − z_t) + u·|loss|]·(1 + 2^-10),
//   the last factor for the second-order terms.
//
// The gradient, per element: p̃ = expf(z_v − M) · (1/S̃) is off by
//   ε_p = ε_S/(1 − ε_S) + 2^-22 + u·|z_v − M| + 2u  (expf, its argument, the
//   reciprocal and the product) relative to p; p̃ − [v == t] and · dloss round
//   by u each, of |p − [v == t]|; the result is rounded to bf16, by at most
//   2^-8 of itself (half of bf16's spacing, section 2), and below 2^-126 bf16
//   and fp32 go subnormal and lose that relative bound: 2^-126 absolute.
//   allowed = 2^-8·|g| + (1 + 2^-8)·|dloss|·(ε_p·p + 2u·|p − [v == t]|) + 2^-126.
// The absolute part ε_p·p·|dloss| matters at the target of a confident row,
// where p ≈ 1 and g = (p − 1)·dloss is tiny: fp32's p cannot say how far
// below 1 it is. Everywhere else the bf16 rounding dominates.
//
// A missed logit is not always caught by these bounds (for V = 50,257 one
// average term is 2e-5 of S, under ε_S), so the one-hot tests put a dominant
// logit (+30) in every column of V = 65 and at the pack boundaries of
// V = 50,257: missing it is off by the loss itself. Padding columns are
// compared bit for bit (0), and their inputs are NaN, so a statistic that
// reads them is NaN. A wrong index, a missed barrier or a stale read is off
// by far more than the tolerance; every comparison prints its worst row and
// element with its share of the tolerance.
//
// Runs on the GPU, or on the CPU emulator where the build is emulated (the
// default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/classifier_loss.h"
#include "common/cuda/cuda_check.h"
#include "common/random.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using cuda::kIgnoreTarget;

const double kU = std::ldexp(1.0, -24);         // fp32's unit roundoff
const double kExpError = std::ldexp(1.0, -22);  // expf: 2 ulp
const double kBf16Rounding = std::ldexp(1.0, -8);
const double kUnderflow = std::ldexp(1.0, -126);

// A problem: logits (N, V_padded) in bf16, the padding NaN; targets; dloss.
struct Problem {
  std::string name;
  int N = 0, V = 0, V_padded = 0;
  std::vector<Bf16> logits;
  std::vector<int32_t> targets;
  float dloss = 1.0f;

  Bf16& at(int n, int v) { return logits[size_t(n) * V_padded + v]; }
  float z(int n, int v) const { return to_float(logits[size_t(n) * V_padded + v]); }
};

// Logits normal(0, std) rounded to bf16, padding NaN, targets uniform in [0, V).
Problem random_problem(const std::string& name, int N, int V, int V_padded, uint64_t seed,
                       float std = 2.0f) {
  Problem p;
  p.name = name, p.N = N, p.V = V, p.V_padded = V_padded, p.dloss = 1.0f / static_cast<float>(N);
  p.logits.resize(size_t(N) * V_padded);
  p.targets.resize(N);
  Rng rng(seed);
  for (int n = 0; n < N; ++n) {
    for (int v = 0; v < V_padded; ++v) {
      p.at(n, v) = v < V ? to_bf16(rng.normal(0.0f, std)) : to_bf16(std::nanf(""));
    }
    p.targets[n] = static_cast<int32_t>(rng.below(V));
  }
  return p;
}

// What the kernel gives back.
struct Result {
  std::vector<float> losses;  // (N)
  std::vector<Bf16> dlogits;  // (N, V_padded)
};

constexpr size_t kGuard = 40;  // elements around each output that nothing may write

template <typename T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// Runs the fused kernel (or, with unfused, the benchmark's unfused path) on
// p. The logits start `offset` bf16 after a 256-byte boundary (1: not
// 16-byte aligned); guards of known bits before and after the logits and
// after the losses must come back untouched.
Result run(const Problem& p, size_t offset = 0, bool unfused = false) {
  const size_t count = size_t(p.N) * p.V_padded;
  const Bf16 guard{0x1234};
  std::vector<Bf16> logits(offset + count + kGuard, guard);
  std::copy(p.logits.begin(), p.logits.end(), logits.begin() + offset);
  std::vector<float> losses(p.N + kGuard, std::nanf(""));
  DeviceBuffer<Bf16> dlogits(logits);
  DeviceBuffer<float> dlosses(losses);
  DeviceBuffer<int32_t> dtargets(p.targets);
  if (unfused) {
    DeviceBuffer<float> scratch(3 * size_t(p.N) * p.V);
    cuda::classifier_loss_internal::classifier_loss_unfused(dlosses.data(), dlogits.data() + offset,
                                                            dtargets.data(), p.N, p.V, p.V_padded,
                                                            p.dloss, scratch.data());
  } else {
    cuda::classifier_loss_bf16(dlosses.data(), dlogits.data() + offset, dtargets.data(), p.N, p.V,
                               p.V_padded, p.dloss);
  }
  CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<Bf16> all = dlogits.to_host();
  const std::vector<float> all_losses = dlosses.to_host();
  for (size_t i = 0; i < all.size(); ++i) {
    if ((i < offset || i >= offset + count) && !same_bits(all[i], guard)) {
      ADD_FAILURE() << p.name << ": wrote outside the logits, at element " << i << " of the buffer "
                    << "(the logits are " << offset << " .. " << offset + count << ")";
      break;
    }
  }
  for (size_t i = p.N; i < all_losses.size(); ++i) {
    if (!std::isnan(all_losses[i])) {
      ADD_FAILURE() << p.name << ": wrote past the losses, at " << i - p.N << " after them";
      break;
    }
  }
  return {std::vector<float>(all_losses.begin(), all_losses.begin() + p.N),
          std::vector<Bf16>(all.begin() + offset, all.begin() + offset + count)};
}

// The kernel's geometry enters one bound: how often a partial sum is rescaled.
int rescalings(int V) {
  return (V + cuda::kClassifierLossThreads - 1) / cuda::kClassifierLossThreads + 1;
}

// lesson: classifier_tolerance
// ε_S, the relative error of the kernel's fp32 S = Σ exp(z − M) (header).
double sum_error(int V, double range) {
  return (V - 1) * kU                              // V positive terms added in fp32
         + (rescalings(V) + 1) * (kExpError + kU)  // each term's expf, each rescaling
         + 3.0 * range * kU;                       // z − m rounded before each exp
}

// The loss, logf(S) + (M − z_t): S's error through the log, logf's own,
// the subtraction's and the addition's; 2^-10 more for second-order terms.
double loss_allowed(double sum_err, double log_sum, double max_minus_target, double loss) {
  return (sum_err / (1.0 - sum_err) + std::ldexp(std::fabs(log_sum), -23) + kU * max_minus_target +
          kU * std::fabs(loss)) *
         (1.0 + std::ldexp(1.0, -10));
}

// One gradient element g = (p − onehot) · dloss: the fp32 error of p (from S,
// expf, its argument, 1/S and the product) and of the two roundings after
// it, then bf16's rounding of the result, and 2^-126 where it is subnormal.
double gradient_allowed(double sum_err, double distance_to_max, double p, double onehot,
                        double dloss, double g) {
  const double eps_p = sum_err / (1.0 - sum_err) + kExpError + kU * distance_to_max + 2.0 * kU;
  return kBf16Rounding * std::fabs(g) +
         (1.0 + kBf16Rounding) * std::fabs(dloss) * (eps_p * p + 2.0 * kU * std::fabs(p - onehot)) +
         kUnderflow;
}
// end lesson

// The exact answer and what each output may be off by.
struct Reference {
  std::vector<double> loss, loss_allowed;  // (N)
  std::vector<double> grad, grad_allowed;  // (N, V)
};

Reference reference(const Problem& p) {
  Reference r{std::vector<double>(p.N), std::vector<double>(p.N),
              std::vector<double>(size_t(p.N) * p.V), std::vector<double>(size_t(p.N) * p.V)};
  for (int n = 0; n < p.N; ++n) {
    const int t = p.targets[n];
    if (t < 0 || t >= p.V) continue;  // ignored or bad: checked exactly, not against these
    double max = -INFINITY, min = INFINITY;
    for (int v = 0; v < p.V; ++v) max = std::fmax(max, p.z(n, v)), min = std::fmin(min, p.z(n, v));
    double sum = 0.0;
    for (int v = 0; v < p.V; ++v) sum += std::exp(p.z(n, v) - max);
    const double err = sum_error(p.V, max - min);
    r.loss[n] = std::log(sum) + max - p.z(n, t);
    r.loss_allowed[n] = loss_allowed(err, std::log(sum), max - p.z(n, t), r.loss[n]);
    for (int v = 0; v < p.V; ++v) {
      const double prob = std::exp(p.z(n, v) - max) / sum, onehot = v == t ? 1.0 : 0.0;
      const size_t i = size_t(n) * p.V + v;
      r.grad[i] = (prob - onehot) * p.dloss;
      r.grad_allowed[i] = gradient_allowed(err, max - p.z(n, v), prob, onehot, p.dloss, r.grad[i]);
    }
  }
  return r;
}

// Every loss and every gradient element within what is allowed; rows with
// an ignored target exactly 0 (loss and gradient), rows with a bad target
// NaN (loss and gradient); padding columns exactly 0 everywhere. On failure
// (and on success, to the log) the worst loss and the worst gradient
// element, each with its index and its share of the tolerance.
::testing::AssertionResult matches_reference(const Problem& p, const Result& got) {
  const Reference ref = reference(p);
  std::ostringstream problems;
  size_t bad = 0;
  auto complain = [&](const std::string& what) {
    if (bad++ < 5) problems << "; " << what;
  };
  double worst_loss = -1.0, worst_grad = -1.0;
  int worst_row = -1;
  size_t worst_i = 0;
  for (int n = 0; n < p.N; ++n) {
    const int t = p.targets[n];
    const size_t row = size_t(n) * p.V_padded;
    for (int v = p.V; v < p.V_padded; ++v) {
      if (got.dlogits[row + v].bits != 0) {
        complain("padding [" + std::to_string(n) + ", " + std::to_string(v) + "] is " +
                 std::to_string(to_float(got.dlogits[row + v])) + ", not 0");
      }
    }
    if (t == kIgnoreTarget || t < 0 || t >= p.V) {  // exact values
      const bool ignored = t == kIgnoreTarget;
      const bool loss_ok = ignored ? same_bits(got.losses[n], 0.0f) : std::isnan(got.losses[n]);
      if (!loss_ok) {
        complain("row " + std::to_string(n) + " (target " + std::to_string(t) + "): loss " +
                 std::to_string(got.losses[n]) + ", expected " + (ignored ? "0" : "NaN"));
      }
      for (int v = 0; v < p.V; ++v) {
        const Bf16 g = got.dlogits[row + v];
        if (ignored ? g.bits != 0 : !std::isnan(to_float(g))) {
          complain("[" + std::to_string(n) + ", " + std::to_string(v) + "] (target " +
                   std::to_string(t) + ") is " + std::to_string(to_float(g)) + ", expected " +
                   (ignored ? "0" : "NaN"));
          break;
        }
      }
      continue;
    }
    const double loss_error = std::fabs(double(got.losses[n]) - ref.loss[n]);
    const double loss_ratio =
        std::isfinite(loss_error) ? loss_error / ref.loss_allowed[n] : INFINITY;
    if (!(loss_ratio <= 1.0)) complain("loss of row " + std::to_string(n));
    if (!(loss_ratio <= worst_loss)) worst_loss = loss_ratio, worst_row = n;
    for (int v = 0; v < p.V; ++v) {
      const size_t i = size_t(n) * p.V + v;
      const double error = std::fabs(double(to_float(got.dlogits[row + v])) - ref.grad[i]);
      const double ratio = std::isfinite(error) ? error / ref.grad_allowed[i] : INFINITY;
      if (!(ratio <= 1.0)) {
        complain("dlogits [" + std::to_string(n) + ", " + std::to_string(v) + "]");
      }
      if (!(ratio <= worst_grad)) worst_grad = ratio, worst_i = i;
    }
  }
  std::ostringstream line;
  line << p.name << " (N " << p.N << ", V " << p.V << ", V_padded " << p.V_padded << ")";
  if (worst_row >= 0) {
    const size_t n = worst_i / p.V, v = worst_i % p.V;
    line << ": worst loss at row " << worst_row << ": got " << got.losses[worst_row] << ", exact "
         << ref.loss[worst_row] << ", error "
         << std::fabs(got.losses[worst_row] - ref.loss[worst_row]) << " of "
         << ref.loss_allowed[worst_row] << " allowed (" << worst_loss
         << " of the tolerance); worst dlogits at [" << n << ", " << v << "]: got "
         << to_float(got.dlogits[n * p.V_padded + v]) << ", exact " << ref.grad[worst_i]
         << ", error " << std::fabs(to_float(got.dlogits[n * p.V_padded + v]) - ref.grad[worst_i])
         << " of " << ref.grad_allowed[worst_i] << " allowed (" << worst_grad
         << " of the tolerance)";
  } else {
    line << ": no row with a target in [0, V)";
  }
  if (bad > 0) {
    return ::testing::AssertionFailure()
           << line.str() << "; " << bad << " outputs wrong" << problems.str();
  }
  std::cout << "[ compare  ] " << line.str() << std::endl;
  return ::testing::AssertionSuccess();
}

// The kernel's answer on p, compared.
::testing::AssertionResult fused_matches(Problem p, size_t offset = 0) {
  if (offset > 0) p.name += ", " + std::to_string(offset) + " bf16 past a 16-byte boundary";
  return matches_reference(p, run(p, offset));
}

TEST(ClassifierLoss, Gpt2VocabularyPaddedTo50304) {
  GPU_TEST_REQUIRE_GPU();
  EXPECT_TRUE(fused_matches(random_problem("GPT-2", 4, 50257, 50304, 1)));
}

// Vector loads (V_padded a multiple of 8) and single ones (not), rows
// shorter than a block's threads and rows that wrap around them.
TEST(ClassifierLoss, SmallAndOddVocabularies) {
  GPU_TEST_REQUIRE_GPU();
  EXPECT_TRUE(fused_matches(random_problem("V 65, packs", 8, 65, 72, 2)));
  EXPECT_TRUE(fused_matches(random_problem("V 65, one at a time", 8, 65, 65, 3)));
  EXPECT_TRUE(fused_matches(random_problem("V 1, packs", 3, 1, 8, 4)));
  EXPECT_TRUE(fused_matches(random_problem("V 1, one at a time", 3, 1, 1, 5)));
  EXPECT_TRUE(fused_matches(random_problem("V 4100, 513 packs", 3, 4100, 4104, 6)));
  EXPECT_TRUE(fused_matches(random_problem("V 1300, one at a time", 3, 1300, 1301, 7)));
  // 750 packs: threads 0-237 take a second one. Here one pack is ~8/V = 1.3e-3
  // of the row's sum, above the loss's tolerance (~V·2^-24 = 3.6e-4): a stride
  // or loop bound that drops a pack fails, as it might not at V = 50,257.
  EXPECT_TRUE(fused_matches(random_problem("V 6000, a second round of packs", 3, 6000, 6000, 8)));
}

// V = 1: the only token is always the target, the loss exactly 0.
TEST(ClassifierLoss, OneTokenHasLossAndGradientZero) {
  GPU_TEST_REQUIRE_GPU();
  for (const int V_padded : {1, 8}) {
    const Problem p = random_problem("V 1", 2, 1, V_padded, 8);
    const Result r = run(p);
    for (int n = 0; n < p.N; ++n) {
      EXPECT_EQ(r.losses[n], 0.0f) << "row " << n;
      EXPECT_EQ(r.dlogits[size_t(n) * V_padded].bits, 0) << "row " << n;
    }
  }
}

// Logits not 16-byte aligned take the one-at-a-time path; 8 elements on, the packs.
TEST(ClassifierLoss, AnyAlignmentOfTheLogits) {
  GPU_TEST_REQUIRE_GPU();
  const Problem p = random_problem("V 65", 6, 65, 72, 9);
  EXPECT_TRUE(fused_matches(p, 1));
  EXPECT_TRUE(fused_matches(p, 8));
}

// exp(80) · 50,257 ≈ 2.8e39 is past fp32's largest number, and exp(-105) is
// past its smallest: a sum without the max subtracted is ∞ or 0. Row 0 spans
// ±80, row 1 is all near +80, row 2 all near -105.
TEST(ClassifierLoss, LargeLogitsDoNotOverflow) {
  GPU_TEST_REQUIRE_GPU();
  Problem p = random_problem("large logits", 3, 50257, 50304, 10);
  Rng rng(11);
  for (int v = 0; v < p.V; ++v) {
    p.at(0, v) = to_bf16(-80.0f + 160.0f * rng.uniform());
    p.at(1, v) = to_bf16(79.0f + rng.uniform());
    p.at(2, v) = to_bf16(-110.0f + 10.0f * rng.uniform());
  }
  p.at(0, 123) = to_bf16(80.0f);
  p.at(0, 124) = to_bf16(-80.0f);
  const Result r = run(p);
  for (int n = 0; n < p.N; ++n) EXPECT_TRUE(std::isfinite(r.losses[n])) << "row " << n;
  EXPECT_TRUE(matches_reference(p, r));
}

// A dominant logit (+30) in one column of each row: a confident row. Every
// column of V = 65 is the dominant one once with the target on it (p ≈ 1,
// gradient ≈ 0) and once with the target beside it (loss ≈ 30, gradient
// ≈ +dloss on the dominant column, ≈ −dloss on the target). Missing the
// dominant column in either pass is off by the loss itself.
Problem one_hot_problem(const std::string& name, int V, int V_padded,
                        const std::vector<int>& columns, uint64_t seed) {
  const int N = 2 * static_cast<int>(columns.size());
  Problem p = random_problem(name, N, V, V_padded, seed, 1.0f);
  for (int k = 0; k < N / 2; ++k) {
    for (const int n : {2 * k, 2 * k + 1}) {
      p.at(n, columns[k]) = to_bf16(30.0f);
      p.targets[n] = n % 2 == 0 ? columns[k] : (columns[k] + 1) % V;
    }
  }
  return p;
}

TEST(ClassifierLoss, OneHotRowsInEveryColumn) {
  GPU_TEST_REQUIRE_GPU();
  std::vector<int> all(65);
  for (int v = 0; v < 65; ++v) all[v] = v;
  EXPECT_TRUE(fused_matches(one_hot_problem("one-hot, packs", 65, 72, all, 12)));
  EXPECT_TRUE(fused_matches(one_hot_problem("one-hot, one at a time", 65, 65, all, 13)));
  // V = 50,257: the ends, the edges of a pack, of a thread's first round (4096 = 512 · 8).
  EXPECT_TRUE(fused_matches(
      one_hot_problem("one-hot, GPT-2", 50257, 50304, {0, 7, 8, 4095, 4096, 50255, 50256}, 14)));
}

// -1: loss 0 and gradient 0; any other target outside [0, V): NaN, loudly.
// The rows between them are unaffected.
TEST(ClassifierLoss, IgnoredAndOutOfRangeTargets) {
  GPU_TEST_REQUIRE_GPU();
  for (const int V_padded : {72, 65}) {
    Problem p = random_problem("targets", 8, 65, V_padded, 15);
    p.targets = {3, kIgnoreTarget, 64, 65, kIgnoreTarget, -2, std::numeric_limits<int32_t>::max(),
                 0};
    EXPECT_TRUE(fused_matches(p));
  }
}

// The mean over the rows that count, with dloss = 1/counted for the gradient.
TEST(ClassifierLoss, MeanLossOverTheRowsThatCount) {
  GPU_TEST_REQUIRE_GPU();
  Problem p = random_problem("mean", 6, 65, 72, 16);
  p.targets = {3, kIgnoreTarget, 64, kIgnoreTarget, 0, 10};
  const int counted = cuda::counted_rows(p.targets);
  ASSERT_EQ(counted, 4);
  p.dloss = 1.0f / counted;
  DeviceBuffer<Bf16> logits(p.logits);
  DeviceBuffer<float> losses(p.N);
  DeviceBuffer<int32_t> targets(p.targets);
  cuda::classifier_loss_bf16(losses.data(), logits.data(), targets.data(), p.N, p.V, p.V_padded,
                             p.dloss);
  const float mean = cuda::mean_loss(losses.data(), p.N, counted);
  const Reference ref = reference(p);
  double exact = 0.0, allowed = 0.0;
  for (int n = 0; n < p.N; ++n) {
    if (p.targets[n] == kIgnoreTarget) continue;
    exact += ref.loss[n] / counted;
    allowed += ref.loss_allowed[n] / counted;
  }
  allowed += kU * std::fabs(exact);  // the double sum, rounded to float
  EXPECT_NEAR(mean, exact, allowed);
  EXPECT_TRUE(matches_reference(p, {losses.to_host(), logits.to_host()}));
  EXPECT_EQ(cuda::mean_loss(losses.data(), p.N, 0), 0.0f);  // every row ignored
}

// The benchmark's unfused path (an fp32 copy, chapter 11's kernels, back to
// bf16) computes the same thing, within the same bounds. dloss = 1/N with N
// a power of two: chapter 11's backward divides dloss · N by N, exactly.
TEST(ClassifierLoss, TheUnfusedPathAgrees) {
  GPU_TEST_REQUIRE_GPU();
  for (Problem p : {random_problem("unfused, V 65", 4, 65, 72, 17),
                    random_problem("unfused, GPT-2", 2, 50257, 50304, 18)}) {
    EXPECT_TRUE(matches_reference(p, run(p, 0, /*unfused=*/true)));
  }
}

// The comparison itself can fail: the exact answer rounded as the kernel
// rounds passes; one gradient element, one loss or one padding column
// changed is caught, by its row and column.
TEST(ClassifierLossCheck, CatchesOneWrongOutput) {
  Problem p = random_problem("check", 4, 65, 72, 19);
  const Reference ref = reference(p);
  Result r{std::vector<float>(p.N), std::vector<Bf16>(size_t(p.N) * p.V_padded, Bf16{0})};
  for (int n = 0; n < p.N; ++n) {
    r.losses[n] = static_cast<float>(ref.loss[n]);
    for (int v = 0; v < p.V; ++v) {
      r.dlogits[size_t(n) * p.V_padded + v] =
          to_bf16(static_cast<float>(ref.grad[size_t(n) * p.V + v]));
    }
  }
  EXPECT_TRUE(matches_reference(p, r));

  Result wrong_grad = r;
  const size_t i = size_t(2) * p.V + 17;
  wrong_grad.dlogits[size_t(2) * p.V_padded + 17] =
      to_bf16(static_cast<float>(ref.grad[i] + 3.0 * ref.grad_allowed[i]));
  const auto grad_result = matches_reference(p, wrong_grad);
  EXPECT_FALSE(grad_result);
  EXPECT_NE(std::string(grad_result.message()).find("worst dlogits at [2, 17]"), std::string::npos)
      << grad_result.message();

  Result wrong_loss = r;
  wrong_loss.losses[1] = static_cast<float>(ref.loss[1] + 3.0 * ref.loss_allowed[1]);
  const auto loss_result = matches_reference(p, wrong_loss);
  EXPECT_FALSE(loss_result);
  EXPECT_NE(std::string(loss_result.message()).find("worst loss at row 1"), std::string::npos)
      << loss_result.message();

  Result wrong_padding = r;
  wrong_padding.dlogits[size_t(3) * p.V_padded + 70] = to_bf16(1e-30f);
  const auto padding_result = matches_reference(p, wrong_padding);
  EXPECT_FALSE(padding_result);
  EXPECT_NE(std::string(padding_result.message()).find("padding [3, 70]"), std::string::npos)
      << padding_result.message();
}

// Refusals come before any CUDA call: the pointers are never dereferenced.
TEST(ClassifierLossChecks, RefusesBadArgumentsBeforeAnyLaunch) {
  float* losses = reinterpret_cast<float*>(uintptr_t{4096});
  Bf16* logits = reinterpret_cast<Bf16*>(uintptr_t{8192});
  const int32_t* targets = reinterpret_cast<const int32_t*>(uintptr_t{16384});
  auto refusal = [&](float* l, Bf16* z, const int32_t* t, int N, int V, int V_padded,
                     float dloss) -> std::string {
    try {
      cuda::classifier_loss_bf16(l, z, t, N, V, V_padded, dloss);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "nothing thrown";
  };
  const auto expect_refusal = [&](const std::string& message, const std::string& expected) {
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  expect_refusal(refusal(losses, logits, targets, -1, 65, 72, 1.0f), "N must be >= 0");
  expect_refusal(refusal(losses, logits, targets, 4, 0, 72, 1.0f), "V must be >= 1");
  expect_refusal(refusal(losses, logits, targets, 4, 65, 64, 1.0f), "V_padded must be >= V (65)");
  expect_refusal(refusal(losses, logits, targets, 4, 65, 72, INFINITY), "dloss must be finite");
  expect_refusal(refusal(losses, logits, targets, 4, 65, 72, std::nanf("")),
                 "dloss must be finite");
  expect_refusal(refusal(nullptr, logits, targets, 4, 65, 72, 1.0f), "must not be null");
  expect_refusal(refusal(losses, nullptr, targets, 4, 65, 72, 1.0f), "must not be null");
  expect_refusal(refusal(losses, logits, nullptr, 4, 65, 72, 1.0f), "must not be null");
  EXPECT_EQ(refusal(nullptr, nullptr, nullptr, 0, 65, 72, 1.0f),
            "nothing thrown");  // N = 0: nothing to do
  EXPECT_THROW(cuda::mean_loss(losses, 4, 5), std::invalid_argument);
  EXPECT_THROW(cuda::mean_loss(losses, 4, -1), std::invalid_argument);
}

}  // namespace
}  // namespace gpt
