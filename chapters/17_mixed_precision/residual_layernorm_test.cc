// chapters/17_mixed_precision/residual_layernorm_test.cc — chapter 17: the fused residual add + LayerNorm, forward and backward, against the exact answer from the same bf16 inputs.
//
// The reference works in double from the kernels' own bf16 inputs, so it is
// exact to ~1e-16 and the tolerance is the kernels' own error. Every bound
// below is per element, derived from the roundings the kernels make
// (u = 2^-24, fp32's unit roundoff: one fp32 operation is off by at most u of
// its result; a sum of K fp32 terms, in any order, by (K − 1)·u·Σ|term|; one
// rounding to bf16 by 2^-8 of the value, half the step between neighbours):
//
//   residual_out  r = bf16(fp32(residual_in + x)): IEEE addition and one
//     rounding to nearest even, exactly specified, so the stored r must equal
//     the CPU's bf16(float + float) BIT FOR BIT. The reference then
//     normalises that stored r, as the kernel does.
//   mean  a fp32 sum of C values, then / C:
//       |m − μ| <= δm = (C + 2)·u·mean|r|
//     (with mean ≫ std this is the largest term of all: it is relative to
//     |r|, not to the spread of r).
//   rstd  Σ(r − m)² about a mean off by δm is Σ(r − μ)² + C·δm²; each term
//     rounds twice, the sum C times, then / C, + eps, √ and 1/x:
//       |s − rstd| <= ρ·rstd,  ρ = (C + 10)·u + (δm·rstd)²
//     (a square root halves a relative error; ρ does not bother to).
//   ln_out  y = (r − m)·s·w + b: the mean's error moves every x̂ by rstd·δm,
//     and y by that times LayerNorm's slope |w|; rstd's moves y by |x̂·w|·ρ;
//     the subtraction, two products and the addition round once each:
//       e_y = rstd·|w|·δm + |x̂·w|·ρ + 4u·(|x̂·w| + |b|)
//     and the store to bf16 rounds the result, y + e_y, by 2^-8 of itself:
//       |y_gpu − y| <= 2^-8·|y| + (1 + 2^-8)·e_y.
//     Why the stored r matters: normalising the unrounded residual_in + x
//     instead, the reference would differ from the kernel by r's own rounding,
//     up to 2^-8·|r|, times the slope rstd·|w|. At mean ≫ std that is more
//     than y's whole range, and the comparison could never fail.
//   dinp = rstd·B + dresidual, B = g − mean(g) − x̂·mean(g·x̂), g = dout·w (a
//     product of two bf16: exact in fp32), with the forward's m and s:
//       δx̂  = rstd·δm + |x̂|·(ρ + 2u)                                  each x̂
//       δḡ  = (C + 2)·u·mean|g|,  δgx̄ = mean(|g|·δx̂) + (C + 3)·u·mean|g·x̂|   the row's sums
//       δB  = δḡ + |x̂|·δgx̄ + δx̂·|gx̄| + 4u·(|g| + |ḡ| + |x̂·gx̄|)
//       e   = rstd·δB + rstd·|B|·(ρ + u) + u·|dinp|                    · s, + dresidual
//     and |dinp_gpu − dinp| <= 2^-8·|dinp| + (1 + 2^-8)·e.
//   dweight += Σ_n dout·x̂, dbias += Σ_n dout: fp32 sums of N + 1 terms (the
//     old value too). In any order that is (N + 1)·u·(|old| + Σ_n|term|), too
//     loose to see one row missing out of thousands; but the kernels add as a
//     tree, and a term passes through at most D additions on its way to the
//     result: its warp's rows (one after another), the block's 8 warps (in
//     turn), the partial rows a warp of the second kernel adds (every 32nd),
//     its 32 warps, the old value. So, each term rounded once more,
//       (D + 2)·u·(|old| + Σ_n|term|),  D = ⌈N/(8·blocks)⌉ + 8 + ⌈blocks/32⌉ + 32 + 1
//     (D = 59 for N = 4500, against N + 1 = 4501), plus Σ_n |dout|·δx̂ for dweight.
//
// A kernel that reads the wrong column, forgets the residual, mixes two rows
// or uses E[r²] − mean² is off by far more (a test below shows the last one
// failing). Every comparison prints its worst element with its index and its
// share of the tolerance. Outputs start as NaN with a NaN guard after them:
// an element not written, or written past the end, fails. Runs on the GPU, or
// on the CPU emulator where the build is emulated (common/testing/gpu.h).
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

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/residual_layernorm.h"
#include "common/cuda/cuda_check.h"
#include "common/random.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

constexpr double kU = 0x1p-24;    // fp32: one operation's relative error
constexpr double kBf16 = 0x1p-8;  // one rounding to bf16, relative
constexpr float kEps = 1e-5f;
constexpr size_t kGuard = 64;  // NaN elements after each output that nothing may write

