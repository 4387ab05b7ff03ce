// chapters/17_mixed_precision/flash_attention_bf16_test.cc — chapter 17: bf16 flash attention, forward and backward, against the exact answer and against chapter 13.
//
// Two comparisons for every output.
//
// TIGHT: against a reference in double computed from the same bf16-rounded
// q, k, v and dout that the kernels compute with (the roundings of the
// inputs are exact and deterministic: the reference makes them too). What
// is left is the kernels' own arithmetic, bounded per element below. The
// weights P and the score gradients dS are rounded to bf16 inside the
// kernels from fp32 values the reference cannot reproduce bit for bit (the
// kernel's P is exp2 of an fp32 score minus a RUNNING max), so the reference
// keeps them exact and the bound allows their rounding: 2^-8 of each term.
//
// LOOSE: against chapter 13's fp32 kernels on the unrounded inputs. Both are
// bounded against the exact answer from the unrounded inputs, ours with the
// inputs' rounding added (2^-8 of each of q, k, v, dout), and the bound is
// the sum of the two.
//
// The bounds (u = 2^-24, fp32's unit roundoff; ua = 2^-23 for a sum on the
// tensor cores, which may truncate (bf16_reference.h), and for one exp2f or
// expf, 2 ulp; u_in = 2^-8 where the kernel rounds an input the reference
// did not, else 0; u_w = 2^-8 where the kernel rounds P and dS, else 0):
//
//   scores   S = scale·q·k, for each (t, s): the hs exact bf16 products summed
//     in fp32, the inputs' rounding ((1 + u_in)² − 1 of each product), the
//     scale and the shift to log2 units (a few roundings of |S|, |lse|):
//       δS = scale·Σ_d|q·k|·(2u_in + u_in² + (hs + 1)·ua·(1 + u_in)²) + 4ua·(|S| + |lse| + 1)
//   forward  P_s = exp(S_s − m)/l is moved by the scores' errors by at most
//     a factor e^(±2·δ) (numerator and denominator): ε_P = expm1(2δ) with
//     δ = max_s δS, plus the exps, the fp32 sum l of `keys` terms and one
//     rescaling per tile: (keys + 2·tiles + 8)·ua. Then
//       out: |o − O| <= [ε_P + (u_in + u_w + (keys + 2·tiles + 4)·ua)
//                          ·(1 + ε_P)(1 + u_in)(1 + u_w)] · Σ_s P_s·|v_s| + ua·|O|
//       (u_in: v's rounding; u_w: P's rounding before P·V, 2^-8 of each
//       term P_s·v_s; then the fp32 sum over the keys, and / l)
//       lse: |lse' − lse| <= δ + (keys + 2·tiles + 8)·ua + 4ua·(|lse| + |m|)
//       (logsumexp moves by at most the largest score error).
//   backward, each (t, s) with s <= t, from the given lse (the forward's, the
//     same fp32 values for kernel and reference):
//       P = exp(S − lse):       ε_P = expm1(δS) + 4ua  (relative)
//       dP = dO·v:              e_dP = Σ_d|dO·v|·(2u_in + u_in² + hs·ua·(1 + u_in)²)
//       D = Σ_d dout·out, fp32 from the fp32 dout and out: e_D = hs·ua·Σ_d|dout·out|
//       dS = P·(dP − D):        e_dS = ε_P·P·|dP − D| + P(1 + ε_P)·(e_dP + e_D)·(1 + 2ua)
//                                      + 2ua·P(1 + ε_P)·|dP − D|
//     and the three products, each term rounded (u_w for P or dS, u_in for
//     dO, q or k) and summed in fp32 over n terms (n: the queries t >= s, or
//     the keys s <= t), then scaled and added to what the output held:
//       dV[s] = Σ_t P·dO[t]:  Σ_t P·|dO|·[ε_P + (u_in + u_w)(1 + ε_P)(1 + u_in)(1 + u_w)]
//                              + n·ua·Σ_t P(1 + ε_P)(1 + u_w)(1 + u_in)·|dO|
//       dK[s] = scale·Σ_t dS·q[t]: scale·Σ_t |q|·[(u_w·(|dS| + e_dS) + e_dS)(1 + u_in) + u_in·|dS|]
//                              + n·ua·scale·Σ_t (|dS| + e_dS)(1 + u_w)(1 + u_in)·|q|
//       dQ[t] = scale·Σ_s dS·k[s]: the same with k
//     each + ua·(|before| + 2·|result|) for the scale and the addition.
//
// These are worst cases: every rounding at its largest and all of the same
// sign. The tests print the worst share of its bound each element uses. They
// also show that the bounds can fail: without the 2^-8 for P's rounding the
// forward's output is outside (the rounding is really there), chapter 13's
// fp32 lse from the unrounded inputs is outside the tight bound (the inputs'
// rounding is really seen), and one element moved by twice its bound is.
// Runs on the GPU, or on the CPU emulator (common/testing/gpu.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/04_multihead_attention/heads.h"
#include "chapters/08_backward/heads_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/flash_attention_bf16.h"
#include "common/cuda/cuda_check.h"
#include "common/random.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

