// chapters/17_mixed_precision/feedforward_bf16_test.cc — the bf16 format's feed-forward sub-layer, stage by stage.
//
// The format keeps the hidden layer (N, F) in bf16, before and after GELU,
// and both of its gradients, in the fp32 memory it is lent. The test reads
// each of them back and holds each stage to the exact answer for what that
// stage was given, so that a stage's error is never blamed on an earlier one:
//   h  = x̂ · Ŵ_fcᵀ, rounded once       bf16_reference.h's bound (2^-8·|h| + the fp32 sum)
//   a  = GELU(h + b_fc), rounded once   2^-8·|a| + GELU's fp32 arithmetic on h + b
//   out = a · Ŵ_projᵀ + b_proj, fp32    the fp32 sum only (within_sum_error)
//   da = dout^ · Ŵ_proj, rounded once   as h
//   dh = da · GELU'(h + b_fc), rounded  2^-8·|dh| + the slope's fp32 arithmetic and h + b's
//   dinp, dW_fc, dW_proj (added to)     the fp32 sums of their bf16 operands
//   db_fc, db_proj (added to)           N fp32 adds
// (^ is rounding to bf16.) A stage fed the wrong tensor, a transpose read
// the wrong way, a bias dropped or added twice is off by about the value
// itself, hundreds of times these bounds. Each lent memory starts one float
// past a 16-byte boundary, between guard floats that must stay as they were.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/bf16_products.h"
#include "chapters/17_mixed_precision/bf16_reference.h"
#include "chapters/17_mixed_precision/feedforward_bf16.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using bf16_testing::Exact;
using bf16_testing::exact_product;
using bf16_testing::matches_exact;
using bf16_testing::transpose;
using bf16_testing::within_bounds;
using bf16_testing::within_sum_error;
using cuda::Bf16Matmul;
using cuda::DeviceBuffer;
using gpu_testing::random_floats;

// GELU and its slope in double, both forms (chapter 05).
double gelu_exact(double x, GeluForm form) {
  if (form == GeluForm::Tanh) return bf16_testing::gelu_tanh(x);
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}
double gelu_slope_exact(double x, GeluForm form) {
  if (form == GeluForm::Tanh) {
    const double k = std::sqrt(2.0 / M_PI), u = k * (x + 0.044715 * x * x * x), t = std::tanh(u);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * x * x);
  }
  return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}

// n floats of memory lent to the format, one float past a 16-byte boundary,
// with guard floats before and after.
class LentMemory {
 public:
  explicit LentMemory(size_t n)
      : n_(n), memory_(std::vector<float>(n + 2 * kGuard + 1, kGuardValue)) {}
  float* data() { return memory_.data() + kGuard + 1; }
  // The bf16 rows the format keeps there, `count` of them, read back.
  std::vector<Bf16> bf16_rows(size_t count) {
    const std::vector<float> host = memory_.to_host();
    const auto offset = reinterpret_cast<const char*>(cuda::bf16_rows_in(data())) -
                        reinterpret_cast<const char*>(memory_.data());
    std::vector<Bf16> rows(count);
    std::memcpy(rows.data(), reinterpret_cast<const char*>(host.data()) + offset,
                count * sizeof(Bf16));
    return rows;
  }
  ::testing::AssertionResult guards_intact(const std::string& name) {
    const std::vector<float> host = memory_.to_host();
    for (size_t i = 0; i < host.size(); ++i) {
      const bool guard = i <= kGuard || i >= kGuard + 1 + n_;
      if (guard && host[i] != kGuardValue) {
        return ::testing::AssertionFailure() << name << ": guard float " << i << " of "
                                             << host.size() << " was written";
      }
    }
    return ::testing::AssertionSuccess();
  }

 private:
  static constexpr size_t kGuard = 8;
  static constexpr float kGuardValue = -12345.0f;
  size_t n_;
  DeviceBuffer<float> memory_;
};

// old + Σ_n rows[n, :] in fp32: N adds, each off by 2^-23 of the running sum at most.
::testing::AssertionResult bias_gradient(const std::vector<float>& got,
                                         const std::vector<float>& old,
                                         const std::vector<float>& rows, int N, int F,
                                         const std::string& name) {
  std::vector<double> ratios(F);
  for (int f = 0; f < F; ++f) {
    double sum = old[f], size = std::fabs(old[f]);
    for (int n = 0; n < N; ++n) sum += rows[size_t(n) * F + f], size += std::fabs(rows[size_t(n) * F + f]);
    ratios[f] = std::fabs(got[f] - sum) / ((N + 1) * std::ldexp(size, -23) + 1e-30);
  }
  return within_bounds(got, ratios, 1, F, N, name);
}

