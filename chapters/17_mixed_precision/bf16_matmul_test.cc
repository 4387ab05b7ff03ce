// chapters/17_mixed_precision/bf16_matmul_test.cc — chapter 17: every bf16 matmul version against the exact product.
//
// Inputs are standard normal rounded to bf16; out = A · Bᵀ from each version
// (and each candidate tile shape of versions 3 and 4) is compared with the product
// in double, element by element, within the bound bf16_reference.h derives.
// Shapes are awkward on purpose: not multiples of any tile (64, 128, 256) or
// of a warp's part, K a multiple of 8 but of no slice (32, 64), K long
// enough that versions 3 and 4's pipelines wrap around their stages several times,
// and a 1×1 product. The output buffer starts as NaN and has a guard of NaN
// after it: an element not written, or written past the end, fails. Runs on
// the GPU, or on the CPU emulator where the build is emulated (the default
// without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/bf16_reference.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using bf16_testing::exact_product;
using bf16_testing::matches_exact;
using bf16_testing::random_bf16;

struct Shape {
  int M, N, K;
};
const Shape kShapes[] = {{37, 65, 72}, {1, 1, 8}, {130, 260, 136}, {128, 128, 64},
                         {3, 200, 520}, {257, 129, 40}};
// K = 392: 7 slices of 64, so that every candidate's pipeline refills its stages.
const Shape kCandidateShapes[] = {{130, 136, 200}, {5, 300, 72}, {70, 260, 392}};

constexpr size_t kGuard = 64;  // NaN elements after out that nothing may write

// Runs `product` on fresh random inputs and checks out against the exact answer.
template <typename Product>
::testing::AssertionResult check(const Shape& s, const std::string& name, Product product) {
  const auto A = random_bf16(size_t(s.M) * s.K, 1000 + s.M);
  const auto B = random_bf16(size_t(s.N) * s.K, 2000 + s.N);
  const Bf16 nan = to_bf16(std::nanf(""));
  std::vector<Bf16> poisoned(size_t(s.M) * s.N + kGuard, nan);
  DeviceBuffer<Bf16> dA(A), dB(B), dout(poisoned);
  product(dout.data(), dA.data(), dB.data(), s.M, s.N, s.K);
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<Bf16> all = dout.to_host();
  for (size_t i = size_t(s.M) * s.N; i < all.size(); ++i) {
    if (all[i].bits != nan.bits) {
      return ::testing::AssertionFailure() << name << ": wrote past the end of out, at element "
                                           << i - size_t(s.M) * s.N << " after it";
    }
  }
  all.resize(size_t(s.M) * s.N);
  return matches_exact(all, exact_product(A, B, s.M, s.N, s.K), s.M, s.N, s.K, name);
}

class Bf16MatmulVersion : public ::testing::TestWithParam<int> {};