constexpr double kUa = 0x1p-23;   // a tensor-core or fp32 sum's step, per term; one exp's error
constexpr double kBf16 = 0x1p-8;  // one rounding to bf16, relative
constexpr size_t kGuard = 64;     // NaN elements after each output that nothing may write

struct Case {
  int N, T, hs;
};
// T = 1, a part of a tile (17), a tile and a piece (70), three query tiles
// and a tail (130: 3 key tiles forward, 5 of 32 backward).
const Case kCases[] = {{2, 1, 32},  {3, 17, 32}, {2, 70, 32}, {1, 130, 32},
                       {2, 1, 64},  {3, 17, 64}, {2, 70, 64}, {1, 130, 64}};

std::string name_of(const Case& c) {
  return "N=" + std::to_string(c.N) + " T=" + std::to_string(c.T) + " hs=" + std::to_string(c.hs);
}

// ---------------------------------------------------------------------------
// Inputs and the exact answer.

struct Inputs {
  int N = 0, T = 0, hs = 0;
  std::vector<float> q, k, v, dout;  // (N, T, hs)
};

// q, k ~ N(0, 1.5²) (scores of spread about 2.25: peaked rows as well as flat
// ones), v, dout ~ N(0, 1), fp32.
Inputs make_inputs(const Case& c, uint64_t seed) {
  Rng rng(seed);
  Inputs in{c.N, c.T, c.hs, {}, {}, {}, {}};
  const size_t n = size_t(c.N) * c.T * c.hs;
  for (size_t i = 0; i < n; ++i) {
    in.q.push_back(rng.normal(0.0f, 1.5f));
    in.k.push_back(rng.normal(0.0f, 1.5f));
    in.v.push_back(rng.normal(0.0f, 1.0f));
    in.dout.push_back(rng.normal(0.0f, 1.0f));
  }
  return in;
}

// The same inputs, each rounded to bf16: what the kernels compute with.
Inputs rounded(const Inputs& in) {
  Inputs r = in;
  for (auto* v : {&r.q, &r.k, &r.v, &r.dout}) {
    for (float& x : *v) x = round_to_bf16(x);
  }
  return r;
}

// Roundings a kernel makes that the reference did not make.
struct Roundings {
  double inputs;   // q, k, v, dout to bf16 (the reference's are unrounded)
  double weights;  // P and dS to bf16 before their products
};
constexpr Roundings kOursSameInputs{0.0, kBf16};     // our kernels, reference from bf16 inputs
constexpr Roundings kOursFromFp32{kBf16, kBf16};     // our kernels, reference from fp32 inputs
constexpr Roundings kFp32Kernels{0.0, 0.0};          // chapter 13's, reference from its inputs

// What an output should be, and how far from it a right kernel may be.
struct Expected {
  std::vector<double> value, allowed;
};

// The bound's part from the scores' errors (header): δS for one (t, s).
double score_error(double size, double S, double lse, int hs, double u_in) {
  return size * (2 * u_in + u_in * u_in + (hs + 1) * kUa * (1 + u_in) * (1 + u_in)) +
         4 * kUa * (std::fabs(S) + std::fabs(lse) + 1);
}

struct ForwardExpected {
  Expected out, lse;  // (N, T, hs), (N, T)
};