struct Sizes {
  int N, C, F;
};
// C not a multiple of 8 (padded operands); N past the bias kernel's 32 rows
// of threads; F past one block's 64 columns, and not a multiple of 64.
const Sizes kSizes[] = {{5, 13, 24}, {33, 64, 96}, {70, 40, 16}, {1, 8, 32}, {130, 24, 136}};

const char* name(Bf16Matmul m) {
  return m == Bf16Matmul::kCublasLt ? "cublaslt" : m == Bf16Matmul::kOurs ? "ours" : "ours_wgmma";
}

// The products the cases run on. Version 4 (wgmma) runs in a program of its
// own (the *_wgmma_test target, built with GPT_WGMMA_TESTS), so that a fault
// of a kernel not yet proven on a GPU cannot take the other cases' results
// with it; it runs on an sm_90 GPU and on the emulator, elsewhere it skips.
#if GPT_WGMMA_TESTS
const Bf16Matmul kMatmuls[] = {Bf16Matmul::kOursWgmma};
#else
const Bf16Matmul kMatmuls[] = {Bf16Matmul::kOurs, Bf16Matmul::kCublasLt};
#endif
bool runs_here(Bf16Matmul m) {
  return m != Bf16Matmul::kOursWgmma || cuda::bf16_matmul_runs_here(4);
}

class FeedForwardBf16Test
    : public ::testing::TestWithParam<std::tuple<Sizes, Bf16Matmul, GeluForm>> {
 protected:
  void SetUp() override {
    GPU_TEST_REQUIRE_GPU();
    if (!runs_here(std::get<1>(GetParam()))) GTEST_SKIP() << "version 4 needs an sm_90 GPU";
  }
};

INSTANTIATE_TEST_SUITE_P(
    Shapes, FeedForwardBf16Test,
    ::testing::Combine(::testing::ValuesIn(kSizes),
                       ::testing::ValuesIn(kMatmuls),
                       ::testing::Values(GeluForm::Erf, GeluForm::Tanh)),
    [](const auto& info) {
      const Sizes& s = std::get<0>(info.param);
      return std::string(name(std::get<1>(info.param))) +
             (std::get<2>(info.param) == GeluForm::Tanh ? "_tanh" : "_erf") + "_N" +
             std::to_string(s.N) + "_C" + std::to_string(s.C) + "_F" + std::to_string(s.F);
    });