const int kShapeC[] = {768, 1, 7, 100, 1000};
const int kShapeN[] = {1, 37, 256};
// One C for each number of pieces a lane holds (2, 6, 8), vector and scalar.
const int kEveryPiecesC[] = {512, 300, 1280, 1601, 2048};

// ---------------------------------------------------------------------------
// Inputs and the exact answer.

struct Inputs {
  int N = 0, C = 0;
  std::vector<Bf16> residual, x;   // (N, C)
  std::vector<Bf16> weight, bias;  // (C)
};

// residual ~ offset + N(0, 1), x ~ N(0, 1), weight ~ N(1, 0.3), bias ~ N(0, 0.2), all bf16.
Inputs make_inputs(int N, int C, float offset, uint64_t seed) {
  Rng rng(seed);
  Inputs in;
  in.N = N, in.C = C;
  for (int64_t i = 0; i < int64_t(N) * C; ++i) {
    in.residual.push_back(to_bf16(rng.normal(offset, 1.0f)));
    in.x.push_back(to_bf16(rng.normal(0.0f, 1.0f)));
  }
  for (int c = 0; c < C; ++c) {
    in.weight.push_back(to_bf16(rng.normal(1.0f, 0.3f)));
    in.bias.push_back(to_bf16(rng.normal(0.0f, 0.2f)));
  }
  return in;
}

struct Forward {
  std::vector<Bf16> r;                     // (N, C): what residual_out must hold, bit for bit
  std::vector<double> xhat, y, y_allowed;  // (N, C)
  std::vector<double> mean, rstd;          // (N), exact
  std::vector<double> mean_allowed, rho;   // (N): δm, and ρ (rstd's relative bound)
};

Forward forward_reference(const Inputs& in) {
  const int N = in.N, C = in.C;
  Forward f;
  f.r.resize(size_t(N) * C);
  for (size_t i = 0; i < f.r.size(); ++i) {
    f.r[i] = to_bf16(to_float(in.residual[i]) + to_float(in.x[i]));  // float + float, rounded
  }
  f.xhat.resize(f.r.size()), f.y.resize(f.r.size()), f.y_allowed.resize(f.r.size());
  for (int n = 0; n < N; ++n) {
    const Bf16* r = f.r.data() + size_t(n) * C;
    double sum = 0.0, size = 0.0;
    for (int c = 0; c < C; ++c) sum += to_float(r[c]), size += std::fabs(to_float(r[c]));
    const double mean = sum / C;
    double squares = 0.0;
    for (int c = 0; c < C; ++c) squares += (to_float(r[c]) - mean) * (to_float(r[c]) - mean);
    const double rstd = 1.0 / std::sqrt(squares / C + double(kEps));
    // lesson: layernorm_tolerance
    const double dm = (C + 2) * kU * size / C;                      // the mean: C fp32 adds, / C
    const double rho = (C + 10) * kU + (dm * rstd) * (dm * rstd);  // rstd, relative
    // end lesson
    f.mean.push_back(mean), f.rstd.push_back(rstd);
    f.mean_allowed.push_back(dm), f.rho.push_back(rho);
    for (int c = 0; c < C; ++c) {
      const size_t i = size_t(n) * C + c;
      const double w = to_float(in.weight[c]), b = to_float(in.bias[c]);
      const double xhat = (to_float(r[c]) - mean) * rstd;
      f.xhat[i] = xhat;
      f.y[i] = xhat * w + b;
      // lesson: y_tolerance
      // The mean's error through LayerNorm's slope rstd·|w|, rstd's through
      // |x̂·w|, four fp32 roundings, then the store to bf16.
      const double e = rstd * std::fabs(w) * dm + std::fabs(xhat * w) * rho +
                       4 * kU * (std::fabs(xhat * w) + std::fabs(b));
      f.y_allowed[i] = kBf16 * std::fabs(f.y[i]) + (1 + kBf16) * e;
      // end lesson
    }
  }
  return f;
}

struct BackwardInputs {
  std::vector<Bf16> dout;             // (N, C)
  std::vector<Bf16> dresidual;        // (N, C), or empty: none
  std::vector<float> dweight, dbias;  // (C): the values accumulated into
};

BackwardInputs make_backward_inputs(int N, int C, bool with_dresidual, uint64_t seed) {
  Rng rng(seed);
  BackwardInputs b;
  for (int64_t i = 0; i < int64_t(N) * C; ++i) b.dout.push_back(to_bf16(rng.normal(0.0f, 1.0f)));
  if (with_dresidual) {
    for (int64_t i = 0; i < int64_t(N) * C; ++i) {
      b.dresidual.push_back(to_bf16(rng.normal(0.0f, 1.0f)));
    }
  }
  for (int c = 0; c < C; ++c) {
    b.dweight.push_back(rng.normal(0.0f, 1.0f));
    b.dbias.push_back(rng.normal(0.0f, 1.0f));
  }
  return b;
}