ForwardExpected forward_reference(const Inputs& x, Roundings r) {
  const int N = x.N, T = x.T, hs = x.hs;
  const double scale = 1.0 / std::sqrt(double(hs));
  ForwardExpected f;
  f.out.value.assign(size_t(N) * T * hs, 0.0), f.out.allowed.assign(size_t(N) * T * hs, 0.0);
  std::vector<double> S(T), size(T), P(T);
  for (int n = 0; n < N; ++n) {
    const size_t seq = size_t(n) * T;
    for (int t = 0; t < T; ++t) {
      double m = -INFINITY;
      for (int s = 0; s <= t; ++s) {
        double dot = 0, abs = 0;
        for (int d = 0; d < hs; ++d) {
          const double p = double(x.q[(seq + t) * hs + d]) * x.k[(seq + s) * hs + d];
          dot += p, abs += std::fabs(p);
        }
        S[s] = scale * dot, size[s] = scale * abs;
        m = std::max(m, S[s]);
      }
      double l = 0;
      for (int s = 0; s <= t; ++s) l += std::exp(S[s] - m);
      const double lse = m + std::log(l);
      double delta = 0;
      for (int s = 0; s <= t; ++s) {
        P[s] = std::exp(S[s] - lse);
        delta = std::max(delta, score_error(size[s], S[s], lse, hs, r.inputs));
      }
      // lesson: flash_bf16_forward_tolerance
      const int keys = t + 1, tiles = (keys + 31) / 32;  // tiles of 32 or more: 32 is the worst
      const double eps_p = std::expm1(2 * delta) + (keys + 2 * tiles + 8) * kUa;
      const double per_term = r.inputs + r.weights + (keys + 2 * tiles + 4) * kUa;
      for (int d = 0; d < hs; ++d) {
        double o = 0, o_size = 0;  // Σ_s P·v and Σ_s P·|v|
        for (int s = 0; s <= t; ++s) {
          const double v = x.v[(seq + s) * hs + d];
          o += P[s] * v, o_size += P[s] * std::fabs(v);
        }
        const size_t i = (seq + t) * hs + d;
        f.out.value[i] = o;
        f.out.allowed[i] =
            (eps_p + per_term * (1 + eps_p) * (1 + r.inputs) * (1 + r.weights)) * o_size +
            kUa * std::fabs(o);
      }
      f.lse.value.push_back(lse);
      f.lse.allowed.push_back(delta + (keys + 2 * tiles + 8) * kUa +
                              4 * kUa * (std::fabs(lse) + std::fabs(m)));
      // end lesson
    }
  }
  return f;
}

struct BackwardExpected {
  Expected dq, dk, dv;  // (N, T, hs): what the outputs should hold, their start values added
};