TEST_P(FeedForwardBf16Test, EachStageIsTheExactAnswerForWhatItWasGiven) {
  const auto [N, C, F] = std::get<0>(GetParam());
  const GeluForm form = std::get<2>(GetParam());
  const auto products = cuda::bf16_products(std::get<1>(GetParam()));
  ASSERT_TRUE(products->has_feedforward(F));
  const int Kc = (C + 7) / 8 * 8;
  const auto x = random_floats(size_t(N) * C, 31), fc_w = random_floats(size_t(F) * C, 32, 0, 0.3f),
             fc_b = random_floats(F, 33), proj_w = random_floats(size_t(C) * F, 34, 0, 0.1f),
             proj_b = random_floats(C, 35);
  DeviceBuffer<float> d_x(x), d_fc_w(fc_w), d_fc_b(fc_b), d_proj_w(proj_w), d_proj_b(proj_b),
      d_out(size_t(N) * C);
  const size_t NF = size_t(N) * F;
  // As much as the format asks, what chapter 14's engine lends it, no more
  // than the fp32 (N, F).
  const size_t lent = products->lent_floats(N, F);
  EXPECT_LE(lent, NF);
  LentMemory hidden(lent), activated(lent), dhidden(lent), dactivated(lent);
  const FeedForwardParams params{d_fc_w.data(), d_fc_b.data(), d_proj_w.data(), d_proj_b.data()};
  products->feedforward_forward(d_out.data(), hidden.data(), activated.data(), d_x.data(), params,
                                N, C, F, form);

  // h = x̂ · Ŵ_fcᵀ, without the bias.
  const std::vector<Bf16> h = hidden.bf16_rows(NF);
  EXPECT_TRUE(matches_exact(h, exact_product(to_bf16(x), to_bf16(fc_w), N, F, C), N, F, Kc,
                            "h = x·W_fcᵀ"));
  // a = GELU(h + b_fc) from the h it read: the bias added in fp32, GELU's
  // slope at most 1.13, its fp32 evaluation a few ulps (2^-20·|h + b|).
  Exact gelu{std::vector<double>(NF), std::vector<double>(NF), std::vector<double>(NF), true, true};
  for (size_t i = 0; i < NF; ++i) {
    gelu.pre[i] = double(to_float(h[i])) + fc_b[i % F];
    gelu.value[i] = gelu_exact(gelu.pre[i], form);
  }
  const std::vector<Bf16> a = activated.bf16_rows(NF);
  EXPECT_TRUE(matches_exact(a, gelu, N, F, 1, "a = GELU(h + b_fc)"));
  // out = a · Ŵ_projᵀ + b_proj, in fp32.
  EXPECT_TRUE(within_sum_error(d_out.to_host(), exact_product(a, to_bf16(proj_w), N, C, F), {},
                               proj_b, N, C, F, "out = a·W_projᵀ + b_proj"));

  // The backward, into gradients that already hold values of their size.
  const auto dout = random_floats(size_t(N) * C, 36, 0, 1e-2f);
  const auto old_dinp = random_floats(size_t(N) * C, 37, 0, 1e-2f),
             old_dfc_w = random_floats(size_t(F) * C, 38, 0, 1e-2f),
             old_dfc_b = random_floats(F, 39, 0, 1e-2f),
             old_dproj_w = random_floats(size_t(C) * F, 40, 0, 1e-2f),
             old_dproj_b = random_floats(C, 41, 0, 1e-2f);
  DeviceBuffer<float> d_dout(dout), d_dinp(old_dinp), d_dfc_w(old_dfc_w), d_dfc_b(old_dfc_b),
      d_dproj_w(old_dproj_w), d_dproj_b(old_dproj_b);
  const FeedForwardGrads grads{d_dfc_w.data(), d_dfc_b.data(), d_dproj_w.data(),
                               d_dproj_b.data()};
  products->feedforward_backward(d_dinp.data(), grads, dhidden.data(), dactivated.data(),
                                 d_dout.data(), d_x.data(), hidden.data(), activated.data(),
                                 params, N, C, F, form);
  // da = dout^ · Ŵ_proj = dout^ (N, C) · (Ŵ_projᵀ (F, C))ᵀ
  const std::vector<Bf16> da = dactivated.bf16_rows(NF);
  EXPECT_TRUE(matches_exact(da, exact_product(to_bf16(dout), to_bf16(transpose(proj_w, C, F)), N,
                                              F, C),
                            N, F, Kc, "da = dout·W_proj"));
  // dh = da · GELU'(h + b_fc) from the da and h it read: rounded to bf16
  // (2^-8·|dh|), plus, times |da|, the slope's fp32 evaluation, a few ulps
  // of its terms, which are at most about 1 + |h + b| in size (2^-20 of
  // that), and the fp32 rounding of h + b (2^-24 of it) through GELU'',
  // which is at most 0.8.
  const std::vector<Bf16> dh = dhidden.bf16_rows(NF);
  std::vector<double> ratios(NF);
  for (size_t i = 0; i < NF; ++i) {
    const double want = to_float(da[i]) * gelu_slope_exact(gelu.pre[i], form);
    const double pre = std::fabs(gelu.pre[i]);
    const double arithmetic =
        std::fabs(to_float(da[i])) * (std::ldexp(1 + pre, -20) + 0.8 * std::ldexp(pre, -24));
    const double allowed = std::ldexp(std::fabs(want), -8) + (1 + std::ldexp(1.0, -8)) * arithmetic + 1e-30;
    ratios[i] = std::fabs(to_float(dh[i]) - want) / allowed;
  }
  EXPECT_TRUE(within_bounds(to_float(dh), ratios, N, F, 1, "dh = da·GELU'(h + b_fc)"));
  // dinp += dh · Ŵ_fc = dh (N, F) · (Ŵ_fcᵀ (C, F))ᵀ
  EXPECT_TRUE(within_sum_error(d_dinp.to_host(),
                               exact_product(dh, to_bf16(transpose(fc_w, F, C)), N, C, F), old_dinp,
                               {}, N, C, F, "dinp += dh·W_fc"));
  // dW_fc += dhᵀ · x̂ = dhᵀ (F, N) · (x̂ᵀ (C, N))ᵀ
  EXPECT_TRUE(within_sum_error(d_dfc_w.to_host(),
                               exact_product(transpose(dh, N, F), to_bf16(transpose(x, N, C)), F,
                                             C, N),
                               old_dfc_w, {}, F, C, N, "dW_fc += dhᵀ·x"));
  // dW_proj += dout^ᵀ · a = doutᵀ (C, N) · (aᵀ (F, N))ᵀ
  EXPECT_TRUE(within_sum_error(d_dproj_w.to_host(),
                               exact_product(to_bf16(transpose(dout, N, C)), transpose(a, N, F), C,
                                             F, N),
                               old_dproj_w, {}, C, F, N, "dW_proj += doutᵀ·a"));
  EXPECT_TRUE(bias_gradient(d_dfc_b.to_host(), old_dfc_b, to_float(dh), N, F, "db_fc += Σ dh"));
  EXPECT_TRUE(bias_gradient(d_dproj_b.to_host(), old_dproj_b, dout, N, C, "db_proj += Σ dout"));
  EXPECT_TRUE(hidden.guards_intact("hidden"));
  EXPECT_TRUE(activated.guards_intact("activated"));
  EXPECT_TRUE(dhidden.guards_intact("dhidden"));
  EXPECT_TRUE(dactivated.guards_intact("dactivated"));
}