struct Backward {
  std::vector<double> dinp, dinp_allowed;  // (N, C)
  std::vector<double> dweight, dweight_allowed, dbias, dbias_allowed;  // (C)
};

Backward backward_reference(const Inputs& in, const Forward& f, const BackwardInputs& b) {
  const int N = in.N, C = in.C;
  Backward out;
  out.dinp.resize(size_t(N) * C), out.dinp_allowed.resize(size_t(N) * C);
  std::vector<double> dw(C, 0.0), dw_size(C, 0.0), dw_xhat_error(C, 0.0), db(C, 0.0),
      db_size(C, 0.0);
  std::vector<double> g(C), dxhat(C);
  for (int n = 0; n < N; ++n) {
    const size_t row = size_t(n) * C;
    const double rstd = f.rstd[n], dm = f.mean_allowed[n], rho = f.rho[n];
    double g_sum = 0, gx_sum = 0, g_size = 0, gx_size = 0, g_dxhat = 0;
    for (int c = 0; c < C; ++c) {
      const double xhat = f.xhat[row + c];
      g[c] = double(to_float(b.dout[row + c])) * to_float(in.weight[c]);
      dxhat[c] = rstd * dm + std::fabs(xhat) * (rho + 2 * kU);
      g_sum += g[c], gx_sum += g[c] * xhat;
      g_size += std::fabs(g[c]), gx_size += std::fabs(g[c] * xhat);
      g_dxhat += std::fabs(g[c]) * dxhat[c];
    }
    const double g_mean = g_sum / C, gx_mean = gx_sum / C;
    const double dg_mean = (C + 2) * kU * g_size / C;
    const double dgx_mean = g_dxhat / C + (C + 3) * kU * gx_size / C;
    for (int c = 0; c < C; ++c) {
      const size_t i = row + c;
      const double xhat = f.xhat[i], dy = to_float(b.dout[i]);
      const double bracket = g[c] - g_mean - xhat * gx_mean;
      const double dres = b.dresidual.empty() ? 0.0 : to_float(b.dresidual[i]);
      out.dinp[i] = rstd * bracket + dres;
      const double dbracket =
          dg_mean + std::fabs(xhat) * dgx_mean + dxhat[c] * std::fabs(gx_mean) +
          4 * kU * (std::fabs(g[c]) + std::fabs(g_mean) + std::fabs(xhat * gx_mean));
      const double e =
          rstd * dbracket + rstd * std::fabs(bracket) * (rho + kU) + kU * std::fabs(out.dinp[i]);
      out.dinp_allowed[i] = kBf16 * std::fabs(out.dinp[i]) + (1 + kBf16) * e;
      dw[c] += dy * xhat, dw_size[c] += std::fabs(dy * xhat);
      dw_xhat_error[c] += std::fabs(dy) * dxhat[c];
      db[c] += dy, db_size[c] += std::fabs(dy);
    }
  }
  // The depth of the kernels' sum tree over the rows (see the header).
  const int blocks = cuda::residual_layernorm_internal::backward_blocks(N);
  const int depth = (N + 8 * blocks - 1) / (8 * blocks) + 8 + (blocks + 31) / 32 + 32 + 1;
  for (int c = 0; c < C; ++c) {
    const double dw0 = b.dweight[c], db0 = b.dbias[c];
    out.dweight.push_back(dw0 + dw[c]);
    out.dweight_allowed.push_back(dw_xhat_error[c] +
                                  (depth + 2) * kU * (std::fabs(dw0) + dw_size[c]));
    out.dbias.push_back(db0 + db[c]);
    out.dbias_allowed.push_back((depth + 2) * kU * (std::fabs(db0) + db_size[c]));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparing.

std::vector<double> widened(const std::vector<Bf16>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_float(v[i]);
  return out;
}
std::vector<double> widened(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// Every element within its tolerance; the worst element (by its error over
// what is allowed) with its [row, column], printed on success too.
::testing::AssertionResult within(const std::vector<double>& got, const std::vector<double>& exact,
                                  const std::vector<double>& allowed, int cols,
                                  const std::string& name) {
  if (got.size() != exact.size()) {
    return ::testing::AssertionFailure() << name << ": " << got.size() << " elements, expected "
                                         << exact.size();
  }
  double worst_ratio = -1.0;
  size_t worst = 0, bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::fabs(got[i] - exact[i]);
    const double ratio = std::isfinite(error) ? error / allowed[i] : INFINITY;
    if (!(ratio <= 1.0)) ++bad;
    if (!(ratio <= worst_ratio)) worst_ratio = ratio, worst = i;
  }
  std::ostringstream line;
  line << name << ": worst at [" << worst / cols << ", " << worst % cols << "]: got "
       << got[worst] << ", exact " << exact[worst] << ", error "
       << std::fabs(got[worst] - exact[worst]) << " of " << allowed[worst] << " allowed ("
       << worst_ratio << " of the tolerance)";
  if (bad > 0) {
    return ::testing::AssertionFailure() << line.str() << "; " << bad << " of " << got.size()
                                         << " elements outside";
  }
  std::cout << "[ compare  ] " << line.str() << std::endl;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_bits(const std::vector<Bf16>& got, const std::vector<Bf16>& want,
                                     int cols, const std::string& name) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << name << ": sizes differ";
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].bits != want[i].bits) {
      return ::testing::AssertionFailure()
             << name << ": first difference at [" << i / cols << ", " << i % cols << "]: got "
             << to_float(got[i]) << ", expected " << to_float(want[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Device buffers that start as NaN (or given values) with a NaN guard after.

template <typename T>
T nan_of();
template <>
Bf16 nan_of<Bf16>() { return to_bf16(std::nanf("")); }
template <>
float nan_of<float>() { return std::nanf(""); }

template <typename T>
bool same_bits_as(const T& a, const T& b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }

template <typename T>
class Guarded {
 public:
  // `lead` extra elements before the data: data() is then misaligned by lead·sizeof(T).
  explicit Guarded(size_t count, size_t lead = 0)
      : Guarded(std::vector<T>(count, nan_of<T>()), lead) {}
  Guarded(const std::vector<T>& values, size_t lead = 0) : count_(values.size()), lead_(lead) {
    std::vector<T> all(lead + values.size() + kGuard, nan_of<T>());
    std::copy(values.begin(), values.end(), all.begin() + lead);
    buffer_ = DeviceBuffer<T>(all);
  }
  T* data() { return buffer_.data() + lead_; }
  std::vector<T> host() const {
    std::vector<T> all = buffer_.to_host();
    return std::vector<T>(all.begin() + lead_, all.begin() + lead_ + count_);
  }
  bool guard_intact() const {
    const std::vector<T> all = buffer_.to_host();
    for (size_t i = 0; i < all.size(); ++i) {
      if ((i < lead_ || i >= lead_ + count_) && !same_bits_as(all[i], nan_of<T>())) return false;
    }
    return true;
  }

 private:
  size_t count_, lead_;
  DeviceBuffer<T> buffer_;
};

// The forward on the device. `lead` misaligns every pointer by that many
// bf16 (or floats); `in_place` writes residual_out over residual_in.
struct ForwardRun {
  Guarded<Bf16> residual_in, x, weight, bias, residual_out, ln_out;
  Guarded<float> mean, rstd;
  bool in_place;
  ForwardRun(const Inputs& in, size_t lead = 0, bool in_place = false)
      : residual_in(in.residual, lead), x(in.x, lead), weight(in.weight, lead),
        bias(in.bias, lead), residual_out(size_t(in.N) * in.C, lead),
        ln_out(size_t(in.N) * in.C, lead), mean(in.N, lead), rstd(in.N, lead),
        in_place(in_place) {
    Bf16* out = in_place ? residual_in.data() : residual_out.data();
    cuda::residual_layernorm_forward(out, ln_out.data(), mean.data(), rstd.data(),
                                     residual_in.data(), x.data(), weight.data(), bias.data(),
                                     in.N, in.C, kEps);
    CUDA_CHECK(cudaDeviceSynchronize());
  }
  Guarded<Bf16>& stored_r() { return in_place ? residual_in : residual_out; }
};

::testing::AssertionResult forward_matches(const Inputs& in, ForwardRun& run,
                                           const std::string& name) {
  const Forward f = forward_reference(in);
  const int C = in.C;
  auto r = same_bits(run.stored_r().host(), f.r, C, name + " residual_out");
  if (!r) return r;
  if (!run.stored_r().guard_intact() || !run.ln_out.guard_intact() || !run.mean.guard_intact() ||
      !run.rstd.guard_intact()) {
    return ::testing::AssertionFailure() << name << ": wrote outside its outputs";
  }
  auto y = within(widened(run.ln_out.host()), f.y, f.y_allowed, C, name + " ln_out");
  if (!y) return y;
  std::vector<double> rstd_allowed(in.N);
  for (int n = 0; n < in.N; ++n) rstd_allowed[n] = f.rho[n] * f.rstd[n];
  auto m = within(widened(run.mean.host()), f.mean, f.mean_allowed, 1, name + " mean");
  if (!m) return m;
  return within(widened(run.rstd.host()), f.rstd, rstd_allowed, 1, name + " rstd");
}

std::string shape_name(int N, int C) {
  return "N=" + std::to_string(N) + " C=" + std::to_string(C);
}

// ---------------------------------------------------------------------------
// Forward.

TEST(ResidualLayerNormForward, MatchesTheExactAnswerOnAwkwardShapes) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : kShapeC) {
    for (int N : kShapeN) {
      const Inputs in = make_inputs(N, C, 0.0f, 100 * N + C);
      ForwardRun run(in);
      EXPECT_TRUE(forward_matches(in, run, shape_name(N, C)));
    }
  }
}

TEST(ResidualLayerNormForward, EveryRegisterTileWidth) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : kEveryPiecesC) {
    const Inputs in = make_inputs(37, C, 0.0f, C);
    ForwardRun run(in);
    EXPECT_TRUE(forward_matches(in, run, shape_name(37, C)));
  }
}