// The backward from x, with the fp32 dout (D's), out and lse the kernels are
// given, and the values dq, dk, dv held before (the kernels add to them).
BackwardExpected backward_reference(const Inputs& x, const std::vector<float>& dout_fp32,
                                    const std::vector<float>& out, const std::vector<float>& lse,
                                    const std::vector<float>& dq0, const std::vector<float>& dk0,
                                    const std::vector<float>& dv0, Roundings r) {
  const int N = x.N, T = x.T, hs = x.hs;
  const double scale = 1.0 / std::sqrt(double(hs));
  const double ui = r.inputs, uw = r.weights;
  const size_t count = size_t(N) * T * hs;
  // Per element: the sum, the bound's terms, and the size the fp32 sum's error scales with.
  std::vector<double> dq(count, 0), dk(count, 0), dv(count, 0);
  std::vector<double> dq_err(count, 0), dk_err(count, 0), dv_err(count, 0);
  std::vector<double> dq_sum(count, 0), dk_sum(count, 0), dv_sum(count, 0);
  for (int n = 0; n < N; ++n) {
    const size_t seq = size_t(n) * T;
    for (int t = 0; t < T; ++t) {
      double D = 0, D_size = 0;
      for (int d = 0; d < hs; ++d) {
        const double p = double(dout_fp32[(seq + t) * hs + d]) * out[(seq + t) * hs + d];
        D += p, D_size += std::fabs(p);
      }
      const double e_D = hs * kUa * D_size;
      const double lse_t = lse[seq + t];
      for (int s = 0; s <= t; ++s) {
        double dot = 0, abs = 0, dp = 0, dp_size = 0;
        for (int d = 0; d < hs; ++d) {
          const double qk = double(x.q[(seq + t) * hs + d]) * x.k[(seq + s) * hs + d];
          const double ov = double(x.dout[(seq + t) * hs + d]) * x.v[(seq + s) * hs + d];
          dot += qk, abs += std::fabs(qk), dp += ov, dp_size += std::fabs(ov);
        }
        const double S = scale * dot, P = std::exp(S - lse_t);
        // lesson: flash_bf16_backward_tolerance
        const double eps_p = std::expm1(score_error(scale * abs, S, lse_t, hs, ui)) + 4 * kUa;
        const double e_dp = dp_size * (2 * ui + ui * ui + hs * kUa * (1 + ui) * (1 + ui));
        const double dS = P * (dp - D), gap = std::fabs(dp - D);
        const double e_ds = eps_p * P * gap + P * (1 + eps_p) * (e_dp + e_D) * (1 + 2 * kUa) +
                            2 * kUa * P * (1 + eps_p) * gap;
        // Each term of the three sums: its error, and its size for the fp32 sum.
        const double dv_term_err = P * (eps_p + (ui + uw) * (1 + eps_p) * (1 + ui) * (1 + uw));
        const double dv_term_sum = P * (1 + eps_p) * (1 + uw) * (1 + ui);
        const double ds_term_err = (uw * (std::fabs(dS) + e_ds) + e_ds) * (1 + ui) + ui * std::fabs(dS);
        const double ds_term_sum = (std::fabs(dS) + e_ds) * (1 + uw) * (1 + ui);
        // end lesson
        for (int d = 0; d < hs; ++d) {
          const size_t it = (seq + t) * hs + d, is = (seq + s) * hs + d;
          const double dO = x.dout[it], q = x.q[it], k = x.k[is];
          dv[is] += P * dO;
          dv_err[is] += dv_term_err * std::fabs(dO), dv_sum[is] += dv_term_sum * std::fabs(dO);
          dk[is] += scale * dS * q;
          dk_err[is] += scale * ds_term_err * std::fabs(q);
          dk_sum[is] += scale * ds_term_sum * std::fabs(q);
          dq[it] += scale * dS * k;
          dq_err[it] += scale * ds_term_err * std::fabs(k);
          dq_sum[it] += scale * ds_term_sum * std::fabs(k);
        }
      }
    }
  }
  BackwardExpected b;
  auto finish = [&](Expected& e, const std::vector<double>& sum, const std::vector<double>& err,
                    const std::vector<double>& size, const std::vector<float>& before,
                    bool over_queries) {
    e.value.resize(count), e.allowed.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const int row = int(i / hs % T);
      const int terms = over_queries ? T - row : row + 1;  // dK, dV: t >= s; dQ: s <= t
      e.value[i] = before[i] + sum[i];
      e.allowed[i] = err[i] + terms * kUa * size[i] +
                     kUa * (std::fabs(before[i]) + 2 * std::fabs(e.value[i]));
    }
  };
  finish(b.dq, dq, dq_err, dq_sum, dq0, false);
  finish(b.dk, dk, dk_err, dk_sum, dk0, true);
  finish(b.dv, dv, dv_err, dv_sum, dv0, true);
  return b;
}

// ---------------------------------------------------------------------------
// Comparing.

// Every element within its bound; the worst one (by its error over what is
// allowed) with its [n, t, d], printed on success too.
::testing::AssertionResult within(const std::vector<float>& got, const Expected& e, int T,
                                  int cols, const std::string& name) {
  if (got.size() != e.value.size()) {
    return ::testing::AssertionFailure() << name << ": " << got.size() << " elements, expected "
                                         << e.value.size();
  }
  double worst_ratio = -1.0;
  size_t worst = 0, bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::fabs(got[i] - e.value[i]);
    const double ratio = std::isfinite(error) ? error / e.allowed[i] : INFINITY;
    if (!(ratio <= 1.0)) ++bad;
    if (!(ratio <= worst_ratio)) worst_ratio = ratio, worst = i;
  }
  std::ostringstream line;
  line << name << ": worst at [n " << worst / cols / T << ", t " << worst / cols % T;
  if (cols > 1) line << ", d " << worst % cols;
  line << "]: got " << got[worst] << ", expected " << e.value[worst] << ", error "
       << std::fabs(got[worst] - e.value[worst]) << " of " << e.allowed[worst] << " allowed ("
       << worst_ratio << " of the bound)";
  if (bad > 0) {
    return ::testing::AssertionFailure() << line.str() << "; " << bad << " of " << got.size()
                                         << " elements outside";
  }
  std::cout << "[ compare  ] " << line.str() << std::endl;
  return ::testing::AssertionSuccess();
}

