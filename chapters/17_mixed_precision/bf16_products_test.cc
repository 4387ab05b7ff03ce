// chapters/17_mixed_precision/bf16_products_test.cc — the GPT's bf16 format: its products, then the whole model on it.
//
// The products (bf16_products.h) are held to the exact answer for the
// operands they were given, rounded to bf16 first: the reference rounds the
// same fp32 inputs with the host's to_bf16 and sums in double. The output
// stays fp32, so the only error left is the fp32 sum's (bf16_reference.h):
//   |out − exact| <= (K' − 1)·2^-23·Σ|a·b| + 2^-23·(|bias| + |old|)
// K' is the padded length, the bias and an accumulated gradient's old value
// are added in fp32 once each. A transposed operand read the wrong way, a
// lost padding zero or an overwritten gradient is off by |exact| itself.
//
// The whole model on it cannot be held to an exact answer: every product's
// operands are rounded (relative error at most 2^-8 each, bf16's unit
// roundoff, so a product moves by at most about 2^-7·Σ|a·b|), and the errors
// pass through the layers. So the model is held to fp32 with a budget sized
// by the products in series: a forward of L blocks runs 6L + 1 of them
// (qkv, Q·Kᵀ, P·V, proj, fc, proj per block, the lm_head), each allowed 2^-7
// of its output's size, and stores L + 1 of their outputs in bf16 (fc's, the
// hidden layer, where the format runs the feed-forward whole, and the
// lm_head's, the logits), 2^-8 more each; the logits may then be off by
// (6L + 1)·2^-7 + (L + 1)·2^-8 of their norm, the gradients (twice the
// products in series) by twice that.
// A budget, not a proof: a product's error is bounded by its Σ|a·b|, not by
// its value, and a layer may amplify what it is given; but a wiring error
// (a wrong operand, a transpose read the wrong way) is off by the whole
// value, far outside it. And never by less than 2^-16: a "bf16" model that
// rounded nothing would match fp32 to ~1e-6 and fail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"
#include "chapters/14_cuda_gpt/kv_cache_generate.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/bf16_products.h"
#include "chapters/17_mixed_precision/bf16_reference.h"
#include "common/cuda/cuda_check.h"
#include "common/random.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

using bf16_testing::Exact;  // out[i, j] = Σ_k A[i, k]·B[j, k], in double, with Σ|a·b| beside it
using bf16_testing::exact_product;
using bf16_testing::transpose;
using bf16_testing::within_bounds;
using bf16_testing::within_sum_error;
using gpu_testing::random_floats;

struct Sizes {
  int N, IC, OC;
};
// K of every product not a multiple of 8 somewhere: IC (forward), OC (dinp), N (dweight).
const Sizes kSizes[] = {{5, 13, 37}, {33, 64, 24}, {70, 40, 9}, {1, 8, 65}};

using cuda::Bf16Matmul;
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

// Every shape on both products: this chapter's version 3 and cuBLASLt.
class Bf16ProductsTest : public ::testing::TestWithParam<std::tuple<Sizes, Bf16Matmul>> {
 protected:
  void SetUp() override {
    GPU_TEST_REQUIRE_GPU();
    if (!runs_here(std::get<1>(GetParam()))) GTEST_SKIP() << "version 4 needs an sm_90 GPU";
  }
  std::shared_ptr<cuda::ProductKernels> products() const {
    return cuda::bf16_products(std::get<1>(GetParam()));
  }
};

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16ProductsTest,
                         ::testing::Combine(::testing::ValuesIn(kSizes),
                                            ::testing::ValuesIn(kMatmuls)),
                         [](const auto& info) {
                           const Sizes& s = std::get<0>(info.param);
                           return std::string(name(std::get<1>(info.param))) + "_N" +
                                  std::to_string(s.N) + "_IC" + std::to_string(s.IC) + "_OC" +
                                  std::to_string(s.OC);
                         });

TEST_P(Bf16ProductsTest, ForwardIsTheExactProductOfTheRoundedOperands) {
  const auto [N, IC, OC] = std::get<0>(GetParam());
  const auto inp = random_floats(size_t(N) * IC, 1),
             weight = random_floats(size_t(OC) * IC, 2, 0.0f, 0.1f), bias = random_floats(OC, 3);
  DeviceBuffer<float> d_inp(inp), d_weight(weight), d_bias(bias), d_out(size_t(N) * OC);
  const Exact exact = exact_product(to_bf16(inp), to_bf16(weight), N, OC, IC);
  const auto products = this->products();
  products->linear_forward(d_out.data(), d_inp.data(), d_weight.data(), d_bias.data(), N, IC, OC);
  EXPECT_TRUE(within_sum_error(d_out.to_host(), exact, {}, bias, N, OC, IC, "out = inp·Wᵀ + b"));
  products->linear_forward(d_out.data(), d_inp.data(), d_weight.data(), nullptr, N, IC, OC);
  EXPECT_TRUE(within_sum_error(d_out.to_host(), exact, {}, {}, N, OC, IC, "out = inp·Wᵀ"));
}