TEST_P(Bf16MatmulVersion, MatchesTheExactProduct) {
  GPU_TEST_REQUIRE_GPU();
  const int version = GetParam();
  if (!cuda::bf16_matmul_runs_here(version)) {
    GTEST_SKIP() << "version " << version << " needs an sm_90 GPU (H100, H200)";
  }
  for (const Shape& s : kShapes) {
    EXPECT_TRUE(check(s, "version " + std::to_string(version),
                      [&](Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
                        cuda::bf16_matmul(out, A, B, M, N, K, version);
                      }));
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, Bf16MatmulVersion,
                         ::testing::Range(1, cuda::kBf16MatmulVersions + 1),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

TEST(Bf16MatmulPipelined, EveryCandidateTileShapeMatches) {
  GPU_TEST_REQUIRE_GPU();
  namespace internal = cuda::bf16_matmul_internal;
  for (int i = 0; i < internal::pipelined_candidates(); ++i) {
    for (const Shape& s : kCandidateShapes) {
      EXPECT_TRUE(check(s, std::string("candidate ") + internal::pipelined_candidate_name(i),
                        [&](Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
                          internal::matmul_pipelined_candidate(i, out, A, B, M, N, K);
                        }));
    }
  }
}

// A linear layer on version 3: the bias and GELU fused into the store.
TEST(Bf16Linear, EpiloguesMatchTheExactLayer) {
  GPU_TEST_REQUIRE_GPU();
  for (const Shape& s : kShapes) {
    for (const cuda::Epilogue epilogue : {cuda::Epilogue::kNone, cuda::Epilogue::kBias,
                                          cuda::Epilogue::kBiasGelu}) {
      const auto A = random_bf16(size_t(s.M) * s.K, 3000 + s.M);
      const auto B = random_bf16(size_t(s.N) * s.K, 4000 + s.N);
      const auto bias = random_bf16(s.N, 5000 + s.N);
      const bool with_bias = epilogue != cuda::Epilogue::kNone;
      const bool gelu = epilogue == cuda::Epilogue::kBiasGelu;
      DeviceBuffer<Bf16> dA(A), dB(B), dbias(bias);
      DeviceBuffer<Bf16> dout(std::vector<Bf16>(size_t(s.M) * s.N, to_bf16(std::nanf(""))));
      cuda::bf16_linear(dout.data(), dA.data(), dB.data(), with_bias ? dbias.data() : nullptr,
                        s.M, s.N, s.K, epilogue);
      const std::string name = std::string("linear") + (with_bias ? " + bias" : "") +
                               (gelu ? ", GELU" : "");
      EXPECT_TRUE(matches_exact(dout.to_host(),
                                exact_product(A, B, s.M, s.N, s.K,
                                              with_bias ? bias : std::vector<Bf16>{}, gelu),
                                s.M, s.N, s.K, name));
    }
  }
}

// The check itself can fail: a product with one input element changed is
// caught, by its row and column.
TEST(Bf16MatmulCheck, CatchesOneWrongElement) {
  const Shape s{16, 8, 16};
  const auto A = random_bf16(size_t(s.M) * s.K, 1);
  const auto B = random_bf16(size_t(s.N) * s.K, 2);
  const auto exact = exact_product(A, B, s.M, s.N, s.K);
  std::vector<Bf16> out(size_t(s.M) * s.N);
  for (size_t i = 0; i < out.size(); ++i) out[i] = to_bf16(static_cast<float>(exact.value[i]));
  EXPECT_TRUE(matches_exact(out, exact, s.M, s.N, s.K, "rounded exact"));
  out[3 * s.N + 5] = to_bf16(static_cast<float>(exact.value[3 * s.N + 5]) + 0.25f);
  const auto result = matches_exact(out, exact, s.M, s.N, s.K, "one changed");
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("worst at [3, 5]"), std::string::npos)
      << result.message();
}

// Version 4's tile shapes, as parameterized tests defined last: they run
// after every other test of this program, so that a fault of a kernel not
// yet proven on a GPU cannot take the other tests' results with it.
class Bf16MatmulWgmmaCandidate : public ::testing::TestWithParam<int> {};

TEST_P(Bf16MatmulWgmmaCandidate, MatchesTheExactProduct) {
  GPU_TEST_REQUIRE_GPU();
  namespace internal = cuda::bf16_matmul_internal;
  if (!internal::wgmma_runs_here()) GTEST_SKIP() << "wgmma needs an sm_90 GPU (H100, H200)";
  const int i = GetParam();
  for (const Shape& s : kCandidateShapes) {
    EXPECT_TRUE(check(s, std::string("wgmma candidate ") + internal::wgmma_candidate_name(i),
                      [&](Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
                        internal::matmul_wgmma_candidate(i, out, A, B, M, N, K);
                      }));
  }
}

INSTANTIATE_TEST_SUITE_P(Candidates, Bf16MatmulWgmmaCandidate,
                         ::testing::Range(0, cuda::bf16_matmul_internal::wgmma_candidates()),
                         [](const auto& info) {
                           return std::string(cuda::bf16_matmul_internal::wgmma_candidate_name(
                               info.param));
                         });

}  // namespace
}  // namespace gpt