// A comparison that must fail; prints what it found.
void expect_outside(const ::testing::AssertionResult& result) {
  EXPECT_FALSE(result);
  if (!result) std::cout << "[ outside  ] " << result.message() << std::endl;
}

// An Expected whose values are another kernel's output, and bound the sum of two.
Expected against(const std::vector<float>& other, const Expected& a, const Expected& b) {
  Expected e{std::vector<double>(other.begin(), other.end()), a.allowed};
  for (size_t i = 0; i < e.allowed.size(); ++i) e.allowed[i] += b.allowed[i];
  return e;
}

// ---------------------------------------------------------------------------
// Running the kernels. Outputs start as NaN (or given values) with a NaN
// guard after them: an element not written, or written past the end, shows.

class Output {
 public:
  explicit Output(size_t count) : Output(std::vector<float>(count, std::nanf(""))) {}
  explicit Output(const std::vector<float>& start) : count_(start.size()) {
    std::vector<float> all(start);
    all.resize(count_ + kGuard, std::nanf(""));
    buffer_ = DeviceBuffer<float>(all);
  }
  float* data() { return buffer_.data(); }
  std::vector<float> host() const {
    std::vector<float> all = buffer_.to_host();
    for (size_t i = count_; i < all.size(); ++i) EXPECT_TRUE(std::isnan(all[i])) << "guard " << i;
    all.resize(count_);
    return all;
  }

 private:
  size_t count_;
  DeviceBuffer<float> buffer_;
};

struct ForwardResult {
  std::vector<float> out, lse;
};

ForwardResult run_forward(const Inputs& x, bool bf16) {
  DeviceBuffer<float> q(x.q), k(x.k), v(x.v);
  Output out(x.q.size()), lse(size_t(x.N) * x.T);
  if (bf16) {
    cuda::flash_attention_bf16_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), x.N,
                                       x.T, x.hs);
  } else {
    cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), x.N, x.T,
                                  x.hs);
  }
  return {out.host(), lse.host()};
}

struct Gradients {
  std::vector<float> dq, dk, dv;
};

Gradients run_backward(const Inputs& x, const ForwardResult& f, const Gradients& start,
                       bool bf16) {
  DeviceBuffer<float> q(x.q), k(x.k), v(x.v), dout(x.dout), out(f.out), lse(f.lse);
  Output dq(start.dq), dk(start.dk), dv(start.dv);
  if (bf16) {
    cuda::flash_attention_bf16_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                        k.data(), v.data(), out.data(), lse.data(), x.N, x.T,
                                        x.hs);
  } else {
    cuda::flash_attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                   k.data(), v.data(), out.data(), lse.data(), x.N, x.T, x.hs);
  }
  return {dq.host(), dk.host(), dv.host()};
}

// What dq, dk, dv hold before the backward adds to them: N(0, 1), or zeros.
Gradients start_values(size_t count, uint64_t seed, bool zeros = false) {
  Rng rng(seed);
  Gradients g{std::vector<float>(count), std::vector<float>(count), std::vector<float>(count)};
  if (zeros) return g;
  for (auto* v : {&g.dq, &g.dk, &g.dv}) {
    for (float& x : *v) x = rng.normal(0.0f, 1.0f);
  }
  return g;
}

// ---------------------------------------------------------------------------
// The tests.

TEST(FlashAttentionBf16, ForwardMatchesTheExactAnswerFromBf16Inputs) {
  GPU_TEST_REQUIRE_GPU();
  uint64_t seed = 1;
  for (const Case& c : kCases) {
    SCOPED_TRACE(name_of(c));
    const Inputs x = make_inputs(c, seed++);
    const ForwardResult got = run_forward(x, true);  // the kernel rounds x itself
    const ForwardExpected want = forward_reference(rounded(x), kOursSameInputs);
    EXPECT_TRUE(within(got.out, want.out, c.T, c.hs, "out " + name_of(c)));
    EXPECT_TRUE(within(got.lse, want.lse, c.T, 1, "lse " + name_of(c)));
  }
}