TEST_P(Bf16ProductsTest, BackwardAddsTheExactProductsOfTheRoundedOperands) {
  const auto [N, IC, OC] = std::get<0>(GetParam());
  const auto inp = random_floats(size_t(N) * IC, 4),
             weight = random_floats(size_t(OC) * IC, 5, 0.0f, 0.1f),
             dout = random_floats(size_t(N) * OC, 6, 0.0f, 1e-3f);  // gradients are small: bf16 keeps fp32's range
  const auto old_dinp = random_floats(size_t(N) * IC, 7, 0.0f, 1e-3f),
             old_dweight = random_floats(size_t(OC) * IC, 8, 0.0f, 1e-3f),
             old_dbias = random_floats(OC, 9, 0.0f, 1e-3f);
  DeviceBuffer<float> d_inp(inp), d_weight(weight), d_dout(dout), d_dinp(old_dinp),
      d_dweight(old_dweight), d_dbias(old_dbias);
  products()->linear_backward(d_dinp.data(), d_dweight.data(), d_dbias.data(),
                                         d_dout.data(), d_inp.data(), d_weight.data(), N, IC, OC);
  // dinp += dout · W = dout (N, OC) · (Wᵀ (IC, OC))ᵀ
  const Exact dinp = exact_product(to_bf16(dout), to_bf16(transpose(weight, OC, IC)), N, IC, OC);
  EXPECT_TRUE(within_sum_error(d_dinp.to_host(), dinp, old_dinp, {}, N, IC, OC, "dinp += dout·W"));
  // dW += doutᵀ · inp = doutᵀ (OC, N) · (inpᵀ (IC, N))ᵀ
  const Exact dweight =
      exact_product(to_bf16(transpose(dout, N, OC)), to_bf16(transpose(inp, N, IC)), OC, IC, N);
  EXPECT_TRUE(within_sum_error(d_dweight.to_host(), dweight, old_dweight, {}, OC, IC, N,
                               "dW += doutᵀ·inp"));
  // db += Σ_n dout[n, :], in fp32: N adds, each off by 2^-24 of the running sum.
  const std::vector<float> dbias = d_dbias.to_host();
  for (int o = 0; o < OC; ++o) {
    double sum = old_dbias[o], size = std::fabs(old_dbias[o]);
    for (int n = 0; n < N; ++n) sum += dout[size_t(n) * OC + o], size += std::fabs(dout[size_t(n) * OC + o]);
    EXPECT_NEAR(dbias[o], sum, N * std::ldexp(size, -23) + 1e-30) << "dbias[" << o << "]";
  }
  // Without dinp and dbias (the first layer, a layer without bias) only dW is added to.
  products()->linear_backward(nullptr, d_dweight.data(), nullptr, d_dout.data(),
                                         d_inp.data(), d_weight.data(), N, IC, OC);
  std::vector<float> twice = old_dweight;
  Exact doubled = dweight;
  for (size_t i = 0; i < dweight.value.size(); ++i) {
    doubled.value[i] *= 2, doubled.size[i] *= 2;
  }
  EXPECT_TRUE(within_sum_error(d_dweight.to_host(), doubled, old_dweight, {}, OC, IC, N,
                               "dW added to twice"));
}

// lesson: loss_head_tolerance
// The fused loss head against a reference in double from the same rounded
// operands, x̂ = bf16(x) and Ŵ = bf16(W): s = x̂ · Ŵᵀ exactly, its softmax p,
// g = (p − onehot) / N. The kernel's logits z are s summed in fp32 and
// rounded to bf16, each off by at most δ = 2^-8·|s| + K'·2^-23·Σ|x̂·ŵ|.
// Through the loss, log Σ exp(z) − z_t moves by at most max δ + δ_t; through
// the softmax, every p_v by a factor within e^(±2·max δ). Each gradient
// element is then rounded to bf16 (2^-8 of itself), and the two backward
// products sum in fp32 (K'·2^-23 of Σ|a·b|). Twice the fp32 sums' part and
// 2^-20 of |loss| + |max s| cover the kernel's own fp32 arithmetic, which
// section 11's test holds to a much tighter bound.
struct HeadReference {
  std::vector<double> loss;        // (N)
  std::vector<double> loss_slack;  // (N): max δ + δ_t, and the kernel's fp32
  std::vector<double> g;           // (N, V): (p − onehot) / N
  std::vector<double> g_slack;     // (N, V): how far the kernel's bf16 g may be from g
};

