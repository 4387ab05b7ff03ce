// chapters/13_cuda_attention/attention_test.cc — chapter 13: naive and fused attention against chapters 03 and 08.
//
// Random q, k, v, dout (standard normal); the CPU computes chapter 03's
// attention_forward and chapter 08's attention_backward, the GPU the naive
// and the fused versions, and every output is compared element by element:
// out, the weights (naive), the logsumexp (fused, against one computed in
// double on the CPU), dq, dk and dv. The backward ADDS: the gradients start
// from the same random values on both sides.
// Tolerance: |gpu − cpu| <= atol + rtol·|cpu|, atol = 1e-5, rtol = 1e-4 (fp32
// sums of up to T = 1024 terms taken in another order; the fused kernels
// also fold 1/√hs into q before the dot product).
// T = 1, 7, 64, 100, 1024 (a single position, less than a tile, exactly one
// tile, tiles cut by the end, many tiles) and hs = 32, 64.
// Runs on the GPU, or on the CPU emulator where the build is emulated (the
// default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "chapters/03_attention/attention.h"
#include "chapters/08_backward/attention_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/13_cuda_attention/attention.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using gpu_testing::dims;
using gpu_testing::poison;
using gpu_testing::random_floats;

const Tolerance kAttention{1e-5, 1e-4};

// Everything the CPU computes for one (N, T, hs) case.
struct Case {
  int N, T, hs;
  std::vector<float> q, k, v, dout, dq0, dk0, dv0;  // inputs, and the gradients' start values
  std::vector<float> out, weights, lse, dq, dk, dv;  // expected
  Case(int N_, int T_, int hs_) : N(N_), T(T_), hs(hs_) {
    const size_t n = size_t(N) * T * hs;
    q = random_floats(n, 1), k = random_floats(n, 2), v = random_floats(n, 3);
    dout = random_floats(n, 4);
    dq0 = random_floats(n, 5), dk0 = random_floats(n, 6), dv0 = random_floats(n, 7);
    out.resize(n), weights.resize(size_t(N) * T * T);
    attention_forward(out.data(), weights.data(), q.data(), k.data(), v.data(), N, T, hs);
    dq = dq0, dk = dk0, dv = dv0;
    attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                       weights.data(), N, T, hs);
    // lse[t] = log Σ_{s<=t} exp(q_t · k_s / √hs), in double.
    lse.resize(size_t(N) * T);
    const double scale = 1.0 / std::sqrt(double(hs));
    for (int row = 0; row < N * T; ++row) {
      const int seq = row / T, t = row % T;
      std::vector<double> s(t + 1);
      for (int j = 0; j <= t; ++j) {
        double dot = 0.0;
        for (int d = 0; d < hs; ++d) {
          dot += double(q[size_t(row) * hs + d]) * k[(size_t(seq) * T + j) * hs + d];
        }
        s[j] = dot * scale;
      }
      const double m = *std::max_element(s.begin(), s.end());
      double sum = 0.0;
      for (const double x : s) sum += std::exp(x - m);
      lse[row] = static_cast<float>(m + std::log(sum));
    }
  }
  std::string name(const std::string& what) const {
    return what + " N=" + std::to_string(N) + " T=" + std::to_string(T) +
           " hs=" + std::to_string(hs);
  }
};

class Attention : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
  int T() const { return std::get<0>(GetParam()); }
  int hs() const { return std::get<1>(GetParam()); }
  int N() const { return T() >= 512 ? 2 : 3; }  // B·H sequences; fewer when the CPU side is slow
};