TEST(FlashAttentionBf16, BackwardMatchesTheExactAnswerFromBf16Inputs) {
  GPU_TEST_REQUIRE_GPU();
  uint64_t seed = 100;
  for (const Case& c : kCases) {
    SCOPED_TRACE(name_of(c));
    const Inputs x = make_inputs(c, seed++);
    const ForwardResult f = run_forward(x, true);  // out and lse as the GPT would save them
    const Gradients start = start_values(x.q.size(), seed++);
    const Gradients got = run_backward(x, f, start, true);
    const BackwardExpected want = backward_reference(rounded(x), x.dout, f.out, f.lse, start.dq,
                                                     start.dk, start.dv, kOursSameInputs);
    EXPECT_TRUE(within(got.dq, want.dq, c.T, c.hs, "dq " + name_of(c)));
    EXPECT_TRUE(within(got.dk, want.dk, c.T, c.hs, "dk " + name_of(c)));
    EXPECT_TRUE(within(got.dv, want.dv, c.T, c.hs, "dv " + name_of(c)));
  }
}

TEST(FlashAttentionBf16, ForwardMatchesChapter13) {
  GPU_TEST_REQUIRE_GPU();
  uint64_t seed = 200;
  for (const Case& c : kCases) {
    SCOPED_TRACE(name_of(c));
    const Inputs x = make_inputs(c, seed++);
    const ForwardResult ours = run_forward(x, true), fp32 = run_forward(x, false);
    const ForwardExpected bf16_bound = forward_reference(x, kOursFromFp32);
    const ForwardExpected fp32_bound = forward_reference(x, kFp32Kernels);
    EXPECT_TRUE(within(ours.out, against(fp32.out, bf16_bound.out, fp32_bound.out), c.T, c.hs,
                       "out vs chapter 13 " + name_of(c)));
    EXPECT_TRUE(within(ours.lse, against(fp32.lse, bf16_bound.lse, fp32_bound.lse), c.T, 1,
                       "lse vs chapter 13 " + name_of(c)));
  }
}

TEST(FlashAttentionBf16, BackwardMatchesChapter13) {
  GPU_TEST_REQUIRE_GPU();
  uint64_t seed = 300;
  for (const Case& c : kCases) {
    SCOPED_TRACE(name_of(c));
    const Inputs x = make_inputs(c, seed++);
    const ForwardResult f = run_forward(x, false);  // both backwards get chapter 13's out, lse
    const Gradients zeros = start_values(x.q.size(), 0, true);
    const Gradients ours = run_backward(x, f, zeros, true), fp32 = run_backward(x, f, zeros, false);
    const BackwardExpected bf16_bound =
        backward_reference(x, x.dout, f.out, f.lse, zeros.dq, zeros.dk, zeros.dv, kOursFromFp32);
    const BackwardExpected fp32_bound =
        backward_reference(x, x.dout, f.out, f.lse, zeros.dq, zeros.dk, zeros.dv, kFp32Kernels);
    EXPECT_TRUE(within(ours.dq, against(fp32.dq, bf16_bound.dq, fp32_bound.dq), c.T, c.hs,
                       "dq vs chapter 13 " + name_of(c)));
    EXPECT_TRUE(within(ours.dk, against(fp32.dk, bf16_bound.dk, fp32_bound.dk), c.T, c.hs,
                       "dk vs chapter 13 " + name_of(c)));
    EXPECT_TRUE(within(ours.dv, against(fp32.dv, bf16_bound.dv, fp32_bound.dv), c.T, c.hs,
                       "dv vs chapter 13 " + name_of(c)));
  }
}

// The bounds are not so loose that nothing fails them.
TEST(FlashAttentionBf16, TheBoundsCanFail) {
  GPU_TEST_REQUIRE_GPU();
  for (const int hs : {32, 64}) {
    const Case c{2, 70, hs};
    SCOPED_TRACE(name_of(c));
    const Inputs x = make_inputs(c, 400 + hs);
    const ForwardResult ours = run_forward(x, true);
    // Without its 2^-8 for rounding P before P·V, the tight bound is too
    // tight for our output: that rounding is the forward's largest error.
    const ForwardExpected no_rounding = forward_reference(rounded(x), kFp32Kernels);
    expect_outside(within(ours.out, no_rounding.out, c.T, c.hs, "out, P's rounding not allowed"));
    // Chapter 13's fp32 lse, from the unrounded inputs, against the tight
    // bound (the reference from the bf16 inputs): the inputs' rounding moves
    // every score, and lse with it, by far more than fp32's errors.
    const ForwardResult fp32 = run_forward(x, false);
    const ForwardExpected tight = forward_reference(rounded(x), kOursSameInputs);
    expect_outside(within(fp32.lse, tight.lse, c.T, 1, "chapter 13's lse against the tight bound"));
    // One element of our output, moved by twice its bound.
    std::vector<float> moved = ours.out;
    moved[moved.size() / 2] += float(2 * tight.out.allowed[moved.size() / 2]);
    expect_outside(within(moved, tight.out, c.T, c.hs, "out with one element moved"));
    // The backward's dv without the 2^-8 for rounding P before Pᵀ·dO.
    const Gradients zeros = start_values(x.q.size(), 0, true);
    const Gradients grads = run_backward(x, ours, zeros, true);
    const BackwardExpected b = backward_reference(rounded(x), x.dout, ours.out, ours.lse, zeros.dq,
                                                  zeros.dk, zeros.dv, kFp32Kernels);
    expect_outside(within(grads.dv, b.dv, c.T, c.hs, "dv, P's rounding not allowed"));
  }
}