// mean ≫ std: r ≈ 1000 ± 1, stored on bf16's grid of 4 there. One-pass
// variance fails here (OnePassVarianceFailsTheOffsetRows, below).
TEST(ResidualLayerNormForward, LargeCommonOffset) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : {768, 1000, 100}) {
    const Inputs in = make_inputs(64, C, 1000.0f, 7 + C);
    ForwardRun run(in);
    EXPECT_TRUE(forward_matches(in, run, shape_name(64, C) + " offset 1000"));
  }
}

// Pointers off 16-byte alignment take the one-bf16-at-a-time path, with the
// same results; so does C not a multiple of 8.
TEST(ResidualLayerNormForward, MisalignedPointersTakeTheScalarPath) {
  GPU_TEST_REQUIRE_GPU();
  const Inputs in = make_inputs(37, 768, 0.0f, 5);
  ForwardRun aligned(in), misaligned(in, /*lead=*/1);
  namespace internal = cuda::residual_layernorm_internal;
  EXPECT_TRUE(internal::vectorized(768, {aligned.residual_in.data(), aligned.x.data(),
                                         aligned.weight.data(), aligned.bias.data()}));
  EXPECT_FALSE(internal::vectorized(768, {misaligned.residual_in.data()}));
  EXPECT_FALSE(internal::vectorized(100, {aligned.residual_in.data()}));
  EXPECT_TRUE(forward_matches(in, misaligned, "misaligned N=37 C=768"));
  EXPECT_TRUE(same_bits(misaligned.ln_out.host(), aligned.ln_out.host(), 768,
                        "misaligned against aligned"));
}