HeadReference head_reference(const Exact& s, const std::vector<int32_t>& targets, int N, int C,
                             int V) {
  const double u = std::ldexp(1.0, -23), bf16_u = std::ldexp(1.0, -8);
  const int K = (C + 7) / 8 * 8;
  HeadReference r{std::vector<double>(N), std::vector<double>(N),
                  std::vector<double>(size_t(N) * V), std::vector<double>(size_t(N) * V)};
  for (int n = 0; n < N; ++n) {
    const double* z = s.value.data() + size_t(n) * V;
    const double* size = s.size.data() + size_t(n) * V;
    double m = z[0], widest = 0, sum = 0;
    for (int v = 0; v < V; ++v) {
      m = std::max(m, z[v]);
      widest = std::max(widest, bf16_u * std::fabs(z[v]) + 2 * K * u * size[v]);
    }
    for (int v = 0; v < V; ++v) sum += std::exp(z[v] - m);
    const int t = targets[n];
    r.loss[n] = std::log(sum) + m - z[t];
    r.loss_slack[n] = 2 * widest + std::ldexp(std::fabs(r.loss[n]) + std::fabs(m), -20);
    const double spread = std::expm1(2 * widest + std::ldexp(1.0, -20));  // p's relative change
    for (int v = 0; v < V; ++v) {
      const double p = std::exp(z[v] - m) / sum, g = (p - (v == t)) / N;
      r.g[size_t(n) * V + v] = g;
      r.g_slack[size_t(n) * V + v] = (1 + bf16_u) * spread * p / N + bf16_u * std::fabs(g);
    }
  }
  return r;
}
// end lesson

// got (M, N) == old + Σ_k a[m, k]·b[n, k], where a's elements are known only
// to within a_slack (b exact), and the sum is fp32 over K' terms.
::testing::AssertionResult within_slack(const std::vector<float>& got,
                                        const std::vector<float>& old,
                                        const std::vector<double>& a,
                                        const std::vector<double>& a_slack,
                                        const std::vector<float>& b, int M, int N, int K,
                                        const std::string& name) {
  const double u = std::ldexp(1.0, -23);
  const int Kp = (K + 7) / 8 * 8;
  std::vector<double> ratios(got.size());
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double want = old[size_t(m) * N + n], slack = 0, size = 0;
      for (int k = 0; k < K; ++k) {
        const double bk = b[size_t(n) * K + k];
        want += a[size_t(m) * K + k] * bk;
        slack += a_slack[size_t(m) * K + k] * std::fabs(bk);
        size += std::fabs(a[size_t(m) * K + k] * bk);
      }
      const size_t i = size_t(m) * N + n;
      const double allowed =
          slack + 2 * Kp * u * (size + slack) + u * std::fabs(old[i]) + 1e-30;
      ratios[i] = std::fabs(got[i] - want) / allowed;
    }
  }
  return within_bounds(got, ratios, M, N, K, name);
}

// The loss head of every shape as (N, C, V): the loss of each row, then dx
// and dW added to what they held, with the logits' memory one float off a
// 16-byte boundary (the format aligns its bf16 rows inside it) and exactly
// as long as the format asks (lent_floats), which is no more than the N·V
// floats of activations laid out for fp32.
TEST_P(Bf16ProductsTest, LossHeadIsTheLossOfTheRoundedProduct) {
  const auto [N, C, V] = std::get<0>(GetParam());
  const auto products = this->products();
  if (V < 16) {  // too few columns for the bf16 rows and their alignment in N·V floats
    EXPECT_FALSE(products->has_classifier_loss(V)) << "V = " << V;
    return;
  }
  ASSERT_TRUE(products->has_classifier_loss(V));
  const auto x = random_floats(size_t(N) * C, 21),
             weight = random_floats(size_t(V) * C, 22, 0.0f, 0.3f);
  // Gradients already holding values of their own size: an overwrite, not an add, fails.
  const auto old_dx = random_floats(size_t(N) * C, 23), old_dw = random_floats(size_t(V) * C, 24);
  const std::vector<int32_t> targets = gpu_testing::random_ids(N, V, 25);
  // The floats lent for the logits start one float past a 16-byte boundary
  // (that float and 8 before it, 8 after the lent ones, are guards that must
  // stay as they are): 12 bytes to the first boundary, the most there can be.
  constexpr int kGuard = 8;
  constexpr float kGuardValue = -12345.0f;
  const size_t lent = products->lent_floats(N, V);
  EXPECT_LE(lent, size_t(N) * V);
  std::vector<float> memory(lent + 2 * kGuard + 1, kGuardValue);
  DeviceBuffer<float> d_x(x), d_weight(weight), d_dx(old_dx), d_dw(old_dw), d_losses{size_t(N)},
      d_memory(memory);
  float* d_logits = d_memory.data() + kGuard + 1;
  DeviceBuffer<int32_t> d_targets(targets);

  const float mean = products->classifier_loss(d_losses.data(), d_logits, d_x.data(),
                                               d_weight.data(), d_targets.data(), N, C, V);
  const std::vector<Bf16> xb = to_bf16(x), wb = to_bf16(weight);
  const HeadReference ref = head_reference(exact_product(xb, wb, N, V, C), targets, N, C, V);
  const std::vector<float> losses = d_losses.to_host();
  double worst = -1, mean_ref = 0, mean_slack = 0;
  int worst_row = 0;
  for (int n = 0; n < N; ++n) {
    const double ratio = std::fabs(losses[n] - ref.loss[n]) / ref.loss_slack[n];
    if (!std::isnan(worst) && !(ratio <= worst)) worst = ratio, worst_row = n;  // a NaN stays
    mean_ref += ref.loss[n] / N, mean_slack += ref.loss_slack[n] / N;
  }
  std::printf("losses: the worst, row %d (%.6f against %.6f), used %.3f of its bound\n",
              worst_row, losses[worst_row], ref.loss[worst_row], worst);
  EXPECT_LE(worst, 1.0) << "row " << worst_row;
  EXPECT_NEAR(mean, mean_ref, mean_slack) << "the mean of the rows' losses";

  products->classifier_loss_backward(d_dx.data(), d_dw.data(), d_logits, d_x.data(),
                                     d_weight.data(), N, C, V);
  const std::vector<float> after = d_memory.to_host();
  for (int i = 0; i <= kGuard; ++i) EXPECT_EQ(after[i], kGuardValue) << "before the logits, " << i;
  for (size_t i = kGuard + 1 + lent; i < after.size(); ++i) {
    EXPECT_EQ(after[i], kGuardValue) << "past the logits' " << lent << " lent floats, at " << i;
  }
  // dx += g · Ŵ = g (N, V) · (Ŵᵀ (C, V))ᵀ; dW += gᵀ · x̂ = gᵀ (V, N) · (x̂ᵀ (C, N))ᵀ
  EXPECT_TRUE(within_slack(d_dx.to_host(), old_dx, ref.g, ref.g_slack,
                           transpose(to_float(wb), V, C), N, C, V, "dx += g·W"));
  EXPECT_TRUE(within_slack(d_dw.to_host(), old_dw, transpose(ref.g, N, V),
                           transpose(ref.g_slack, N, V), transpose(to_float(xb), N, C), V, C, N,
                           "dW += gᵀ·x"));
}