// ---------------------------------------------------------------------------
// The heads where they sit: the same kernels reading q, k, v from the qkv
// projection's (B, T, 3C) rows and writing out into merged (B, T, C) rows,
// and the backward's gradients into dqkv's. Only the fp32 loads and stores
// are addressed differently, so every number must equal, bit for bit, the
// split calls' on heads split and merged on the host.

// How many elements differ, and the first, named.
::testing::AssertionResult same_bits(const std::vector<float>& got,
                                     const std::vector<float>& want, const std::string& name) {
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0 && differ++ == 0) first = i;
  }
  if (differ == 0) {
    std::cout << "[ compare  ] " << name << ": all " << want.size() << " the same, bit for bit\n";
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << name << ": " << differ << " of " << want.size()
                                       << " differ; the first at " << first << ": "
                                       << got[first] << " against " << want[first];
}

TEST(FlashAttentionBf16, HeadsInPlaceAreTheSplitHeadsBitForBit) {
  GPU_TEST_REQUIRE_GPU();
  struct Shape { int B, T, C, H; };
  for (const Shape s : {Shape{2, 70, 64, 2}, Shape{1, 129, 192, 3}, Shape{3, 5, 128, 2},
                        Shape{2, 128, 64, 1}}) {
    const int B = s.B, T = s.T, C = s.C, H = s.H, N = B * H, hs = C / H;
    SCOPED_TRACE("B " + std::to_string(B) + ", T " + std::to_string(T) + ", C " +
                 std::to_string(C) + ", H " + std::to_string(H));
    ASSERT_TRUE(cuda::flash_attention_bf16_supports_heads(B, T, C, H));
    Rng rng(40 + T);
    auto normal = [&](size_t n, float std) {
      std::vector<float> v(n);
      for (float& x : v) x = rng.normal(0.0f, std);
      return v;
    };
    const std::vector<float> qkv = normal(size_t(B) * T * 3 * C, 1.0f),
                             dmerged = normal(size_t(B) * T * C, 0.1f),
                             old_dqkv = normal(size_t(B) * T * 3 * C, 0.1f);
    const size_t n = size_t(N) * T * hs;
    // Split on the host, by chapter 04's split_heads and chapter 08's
    // merge_heads_backward (which adds: into zeros).
    std::vector<float> q(n), k(n), v(n), dout(n, 0.0f), dq(n), dk(n), dv(n);
    split_heads(q.data(), k.data(), v.data(), qkv.data(), B, T, C, H);
    merge_heads_backward(dout.data(), dmerged.data(), B, T, C, H);
    split_heads(dq.data(), dk.data(), dv.data(), old_dqkv.data(), B, T, C, H);
    DeviceBuffer<float> d_q(q), d_k(k), d_v(v), d_dout(dout), d_out(n), lse(size_t(N) * T),
        d_dq(dq), d_dk(dk), d_dv(dv);
    cuda::flash_attention_bf16_forward(d_out.data(), lse.data(), d_q.data(), d_k.data(),
                                       d_v.data(), N, T, hs);
    cuda::flash_attention_bf16_backward(d_dq.data(), d_dk.data(), d_dv.data(), d_dout.data(),
                                        d_q.data(), d_k.data(), d_v.data(), d_out.data(),
                                        lse.data(), N, T, hs);
    // In place.
    DeviceBuffer<float> d_qkv(qkv), d_merged(size_t(B) * T * C), d_lse(size_t(N) * T),
        d_dmerged(dmerged), d_dqkv(old_dqkv);
    cuda::flash_attention_bf16_forward_heads(d_merged.data(), d_lse.data(), d_qkv.data(), B, T, C,
                                             H);
    cuda::flash_attention_bf16_backward_heads(d_dqkv.data(), d_dmerged.data(), d_qkv.data(),
                                              d_merged.data(), d_lse.data(), B, T, C, H);

    // Merged back on the host: each element of merged and of dqkv has one
    // source, so adding into zeros copies it.
    std::vector<float> merged(size_t(B) * T * C), dqkv(old_dqkv.size(), 0.0f);
    merge_heads(merged.data(), d_out.to_host().data(), B, T, C, H);
    split_heads_backward(dqkv.data(), d_dq.to_host().data(), d_dk.to_host().data(),
                         d_dv.to_host().data(), B, T, C, H);
    EXPECT_TRUE(same_bits(d_merged.to_host(), merged, "out, in the merged rows"));
    EXPECT_TRUE(same_bits(d_lse.to_host(), lse.to_host(), "lse"));
    EXPECT_TRUE(same_bits(d_dqkv.to_host(), dqkv, "dq, dk, dv added into the qkv rows"));
  }
}