// The residual stream updated in place (inference): residual_out = residual_in.
TEST(ResidualLayerNormForward, InPlaceResidual) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : {768, 100}) {
    const Inputs in = make_inputs(37, C, 0.0f, 11 + C);
    ForwardRun run(in, 0, /*in_place=*/true);
    EXPECT_TRUE(forward_matches(in, run, "in place " + shape_name(37, C)));
  }
}

// The benchmark's unfused pair computes the same bits: one add, one rounding,
// then the same LayerNorm.
TEST(ResidualLayerNormForward, UnfusedPairGivesTheSameBits) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : {768, 100}) {
    const int N = 37;
    const Inputs in = make_inputs(N, C, 0.0f, 13 + C);
    ForwardRun fused(in);
    Guarded<Bf16> residual(in.residual), x(in.x), weight(in.weight), bias(in.bias);
    Guarded<Bf16> r(size_t(N) * C), y(size_t(N) * C);
    Guarded<float> mean(N), rstd(N);
    namespace internal = cuda::residual_layernorm_internal;
    internal::residual_add_bf16(r.data(), residual.data(), x.data(), int64_t(N) * C);
    internal::layernorm_forward_bf16(y.data(), mean.data(), rstd.data(), r.data(), weight.data(),
                                     bias.data(), N, C, kEps);
    CUDA_CHECK(cudaDeviceSynchronize());
    EXPECT_TRUE(r.guard_intact() && y.guard_intact());
    EXPECT_TRUE(same_bits(r.host(), fused.residual_out.host(), C, "unfused r"));
    EXPECT_TRUE(same_bits(y.host(), fused.ln_out.host(), C, "unfused y"));
  }
}

// ---------------------------------------------------------------------------
// The comparison can fail.