// The bias gradient over several chunks of 256 rows (the kernel's first
// pass) and a partial block of 64 columns: the column sums, within N fp32
// adds, and the same, bit for bit, every time it is computed.
TEST(FeedForwardBf16, TheBiasGradientIsTheColumnSumsTheSameEveryRun) {
  GPU_TEST_REQUIRE_GPU();
  const int N = 600, F = 200;
  const std::vector<Bf16> dout = to_bf16(random_floats(size_t(N) * F, 42));
  const std::vector<float> old = random_floats(F, 43);
  DeviceBuffer<Bf16> d_dout(dout);
  std::vector<float> first;
  for (int run = 0; run < 3; ++run) {
    DeviceBuffer<float> dbias(old);
    cuda::bias_backward_bf16(dbias.data(), d_dout.data(), N, F);
    if (run == 0) {
      first = dbias.to_host();
      EXPECT_TRUE(bias_gradient(first, old, to_float(dout), N, F, "db += Σ dout"));
    }
    EXPECT_EQ(dbias.to_host(), first) << "run " << run;
  }
}

// What the format cannot keep in whole 16-byte pieces it declines, and the
// kernels refuse, naming what is wrong, before any launch. No rows (N = 0)
// is nothing to do, with or without memory, as for every op of the course.
TEST(FeedForwardBf16, DeclinesAndRefusesWhatItCannotStore) {
  GPU_TEST_REQUIRE_GPU();
  for (const Bf16Matmul matmul : {Bf16Matmul::kOurs, Bf16Matmul::kCublasLt}) {
    const auto products = cuda::bf16_products(matmul);
    EXPECT_FALSE(products->has_feedforward(20)) << name(matmul) << ": F = 20 is no multiple of 8";
    EXPECT_TRUE(products->has_feedforward(24)) << name(matmul);
    const FeedForwardParams none{nullptr, nullptr, nullptr, nullptr};
    const FeedForwardGrads no_grads{nullptr, nullptr, nullptr, nullptr};
    EXPECT_NO_THROW(products->feedforward_forward(nullptr, nullptr, nullptr, nullptr, none, 0, 8,
                                                  16, GeluForm::Erf));
    EXPECT_NO_THROW(products->feedforward_backward(nullptr, no_grads, nullptr, nullptr, nullptr,
                                                   nullptr, nullptr, nullptr, none, 0, 8, 16,
                                                   GeluForm::Erf));
  }
  EXPECT_NO_THROW(cuda::gelu_forward_bf16(nullptr, nullptr, nullptr, 0, 16, GeluForm::Tanh));
  EXPECT_NO_THROW(cuda::gelu_backward_bf16(nullptr, nullptr, nullptr, nullptr, 0, 16, GeluForm::Tanh));
  EXPECT_NO_THROW(cuda::bias_backward_bf16(nullptr, nullptr, 0, 16));
  DeviceBuffer<Bf16> rows(64);
  DeviceBuffer<float> bias(16);
  auto refusal = [](auto call) -> std::string {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no refusal)";
  };
  EXPECT_NE(refusal([&] { cuda::gelu_forward_bf16(rows.data(), rows.data(), bias.data(), 2, 12, GeluForm::Erf); })
                .find("F must be a multiple of 8"),
            std::string::npos);
  EXPECT_NE(refusal([&] { cuda::gelu_backward_bf16(rows.data() + 1, rows.data(), rows.data(), bias.data(), 2, 16, GeluForm::Erf); })
                .find("dhidden must be 16-byte aligned"),
            std::string::npos);
  EXPECT_NE(refusal([&] { cuda::bias_backward_bf16(nullptr, rows.data(), 2, 16); })
                .find("dbias must not be null"),
            std::string::npos);
  EXPECT_NE(refusal([&] { cuda::gelu_forward_bf16(rows.data(), rows.data(), nullptr, -1, 16, GeluForm::Erf); })
                .find("N must be >= 0"),
            std::string::npos);
}

}  // namespace
}  // namespace gpt