TEST(FlashAttentionBf16, SizeChecks) {
  EXPECT_TRUE(cuda::flash_attention_bf16_supports(1, 1, 32));
  EXPECT_TRUE(cuda::flash_attention_bf16_supports(65535, 1024, 64));
  EXPECT_FALSE(cuda::flash_attention_bf16_supports(0, 64, 64));
  EXPECT_FALSE(cuda::flash_attention_bf16_supports(65536, 64, 64));
  EXPECT_FALSE(cuda::flash_attention_bf16_supports(4, 0, 64));
  EXPECT_FALSE(cuda::flash_attention_bf16_supports(4, 64, 48));
  EXPECT_FALSE(cuda::flash_attention_bf16_supports(4, 64, 128));
  // Thrown before any CUDA call: no device memory needed.
  float* none = nullptr;
  EXPECT_THROW(cuda::flash_attention_bf16_forward(none, none, none, none, none, 4, 64, 48),
               std::invalid_argument);
  EXPECT_THROW(cuda::flash_attention_bf16_forward(none, none, none, none, none, 4, 0, 64),
               std::invalid_argument);
  EXPECT_THROW(cuda::flash_attention_bf16_forward(none, none, none, none, none, 65536, 8, 64),
               std::invalid_argument);
  EXPECT_THROW(cuda::flash_attention_bf16_backward(none, none, none, none, none, none, none, none,
                                                   none, -1, 8, 32),
               std::invalid_argument);
  EXPECT_THROW(cuda::flash_attention_bf16_backward(none, none, none, none, none, none, none, none,
                                                   none, 4, 8, 16),
               std::invalid_argument);
  EXPECT_FALSE(cuda::flash_attention_bf16_supports_heads(2, 64, 100, 3)) << "C not a multiple of H";
  EXPECT_FALSE(cuda::flash_attention_bf16_supports_heads(2, 64, 96, 2)) << "hs = 48";
  EXPECT_FALSE(cuda::flash_attention_bf16_supports_heads(0, 64, 64, 2)) << "no rows";
  EXPECT_THROW(cuda::flash_attention_bf16_forward_heads(none, none, none, 2, 8, 100, 3),
               std::invalid_argument);
  EXPECT_NO_THROW(cuda::flash_attention_bf16_forward_heads(none, none, none, 0, 8, 64, 2));
  EXPECT_NO_THROW(cuda::flash_attention_bf16_backward_heads(none, none, none, none, none, 0, 8,
                                                            64, 2));
  // N = 0: nothing to do, as in chapter 13.
  EXPECT_NO_THROW(cuda::flash_attention_bf16_forward(none, none, none, none, none, 0, 8, 64));
  EXPECT_NO_THROW(cuda::flash_attention_bf16_backward(none, none, none, none, none, none, none,
                                                      none, none, 0, 8, 64));
  try {
    cuda::flash_attention_bf16_forward(none, none, none, none, none, 4, 64, 48);
    ADD_FAILURE() << "hs = 48 was not refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("head size must be 32 or 64, got 48"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gpt