// The forward kernel's arithmetic on the CPU, in float and in its order (each
// lane's slots in turn, then the warp's butterfly), with the variance either
// as the kernel has it (two passes) or as E[r²] − mean² (one pass).
std::vector<Bf16> emulate_forward(const Inputs& in, const std::vector<Bf16>& stored_r,
                                  bool one_pass) {
  const int N = in.N, C = in.C, pieces = (C + 255) / 256;
  auto warp_sum = [](std::vector<float> v) {
    for (int offset = 16; offset > 0; offset /= 2) {
      std::vector<float> next(32);
      for (int l = 0; l < 32; ++l) next[l] = v[l] + v[l ^ offset];
      v = next;
    }
    return v[0];
  };
  auto column = [](int p, int k, int lane) { return (p * 32 + lane) * 8 + k; };  // C % 8 == 0
  std::vector<Bf16> y(stored_r.size());
  for (int n = 0; n < N; ++n) {
    const Bf16* row = stored_r.data() + size_t(n) * C;
    auto r = [&](int c) { return c < C ? to_float(row[c]) : 0.0f; };
    std::vector<float> sums(32, 0.0f), squares(32, 0.0f);
    for (int l = 0; l < 32; ++l) {
      for (int p = 0; p < pieces; ++p) {
        for (int k = 0; k < 8; ++k) {
          sums[l] += r(column(p, k, l));
          squares[l] += r(column(p, k, l)) * r(column(p, k, l));
        }
      }
    }
    const float m = warp_sum(sums) / C;
    float var = warp_sum(squares) / C - m * m;  // one pass
    if (!one_pass) {
      std::vector<float> deviations(32, 0.0f);
      for (int l = 0; l < 32; ++l) {
        for (int p = 0; p < pieces; ++p) {
          for (int k = 0; k < 8; ++k) {
            const float d = r(column(p, k, l)) - m;
            if (column(p, k, l) < C) deviations[l] += d * d;
          }
        }
      }
      var = warp_sum(deviations) / C;
    }
    const float s = 1.0f / std::sqrt(std::max(var, 0.0f) + kEps);
    for (int c = 0; c < C; ++c) {
      y[size_t(n) * C + c] =
          to_bf16((r(c) - m) * s * to_float(in.weight[c]) + to_float(in.bias[c]));
    }
  }
  return y;
}

TEST(ResidualLayerNormCheck, OnePassVarianceFailsTheOffsetRows) {
  const Inputs in = make_inputs(64, 768, 1000.0f, 7 + 768);  // LargeCommonOffset's rows
  const Forward f = forward_reference(in);
  EXPECT_TRUE(within(widened(emulate_forward(in, f.r, false)), f.y, f.y_allowed, in.C,
                     "two passes, emulated"));
  const auto one_pass = within(widened(emulate_forward(in, f.r, true)), f.y, f.y_allowed, in.C,
                               "one pass, emulated");
  EXPECT_FALSE(one_pass);
  std::cout << "[ expected ] " << one_pass.message() << std::endl;
  // And without the offset the shortcut would pass: only the offset exposes it.
  const Inputs centred = make_inputs(64, 768, 0.0f, 7 + 768);
  const Forward g = forward_reference(centred);
  EXPECT_TRUE(within(widened(emulate_forward(centred, g.r, true)), g.y, g.y_allowed, centred.C,
                     "one pass, no offset, emulated"));
}

TEST(ResidualLayerNormCheck, CatchesOneWrongElement) {
  const Inputs in = make_inputs(4, 100, 0.0f, 3);
  const Forward f = forward_reference(in);
  std::vector<double> got(f.y.size());
  for (size_t i = 0; i < got.size(); ++i) got[i] = round_to_bf16(static_cast<float>(f.y[i]));
  EXPECT_TRUE(within(got, f.y, f.y_allowed, in.C, "rounded exact"));
  got[2 * 100 + 57] += 0.05;
  const auto result = within(got, f.y, f.y_allowed, in.C, "one changed");
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("worst at [2, 57]"), std::string::npos)
      << result.message();
}

// ---------------------------------------------------------------------------
// Backward: the device's forward first (its stored r, mean and rstd are what
// the backward reads), then the backward against the exact answer.

struct BackwardRun {
  Guarded<Bf16> dinp, dout, dresidual;
  Guarded<float> dweight, dbias;
  BackwardRun(const Inputs& in, ForwardRun& forward, const BackwardInputs& b)
      : dinp(size_t(in.N) * in.C), dout(b.dout), dresidual(b.dresidual), dweight(b.dweight),
        dbias(b.dbias) {
    cuda::layernorm_backward_bf16(dinp.data(), dweight.data(), dbias.data(), dout.data(),
                                  forward.stored_r().data(), forward.weight.data(),
                                  forward.mean.data(), forward.rstd.data(), in.N, in.C,
                                  b.dresidual.empty() ? nullptr : dresidual.data());
    CUDA_CHECK(cudaDeviceSynchronize());
  }
};