// The operands really are rounded: 1 + 2^-10 is no bf16 (the nearest is 1),
// so (1 + 2^-10)·1 comes out exactly 1. In fp32 it would be 1.0009766.
TEST(Bf16Products, RoundTheirOperandsToBf16) {
  GPU_TEST_REQUIRE_GPU();
  const std::vector<float> inp = {1.0f + std::ldexp(1.0f, -10)}, weight = {1.0f};
  DeviceBuffer<float> d_inp(inp), d_weight(weight), d_out(1);
  for (const Bf16Matmul matmul : {Bf16Matmul::kOurs, Bf16Matmul::kCublasLt}) {
    cuda::bf16_products(matmul)->linear_forward(d_out.data(), d_inp.data(), d_weight.data(),
                                                nullptr, 1, 1, 1);
    EXPECT_EQ(d_out.to_host()[0], 1.0f) << name(matmul);
  }
}

// ---------------------------------------------------------------------------
// The whole GPT on bf16 products against the same GPT in fp32.

GPTConfig small_config() {
  GPTConfig c;
  c.vocab_size = 37, c.embed_size = 64, c.max_length = 24, c.num_layers = 2, c.heads = 2;
  c.ff_dim = 3 * 64;
  return c;
}

double relative_difference(const float* a, const float* b, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

// lesson: model_tolerance
// (6L + 1) products in series in the forward, each allowed 2^-7 of its
// size (two operands, each rounded by at most 2^-8), and each output stored
// in bf16 2^-8 more: the logits, and each block's hidden layer where the
// format runs the feed-forward whole. Twice as much in the backward. Never
// less than 2^-16: that would be fp32.
double forward_tolerance(const GPTConfig& c, bool hidden_in_bf16 = true) {
  const int stored = (hidden_in_bf16 ? c.num_layers : 0) + 1;
  return (6 * c.num_layers + 1) * std::ldexp(1.0, -7) + stored * std::ldexp(1.0, -8);
}
double backward_tolerance(const GPTConfig& c, bool hidden_in_bf16 = true) {
  return 2 * forward_tolerance(c, hidden_in_bf16);
}
constexpr double kRoundsSomething = 0x1p-16;
// end lesson

class Bf16Gpt : public ::testing::TestWithParam<Bf16Matmul> {
 protected:
  void SetUp() override {
    GPU_TEST_REQUIRE_GPU();
    if (!runs_here(GetParam())) GTEST_SKIP() << "version 4 needs an sm_90 GPU";
  }
};

INSTANTIATE_TEST_SUITE_P(Products, Bf16Gpt,
                         ::testing::ValuesIn(kMatmuls),
                         [](const auto& info) { return std::string(name(info.param)); });

void expect_near_fp32(const GPTConfig& config, Bf16Matmul matmul, bool hidden_in_bf16);

// Twice: with F = 3C, which the format runs whole with its hidden layer in
// bf16 (feedforward_bf16.h), and with F = 3C + 4, no multiple of 8, which
// it declines: chapter 14's ops then run it on the format's linear layers.
TEST_P(Bf16Gpt, LogitsLossAndEveryGradientStayNearFp32) {
  for (const int F : {3 * 64, 3 * 64 + 4}) {
    GPTConfig config = small_config();
    config.ff_dim = F;
    SCOPED_TRACE("F = " + std::to_string(F));
    const bool whole = cuda::bf16_products(GetParam())->has_feedforward(F);
    std::printf("F = %d: the format runs the feed-forward whole: %s\n", F, whole ? "yes" : "no");
    EXPECT_EQ(whole, F % 8 == 0);
    expect_near_fp32(config, GetParam(), whole);
  }
}

void expect_near_fp32(const GPTConfig& config, Bf16Matmul matmul, bool hidden_in_bf16) {
  const int B = 3, T = 20;
  const double forward_allowed = forward_tolerance(config, hidden_in_bf16),
               backward_allowed = backward_tolerance(config, hidden_in_bf16);
  TrainingState fp32_state(config), bf16_state(config);
  Rng init(11);
  init_gpt2(fp32_state.model, init);
  bf16_state.model.params = fp32_state.model.params;
  cuda::GpuOptions bf16;
  bf16.products = cuda::bf16_products(matmul);
  cuda::CudaEngine fp32_engine(config, B, T), bf16_engine(config, B, T, bf16);
  const Batch batch{B, T, gpu_testing::random_ids(B * T, config.vocab_size, 1),
                    gpu_testing::random_ids(B * T, config.vocab_size, 2)};

  // The logits (B, T, V), in norm: the loss alone, near ln V for a model
  // just initialised, would hardly notice a wrong forward.
  cuda::DeviceModel device(config);
  device.upload(fp32_state.model);
  std::vector<float> logits[2];
  for (int format = 0; format < 2; ++format) {
    cuda::GpuActivations acts(config, B, T);
    cuda::gpt_forward(acts, batch.inputs.data(), device, B, T,
                      format == 0 ? cuda::GpuOptions{} : bf16);
    logits[format].resize(size_t(B) * T * config.vocab_size);
    CUDA_CHECK(cudaMemcpy(logits[format].data(), acts.logits, logits[format].size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
  }
  const double logits_difference =
      relative_difference(logits[1].data(), logits[0].data(), logits[0].size());
  std::printf("logits: relative difference %.2e (allowed %.2e, at least %.2e)\n",
              logits_difference, forward_allowed, kRoundsSomething);
  EXPECT_LE(logits_difference, forward_allowed);
  EXPECT_GE(logits_difference, kRoundsSomething) << "bf16 rounded nothing";

  Rng rng_a(5), rng_b(5);
  const AdamWConfig adamw;
  // lr 0: the step computes the gradients and changes nothing.
  const StepResult a = fp32_engine.step(fp32_state, batch, 0.0f, 0.0f, adamw, rng_a);
  const StepResult b = bf16_engine.step(bf16_state, batch, 0.0f, 0.0f, adamw, rng_b);
  const double loss_difference = std::fabs(a.loss - b.loss) / a.loss;
  std::printf("loss: fp32 %.7f, bf16 %.7f, relative difference %.2e (allowed %.2e)\n", a.loss,
              b.loss, loss_difference, forward_allowed);
  EXPECT_LE(loss_difference, forward_allowed);

  ParameterBuffer fp32_grads(config), bf16_grads(config);
  fp32_engine.download_grads(fp32_grads);
  bf16_engine.download_grads(bf16_grads);
  double largest = 0, all_diff = 0, all_norm = 0;
  for (const ParameterSlot& slot : fp32_grads.layout().slots()) {
    const double d = relative_difference(bf16_grads.data() + slot.offset,
                                         fp32_grads.data() + slot.offset, slot.numel);
    largest = std::max(largest, d);
    EXPECT_LE(d, backward_allowed) << slot.name;
    for (size_t i = 0; i < slot.numel; ++i) {
      const double x = fp32_grads.data()[slot.offset + i], y = bf16_grads.data()[slot.offset + i];
      all_diff += (x - y) * (x - y), all_norm += x * x;
    }
  }
  std::printf("gradients: largest relative difference of a tensor %.2e (allowed %.2e)\n", largest,
              backward_allowed);
  EXPECT_GE(std::sqrt(all_diff / all_norm), kRoundsSomething) << "bf16 rounded nothing";
}

// The bf16 format fuses the loss head (section 11's kernel on bf16 logits):
// its engine keeps no fp32 probs, (B, T, V) floats fewer, and evaluates
// from ln_f straight into the fused loss, near fp32's.
TEST_P(Bf16Gpt, TheLossHeadIsFusedAndKeepsNoFp32Probs) {
  const GPTConfig config = small_config();
  const int B = 3, T = 20, V = config.vocab_size;
  cuda::GpuOptions bf16;
  bf16.products = cuda::bf16_products(GetParam());
  EXPECT_TRUE(cuda::CudaOps(bf16).fuses_classifier_loss(V));
  EXPECT_FALSE(cuda::CudaOps().fuses_classifier_loss(V)) << "fp32 runs chapter 11's loss";
  ActivationLayout no_probs;
  no_probs.probs = false;
  cuda::GpuActivations with(config, B, T), without(config, B, T, no_probs);
  EXPECT_EQ(with.bytes() - without.bytes(), size_t(B) * T * V * sizeof(float));
  EXPECT_EQ(without.probs, nullptr);

  // A model whose logits spread wide (ln_f's weight ×20), so that the rows'
  // losses differ and a row read from the wrong place cannot pass for ln V.
  TrainingState state(config);
  Rng init(13);
  init_gpt2(state.model, init);
  float* ln_f_weight = state.model.params["ln_f.weight"];
  for (int c = 0; c < config.embed_size; ++c) ln_f_weight[c] *= 20.0f;
  const Batch batch{B, T, gpu_testing::random_ids(B * T, V, 4),
                    gpu_testing::random_ids(B * T, V, 5)};
  cuda::DeviceModel device(config);
  device.upload(state.model);
  std::vector<float> losses[2];
  for (int format = 0; format < 2; ++format) {
    cuda::GpuActivations acts(config, B, T, format == 0 ? ActivationLayout{} : no_probs);
    cuda::gpt_forward_loss(acts, batch.inputs.data(), batch.targets.data(), device, B, T,
                           format == 0 ? cuda::GpuOptions{} : bf16);
    losses[format].resize(size_t(B) * T);
    CUDA_CHECK(cudaMemcpy(losses[format].data(), acts.losses, losses[format].size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
  }
  double mean = 0, spread = 0;
  for (float l : losses[0]) mean += l / losses[0].size();
  for (float l : losses[0]) spread = std::max(spread, std::fabs(l - mean));
  double worst = 0;
  size_t worst_row = 0;
  for (size_t n = 0; n < losses[0].size(); ++n) {
    const double d = std::fabs(losses[1][n] - losses[0][n]) / losses[0][n];
    if (!std::isnan(worst) && !(d <= worst)) worst = d, worst_row = n;
  }
  std::printf("rows' losses: the worst, row %zu (bf16 %.6f, fp32 %.6f), relative difference "
              "%.2e (allowed %.2e); fp32's rows spread ±%.2f\n",
              worst_row, losses[1][worst_row], losses[0][worst_row], worst,
              forward_tolerance(config), spread);
  ASSERT_GE(spread, 1.0) << "the rows' losses hardly differ: the check would say little";
  EXPECT_LE(worst, forward_tolerance(config)) << "row " << worst_row;

  // The engine itself, whose activations carve no probs: its evaluation too.
  cuda::CudaEngine fp32_engine(config, B, T), bf16_engine(config, B, T, bf16);
  const float fp32_loss = fp32_engine.evaluate(state, batch);
  const float bf16_loss = bf16_engine.evaluate(state, batch);
  std::printf("evaluation: fp32 %.7f, bf16 %.7f\n", fp32_loss, bf16_loss);
  EXPECT_LE(std::fabs(bf16_loss - fp32_loss) / fp32_loss, forward_tolerance(config));
}

// The bf16 format with everything forwarded but attention on the heads in
// place: CudaOps splits and merges the heads around the same kernels.
class SplitHeadsFormat : public cuda::ProductKernels {
 public:
  explicit SplitHeadsFormat(std::shared_ptr<cuda::ProductKernels> f) : f_(std::move(f)) {}
  std::string precision() const override { return f_->precision(); }
  std::string name() const override { return f_->name() + ", heads split"; }
  size_t lent_floats(size_t rows, int columns) const override {
    return f_->lent_floats(rows, columns);
  }
  void linear_forward(float* out, const float* inp, const float* w, const float* b, int N, int IC,
                      int OC) override {
    f_->linear_forward(out, inp, w, b, N, IC, OC);
  }
  void linear_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                       const float* w, int N, int IC, int OC) override {
    f_->linear_backward(dinp, dw, db, dout, inp, w, N, IC, OC);
  }
  bool has_attention(int N, int T, int hs) const override { return f_->has_attention(N, T, hs); }
  void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                         int N, int T, int hs) override {
    f_->attention_forward(out, lse, q, k, v, N, T, hs);
  }
  void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                          const float* k, const float* v, const float* out, const float* lse,
                          int N, int T, int hs) override {
    f_->attention_backward(dq, dk, dv, dout, q, k, v, out, lse, N, T, hs);
  }
  bool has_classifier_loss(int V) const override { return f_->has_classifier_loss(V); }
  float classifier_loss(float* losses, float* logits, const float* x, const float* w,
                        const int32_t* targets, int N, int C, int V) override {
    return f_->classifier_loss(losses, logits, x, w, targets, N, C, V);
  }
  void classifier_loss_backward(float* dx, float* dw, const float* logits, const float* x,
                                const float* w, int N, int C, int V) override {
    f_->classifier_loss_backward(dx, dw, logits, x, w, N, C, V);
  }
  bool has_feedforward(int F) const override { return f_->has_feedforward(F); }
  void feedforward_forward(float* out, float* hidden, float* activated, const float* inp,
                           const FeedForwardParams& p, int N, int C, int F,
                           GeluForm form) override {
    f_->feedforward_forward(out, hidden, activated, inp, p, N, C, F, form);
  }
  void feedforward_backward(float* dinp, const FeedForwardGrads& g, float* dhidden,
                            float* dactivated, const float* dout, const float* inp,
                            const float* hidden, const float* activated,
                            const FeedForwardParams& p, int N, int C, int F,
                            GeluForm form) override {
    f_->feedforward_backward(dinp, g, dhidden, dactivated, dout, inp, hidden, activated, p, N, C,
                             F, form);
  }

 private:
  std::shared_ptr<cuda::ProductKernels> f_;
};

// Attention on the heads where they sit changes where numbers are read and
// written, never a number: a training step's loss, every gradient and an
// evaluation are the same, bit for bit, as with the heads split and merged
// around it, at the engines' batch and at a smaller one. The second engine
// keeps the split heads the first leaves out (activation_layout), 4·B·T·C
// floats a layer, which moves what follows by a multiple of 256 bytes at
// these shapes: on a GPU, cuBLASLt then picks the same algorithms for both.
TEST_P(Bf16Gpt, AttentionOnTheHeadsInPlaceChangesNoBit) {
  const GPTConfig config = small_config();
  const int B = 3, T = 20;
  const auto format = cuda::bf16_products(GetParam());
  ASSERT_TRUE(format->has_attention_in_place(B, T, config.embed_size, config.heads));
  cuda::GpuOptions in_place, split;
  in_place.products = format;
  split.products = std::make_shared<SplitHeadsFormat>(format);
  TrainingState state_a(config), state_b(config);
  Rng init(14);
  init_gpt2(state_a.model, init);
  state_b.model.params = state_a.model.params;
  cuda::CudaEngine engine_a(config, B, T, in_place), engine_b(config, B, T, split);
  // The engines' full batch, and a smaller one carved from the same memory.
  const Batch batch{B, T, gpu_testing::random_ids(B * T, config.vocab_size, 6),
                    gpu_testing::random_ids(B * T, config.vocab_size, 7)};
  const int b = B - 1, t = T - 3;
  const Batch smaller{b, t, gpu_testing::random_ids(b * t, config.vocab_size, 8),
                      gpu_testing::random_ids(b * t, config.vocab_size, 9)};
  for (const Batch* each : {&batch, &smaller}) {
    SCOPED_TRACE("B = " + std::to_string(each->B) + ", T = " + std::to_string(each->T));
    Rng rng_a(5), rng_b(5);
    const StepResult a = engine_a.step(state_a, *each, 0.0f, 0.0f, AdamWConfig{}, rng_a);
    const StepResult b = engine_b.step(state_b, *each, 0.0f, 0.0f, AdamWConfig{}, rng_b);
    EXPECT_EQ(a.loss, b.loss);
    ParameterBuffer grads_a(config), grads_b(config);
    engine_a.download_grads(grads_a);
    engine_b.download_grads(grads_b);
    size_t differ = 0;
    for (size_t i = 0; i < grads_a.size(); ++i) {
      if (std::memcmp(grads_a.data() + i, grads_b.data() + i, sizeof(float)) != 0) ++differ;
    }
    std::printf("B = %d, T = %d: loss %.7f both ways; %zu of %zu gradient elements differ\n",
                each->B, each->T, a.loss, differ, grads_a.size());
    EXPECT_EQ(differ, 0u);
    EXPECT_EQ(engine_a.evaluate(state_a, *each), engine_b.evaluate(state_b, *each));
  }

  // Activations laid out for the first format, run with other ops, are
  // refused, not run past their memory: the second format's, for the split
  // heads they do not keep; fp32's, for what it would write in fp32.
  cuda::DeviceModel device(config);
  device.upload(state_a.model);
  const auto refused = [&](const ActivationLayout& layout, const std::string& why,
                           const cuda::GpuOptions& options) {
    cuda::GpuActivations acts(config, B, T, layout);
    try {
      cuda::gpt_forward_loss(acts, batch.inputs.data(), batch.targets.data(), device, B, T,
                             options);
      ADD_FAILURE() << "ran where it should have been refused: " << why;
    } catch (const std::logic_error& e) {  // std::invalid_argument is one too
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  ActivationLayout lean = cuda::activation_layout(in_place, config, B, T);
  refused(lean, "keep no split heads", split);
  // fp32's ops: its loss head needs the probs a fused one leaves out, and
  // its feed-forward writes an fp32 hidden layer where half is lent.
  lean.block.attention.split_heads = true;
  refused(lean, "keep no probs", cuda::GpuOptions{});
  lean.probs = true;  // and (N, V) floats for the logits
  refused(lean, "laid out for another format", cuda::GpuOptions{});
}

// The bf16 engine keeps only what its ops read (CudaEngine's
// activation_layout): no split heads, as attention reads and writes the
// heads where they sit, and the hidden layer and the logits at what the
// format asks for them, half a float a value (bf16_products.cc's
// lent_floats). Exactly that many floats fewer than chapter 14's layout;
// and at GPT-2 small's training shape, the gibibytes the lesson quotes.
TEST_P(Bf16Gpt, TheEngineKeepsOnlyWhatItsOpsRead) {
  cuda::GpuOptions bf16;
  bf16.products = cuda::bf16_products(GetParam());
  const auto half = [](size_t rows, int columns) {  // bf16 rows of whole 16-byte pieces
    return rows * size_t((columns + 7) / 8 * 8) / 2 + 4;
  };
  const GPTConfig config = small_config();
  const int B = 3, T = 20, L = config.num_layers;
  const size_t N = size_t(B) * T, C = config.embed_size, F = config.ff_dim;
  const ActivationLayout lean = cuda::activation_layout(bf16, config, B, T);
  EXPECT_FALSE(lean.block.attention.weights);
  EXPECT_FALSE(lean.block.attention.split_heads);
  EXPECT_FALSE(lean.probs);
  ActivationLayout kept = cuda::layout_with_weights(false);  // chapter 14's, fused loss head
  kept.logsumexp = true;
  kept.probs = false;
  const size_t saved = L * (4 * N * C + 2 * (N * F - half(N, F))) +
                       (N * config.vocab_size - half(N, config.vocab_size));
  const size_t kept_floats = ActivationViews::floats(config, B, T, kept);
  EXPECT_EQ(kept_floats - ActivationViews::floats(config, B, T, lean), saved);
  cuda::GpuActivations acts(config, B, T, lean);
  EXPECT_EQ(acts.blocks[0].attn.q, nullptr);
  EXPECT_EQ(acts.blocks[0].mlp_activated, acts.blocks[0].mlp_hidden + half(N, F));
  // What each engine allocates, to the byte: the parameters, their
  // gradients and AdamW's two moments, the activations (and the token and
  // target ids), and the backward's scratch for one block (whose attention
  // weights no GPU backward reads).
  const auto engine_bytes = [&](const ActivationLayout& layout) {
    BlockLayout scratch = layout.block;
    scratch.attention.weights = false;
    const size_t floats = 4 * ParameterBuffer(config).size() +
                          ActivationViews::floats(config, B, T, layout) +
                          BackwardViews::floats(config, B, T, layout.probs, scratch);
    return floats * sizeof(float) + 2 * N * sizeof(int32_t);
  };
  const cuda::CudaEngine fp32_engine(config, B, T), bf16_engine(config, B, T, bf16);
  EXPECT_EQ(fp32_engine.device_bytes(),
            engine_bytes(cuda::activation_layout(cuda::GpuOptions{}, config, B, T)));
  EXPECT_EQ(bf16_engine.device_bytes(), engine_bytes(lean));
  std::printf("B = %d, T = %d: the engines hold %zu bytes in fp32, %zu in bf16\n", B, T,
              fp32_engine.device_bytes(), bf16_engine.device_bytes());

  GPTConfig gpt2;  // GPT-2 small, B = 8, T = 1024: counted, not allocated
  gpt2.vocab_size = 50257, gpt2.embed_size = 768, gpt2.max_length = 1024;
  gpt2.num_layers = 12, gpt2.heads = 12, gpt2.ff_dim = 3072;
  const auto gib = [&](const cuda::GpuOptions& o) {
    const ActivationLayout layout = cuda::activation_layout(o, gpt2, 8, 1024);
    const double floats = double(ActivationViews::floats(gpt2, 8, 1024, layout)) +
                          double(BackwardViews::floats(gpt2, 8, 1024, layout.probs, layout.block));
    return floats * sizeof(float) / double(size_t(1) << 30);
  };
  const double fp32 = gib(cuda::GpuOptions{}), in_bf16 = gib(bf16);
  std::printf("GPT-2 small, B = 8, T = 1024: activations and backward scratch %.2f GiB in fp32, "
              "%.2f GiB in bf16\n", fp32, in_bf16);
  EXPECT_NEAR(fp32, 12.06, 0.005);  // the lesson's figures (section 13)
  EXPECT_NEAR(in_bf16, 5.79, 0.005);
}

// Generation on bf16 products. The prefill runs the training forward's
// products and attention on the same rows, rounded the same way: its logits
// are the bf16 forward's, but for fp32 sums in another order. A decode step
// attends over the fp32 KV cache with chapter 14's fp32 kernel: its logits
// differ by the rounding of two products per block, a budget of 2L·2^-7.
TEST_P(Bf16Gpt, KvCacheGenerationFollowsTheBf16Forward) {
  const GPTConfig config = small_config();
  GPTModel model(config);
  Rng init(12);
  init_gpt2(model, init);
  cuda::GpuOptions bf16;
  bf16.products = cuda::bf16_products(GetParam());
  const std::vector<int32_t> text = gpu_testing::random_ids(9, config.vocab_size, 3);
  cuda::KVCacheGenerator whole(model, bf16), stepped(model, bf16);
  const std::vector<float> prefilled = whole.prefill(text);  // the last position's
  stepped.prefill(std::vector<int32_t>(text.begin(), text.end() - 1));
  const std::vector<float> decoded = stepped.decode(text.back());

  cuda::DeviceModel device(config);
  device.upload(model);
  const int T = static_cast<int>(text.size()), V = config.vocab_size;
  cuda::GpuActivations acts(config, 1, T);
  cuda::gpt_forward(acts, text.data(), device, 1, T, bf16);
  std::vector<float> full(V);
  CUDA_CHECK(cudaMemcpy(full.data(), acts.logits + size_t(T - 1) * V, V * sizeof(float),
                        cudaMemcpyDeviceToHost));
  const double p = relative_difference(prefilled.data(), full.data(), V);
  const double d = relative_difference(decoded.data(), full.data(), V);
  const double decode_allowed = 2 * config.num_layers * std::ldexp(1.0, -7);
  std::printf("against the full forward: prefill %.2e (allowed 1e-5), decode %.2e (allowed %.2e)\n",
              p, d, decode_allowed);
  EXPECT_LE(p, 1e-5);
  EXPECT_LE(d, decode_allowed);
}

}  // namespace
}  // namespace gpt