INSTANTIATE_TEST_SUITE_P(Sizes, Attention,
                         ::testing::Combine(::testing::Values(1, 7, 64, 100, 1024),
                                            ::testing::Values(32, 64)),
                         [](const auto& info) {
                           return "T" + std::to_string(std::get<0>(info.param)) + "_hs" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST_P(Attention, NaiveMatchesCpu) {
  const Case c(N(), T(), hs());
  const size_t n = c.q.size();
  DeviceBuffer<float> q(c.q), k(c.k), v(c.v), dout(c.dout);
  DeviceBuffer<float> out(poison(n)), weights(poison(size_t(c.N) * c.T * c.T));
  cuda::attention_forward(out.data(), weights.data(), q.data(), k.data(), v.data(), c.N, c.T,
                          c.hs);
  EXPECT_MATCHES_CPU(out.to_host(), c.out, dims(c.N, c.T, c.hs), c.name("naive out"), kAttention);
  EXPECT_MATCHES_CPU(weights.to_host(), c.weights, dims(c.N, c.T, c.T), c.name("naive weights"),
                     kAttention);
  DeviceBuffer<float> dq(c.dq0), dk(c.dk0), dv(c.dv0);
  cuda::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(),
                           v.data(), weights.data(), c.N, c.T, c.hs);
  EXPECT_MATCHES_CPU(dq.to_host(), c.dq, dims(c.N, c.T, c.hs), c.name("naive dq"), kAttention);
  EXPECT_MATCHES_CPU(dk.to_host(), c.dk, dims(c.N, c.T, c.hs), c.name("naive dk"), kAttention);
  EXPECT_MATCHES_CPU(dv.to_host(), c.dv, dims(c.N, c.T, c.hs), c.name("naive dv"), kAttention);
}

TEST_P(Attention, FusedMatchesCpu) {
  const Case c(N(), T(), hs());
  const size_t n = c.q.size();
  DeviceBuffer<float> q(c.q), k(c.k), v(c.v), dout(c.dout);
  DeviceBuffer<float> out(poison(n)), lse(poison(size_t(c.N) * c.T));
  cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), c.N, c.T,
                                c.hs);
  EXPECT_MATCHES_CPU(out.to_host(), c.out, dims(c.N, c.T, c.hs), c.name("fused out"), kAttention);
  EXPECT_MATCHES_CPU(lse.to_host(), c.lse, dims(c.N, c.T), c.name("fused lse"), kAttention);
  DeviceBuffer<float> dq(c.dq0), dk(c.dk0), dv(c.dv0);
  cuda::flash_attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(),
                                 v.data(), out.data(), lse.data(), c.N, c.T, c.hs);
  EXPECT_MATCHES_CPU(dq.to_host(), c.dq, dims(c.N, c.T, c.hs), c.name("fused dq"), kAttention);
  EXPECT_MATCHES_CPU(dk.to_host(), c.dk, dims(c.N, c.T, c.hs), c.name("fused dk"), kAttention);
  EXPECT_MATCHES_CPU(dv.to_host(), c.dv, dims(c.N, c.T, c.hs), c.name("fused dv"), kAttention);
}

TEST(NaiveAttention, AnyHeadSize) {
  // The naive kernels loop over hs at run time: hs = 17 works too.
  GPU_TEST_REQUIRE_GPU();
  const Case c(2, 37, 17);
  DeviceBuffer<float> q(c.q), k(c.k), v(c.v);
  DeviceBuffer<float> out(poison(c.q.size())), weights(poison(size_t(c.N) * c.T * c.T));
  cuda::attention_forward(out.data(), weights.data(), q.data(), k.data(), v.data(), c.N, c.T,
                          c.hs);
  EXPECT_MATCHES_CPU(out.to_host(), c.out, dims(c.N, c.T, c.hs), c.name("naive out"), kAttention);
}

TEST(FusedAttention, FirstPositionCopiesItsValue) {
  // A property: position 0 attends only to itself, so out[0] = v[0] and lse[0] = q0·k0/√hs.
  GPU_TEST_REQUIRE_GPU();
  const int N = 2, T = 5, hs = 32;
  const std::vector<float> hq = random_floats(size_t(N) * T * hs, 8);
  const std::vector<float> hk = random_floats(hq.size(), 9), hv = random_floats(hq.size(), 10);
  DeviceBuffer<float> q(hq), k(hk), v(hv), out(poison(hq.size())), lse(poison(size_t(N) * T));
  cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), N, T, hs);
  const std::vector<float> result = out.to_host();
  for (int n = 0; n < N; ++n) {
    for (int d = 0; d < hs; ++d) {
      const size_t i = size_t(n) * T * hs + d;
      EXPECT_NEAR(result[i], hv[i], 1e-6) << "sequence " << n << ", d " << d;
    }
  }
}

}  // namespace
}  // namespace gpt