::testing::AssertionResult backward_matches(const Inputs& in, ForwardRun& forward,
                                            const BackwardInputs& b, const std::string& name) {
  const Forward f = forward_reference(in);
  auto r = same_bits(forward.stored_r().host(), f.r, in.C, name + " residual_out");
  if (!r) return r;  // the reference's r must be the one the kernel reads
  BackwardRun run(in, forward, b);
  if (!run.dinp.guard_intact() || !run.dweight.guard_intact() || !run.dbias.guard_intact()) {
    return ::testing::AssertionFailure() << name << ": wrote outside its outputs";
  }
  const Backward want = backward_reference(in, f, b);
  auto dinp = within(widened(run.dinp.host()), want.dinp, want.dinp_allowed, in.C, name + " dinp");
  if (!dinp) return dinp;
  auto dw = within(widened(run.dweight.host()), want.dweight, want.dweight_allowed, in.C,
                   name + " dweight");
  if (!dw) return dw;
  return within(widened(run.dbias.host()), want.dbias, want.dbias_allowed, in.C, name + " dbias");
}

TEST(LayerNormBackwardBf16, MatchesTheExactAnswerOnAwkwardShapes) {
  GPU_TEST_REQUIRE_GPU();
  bool with_dresidual = true;
  for (int C : kShapeC) {
    for (int N : kShapeN) {
      const Inputs in = make_inputs(N, C, 0.0f, 100 * N + C);
      ForwardRun forward(in);
      const BackwardInputs b = make_backward_inputs(N, C, with_dresidual, 300 * N + C);
      EXPECT_TRUE(backward_matches(in, forward, b,
                                   shape_name(N, C) + (with_dresidual ? " + dresidual" : "")));
      with_dresidual = !with_dresidual;
    }
  }
}

TEST(LayerNormBackwardBf16, EveryRegisterTileWidth) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : kEveryPiecesC) {
    const Inputs in = make_inputs(37, C, 0.0f, C);
    ForwardRun forward(in);
    EXPECT_TRUE(backward_matches(in, forward, make_backward_inputs(37, C, true, 2 * C),
                                 shape_name(37, C)));
  }
}

TEST(LayerNormBackwardBf16, LargeCommonOffset) {
  GPU_TEST_REQUIRE_GPU();
  for (int C : {768, 100}) {
    const Inputs in = make_inputs(64, C, 1000.0f, 7 + C);
    ForwardRun forward(in);
    EXPECT_TRUE(backward_matches(in, forward, make_backward_inputs(64, C, true, 9 + C),
                                 shape_name(64, C) + " offset 1000"));
  }
}

TEST(LayerNormBackwardBf16, MisalignedAndInPlace) {
  GPU_TEST_REQUIRE_GPU();
  const int N = 37, C = 768;
  const Inputs in = make_inputs(N, C, 0.0f, 21);
  ForwardRun forward(in, /*lead=*/1);  // every forward buffer, weight included, misaligned
  EXPECT_TRUE(backward_matches(in, forward, make_backward_inputs(N, C, true, 22), "misaligned"));
  // dinp = dresidual: the residual path's gradient buffer updated in place.
  const BackwardInputs b = make_backward_inputs(N, C, true, 23);
  const Forward f = forward_reference(in);
  const Backward want = backward_reference(in, f, b);
  Guarded<Bf16> grad(b.dresidual), dout(b.dout);
  Guarded<float> dweight(b.dweight), dbias(b.dbias);
  cuda::layernorm_backward_bf16(grad.data(), dweight.data(), dbias.data(), dout.data(),
                                forward.residual_out.data(), forward.weight.data(),
                                forward.mean.data(), forward.rstd.data(), N, C, grad.data());
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_TRUE(within(widened(grad.host()), want.dinp, want.dinp_allowed, C, "dinp in place"));
}

// More rows than the backward has warps (8·512): warps take several rows, and
// dweight and dbias come out the same, bit for bit, run after run.
TEST(LayerNormBackwardBf16, ManyRowsAndDeterministic) {
  GPU_TEST_REQUIRE_GPU();
  const int N = 4500;
  ASSERT_LT(cuda::residual_layernorm_internal::backward_blocks(N) * 8, N);
  for (int C : {768, 100}) {
    const Inputs in = make_inputs(N, C, 0.0f, 31 + C);
    ForwardRun forward(in);
    const BackwardInputs b = make_backward_inputs(N, C, true, 32 + C);
    EXPECT_TRUE(backward_matches(in, forward, b, shape_name(N, C)));
    BackwardRun first(in, forward, b), second(in, forward, b);
    auto bitwise_equal = [](const std::vector<float>& a, const std::vector<float>& c) {
      return a.size() == c.size() &&
             std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) == 0;
    };
    EXPECT_TRUE(bitwise_equal(first.dweight.host(), second.dweight.host()))
        << "dweight, C = " << C;
    EXPECT_TRUE(bitwise_equal(first.dbias.host(), second.dbias.host())) << "dbias, C = " << C;
    EXPECT_TRUE(same_bits(first.dinp.host(), second.dinp.host(), C, "dinp, twice"));
  }
}

TEST(LayerNormBackwardBf16, CatchesAWrongGradient) {
  const Inputs in = make_inputs(3, 7, 0.0f, 41);
  const Forward f = forward_reference(in);
  const BackwardInputs b = make_backward_inputs(3, 7, true, 42);
  const Backward want = backward_reference(in, f, b);
  std::vector<double> got(want.dinp.size());
  for (size_t i = 0; i < got.size(); ++i) got[i] = round_to_bf16(static_cast<float>(want.dinp[i]));
  EXPECT_TRUE(within(got, want.dinp, want.dinp_allowed, 7, "rounded exact dinp"));
  // Forgetting the residual's gradient in one element:
  got[1 * 7 + 4] -= to_float(b.dresidual[1 * 7 + 4]);
  const auto result = within(got, want.dinp, want.dinp_allowed, 7, "no dresidual at [1, 4]");
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("worst at [1, 4]"), std::string::npos)
      << result.message();
  // One row of 4500 left out of dweight and dbias is seen (the tree's depth,
  // not N, sets their tolerance):
  const Inputs many = make_inputs(4500, 100, 0.0f, 43);
  const Forward fm = forward_reference(many);
  BackwardInputs bm = make_backward_inputs(4500, 100, false, 44);
  const Backward all = backward_reference(many, fm, bm);
  for (int c = 0; c < 100; ++c) bm.dout[size_t(1234) * 100 + c] = Bf16{};  // row 1234: 0
  const Backward missing = backward_reference(many, fm, bm);
  EXPECT_FALSE(within(missing.dweight, all.dweight, all.dweight_allowed, 100, "dweight"));
  EXPECT_FALSE(within(missing.dbias, all.dbias, all.dbias_allowed, 100, "dbias"));
}

// ---------------------------------------------------------------------------
// The checks: each throws std::invalid_argument before any launch (the fake
// pointers are never dereferenced), on any machine.

template <typename F>
std::string refusal(F call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

Bf16* fake(uintptr_t address) { return reinterpret_cast<Bf16*>(address); }
float* fake_f(uintptr_t address) { return reinterpret_cast<float*>(address); }

TEST(ResidualLayerNormChecks, RefuseWhatTheyCannotCompute) {
  auto forward = [](int N, int C, Bf16* ln_out = fake(4096), const Bf16* x = fake(8192),
                    float eps = kEps) {
    return refusal([&] {
      cuda::residual_layernorm_forward(fake(1 << 20), ln_out, fake_f(1 << 21), fake_f(1 << 22),
                                       fake(1 << 23), x, fake(1 << 24), fake(1 << 25), N, C, eps);
    });
  };
  EXPECT_NE(forward(-1, 8).find("N must be >= 0"), std::string::npos);
  EXPECT_NE(forward(4, 0).find("C must be >= 1"), std::string::npos);
  EXPECT_NE(forward(4, 2049).find("C must be <= 2048"), std::string::npos);
  EXPECT_NE(forward(4, 8, nullptr).find("ln_out must not be null"), std::string::npos);
  EXPECT_NE(forward(4, 8, fake(4096), nullptr).find("x must not be null"), std::string::npos);
  EXPECT_NE(forward(4, 8, fake(1 << 20)).find("ln_out must not be residual_out"),
            std::string::npos);
  EXPECT_NE(forward(4, 8, fake(4096), fake(8192), -1.0f).find("eps must be"), std::string::npos);
  auto backward = [](int N, int C, const float* mean = fake_f(4096)) {
    return refusal([&] {
      cuda::layernorm_backward_bf16(fake(1 << 20), fake_f(1 << 21), fake_f(1 << 22),
                                    fake(1 << 23), fake(1 << 24), fake(1 << 25), mean,
                                    fake_f(1 << 26), N, C);
    });
  };
  EXPECT_NE(backward(-3, 8).find("N must be >= 0"), std::string::npos);
  EXPECT_NE(backward(4, 0).find("C must be >= 1"), std::string::npos);
  EXPECT_NE(backward(4, 4096).find("C must be <= 2048"), std::string::npos);
  EXPECT_NE(backward(4, 8, nullptr).find("mean must not be null"), std::string::npos);
  // N = 0 is nothing to do: no launch, no error.
  EXPECT_EQ(forward(0, 8), "(nothing thrown)");
  EXPECT_EQ(backward(0, 8), "(nothing thrown)");
}

TEST(ResidualLayerNormChecks, BackwardSplitDependsOnNOnly) {
  namespace internal = cuda::residual_layernorm_internal;
  EXPECT_EQ(internal::backward_blocks(1), 1);
  EXPECT_EQ(internal::backward_blocks(9), 2);
  EXPECT_EQ(internal::backward_blocks(8192), 512);
  EXPECT_EQ(internal::backward_blocks(1 << 30), 512);
}

}  // namespace
}  // namespace gpt
