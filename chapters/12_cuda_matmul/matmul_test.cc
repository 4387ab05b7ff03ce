// chapters/12_cuda_matmul/matmul_test.cc — chapter 12: every matmul version against cuBLAS and the CPU.
//
// Inputs are standard normal; C = A·B is computed by each version, by cuBLAS
// (fp32, TF32 off) and by Eigen on the CPU, and compared element by element.
// Tolerance: |gpu − expected| <= atol + rtol·|expected| with rtol = 1e-4 and
// atol = 1e-4. The atol is for elements near 0: a sum of K products of
// size ~1 carries rounding errors of ~1e-6 · sqrt(K) whatever its value.
// Shapes are awkward on purpose: not multiples of any tile (32, 64, 128),
// of a warp, or of 4 (the float4 paths), plus a 1×1×1 product and an exact
// multiple of every tile. Runs on the GPU, or on the CPU emulator where the
// build is emulated (the default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/12_cuda_matmul/matmul.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"
#include "common/eigen_maps.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using gpu_testing::dims;
using gpu_testing::poison;
using gpu_testing::random_floats;

const Tolerance kMatmul{1e-4, 1e-4};

struct Shape {
  int M, N, K;
  std::string name() const {
    return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
  }
};
const Shape kShapes[] = {{127, 65, 33}, {1, 1, 1}, {257, 513, 129}, {256, 128, 64},
                         {3, 130, 517}, {129, 7, 1000}};

// C = A · B on the CPU, with Eigen.
std::vector<float> cpu_matmul(const std::vector<float>& A, const std::vector<float>& B, int M,
                              int N, int K) {
  std::vector<float> C(size_t(M) * N);
  MatrixMap(C.data(), M, N).noalias() = ConstMatrixMap(A.data(), M, K) *
                                        ConstMatrixMap(B.data(), K, N);
  return C;
}

class Matmul : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
  int version() const { return GetParam(); }
  std::string label(const Shape& s) const {
    return "matmul v" + std::to_string(version()) + " " + s.name();
  }
};

INSTANTIATE_TEST_SUITE_P(Versions, Matmul, ::testing::Range(1, cuda::kMatmulVersions + 1),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

TEST_P(Matmul, MatchesCpuAndCublas) {
  for (const Shape& s : kShapes) {
    const std::vector<float> A = random_floats(size_t(s.M) * s.K, 1);
    const std::vector<float> B = random_floats(size_t(s.K) * s.N, 2);
    const std::vector<float> expected = cpu_matmul(A, B, s.M, s.N, s.K);
    DeviceBuffer<float> dA(A), dB(B), dC(poison(size_t(s.M) * s.N)), dRef(size_t(s.M) * s.N);
    cuda::matmul(dC.data(), dA.data(), dB.data(), s.M, s.N, s.K, version());
    cuda::matmul_cublas(dRef.data(), dA.data(), dB.data(), s.M, s.N, s.K);
    const std::vector<float> result = dC.to_host();
    EXPECT_MATCHES_CPU(result, expected, dims(s.M, s.N), label(s) + " vs cpu", kMatmul);
    EXPECT_MATCHES_CPU(result, dRef.to_host(), dims(s.M, s.N), label(s) + " vs cublas", kMatmul);
  }
}

TEST_P(Matmul, UnalignedViews) {
  // A, B and C start one float into their buffers: no longer 16-byte aligned,
  // so the float4 paths of versions 6 to 8 must fall back to floats.
  const Shape s{67, 68, 36};
  const std::vector<float> A = random_floats(size_t(s.M) * s.K + 1, 3);
  const std::vector<float> B = random_floats(size_t(s.K) * s.N + 1, 4);
  const std::vector<float> expected =
      cpu_matmul(std::vector<float>(A.begin() + 1, A.end()),
                 std::vector<float>(B.begin() + 1, B.end()), s.M, s.N, s.K);
  DeviceBuffer<float> dA(A), dB(B), dC(poison(size_t(s.M) * s.N + 1));
  cuda::matmul(dC.data() + 1, dA.data() + 1, dB.data() + 1, s.M, s.N, s.K, version());
  const std::vector<float> result = dC.to_host();
  EXPECT_TRUE(std::isnan(result[0])) << "the float before the view was written";
  EXPECT_MATCHES_CPU(std::vector<float>(result.begin() + 1, result.end()), expected,
                     dims(s.M, s.N), label(s) + " unaligned", kMatmul);
}

TEST_P(Matmul, IdentityGivesBackA) {
  // A property: A · I = A exactly (every sum has one nonzero term).
  const int M = 45, K = 70;
  const std::vector<float> A = random_floats(size_t(M) * K, 5);
  std::vector<float> I(size_t(K) * K, 0.0f);
  for (int i = 0; i < K; ++i) I[size_t(i) * K + i] = 1.0f;
  DeviceBuffer<float> dA(A), dI(I), dC(poison(size_t(M) * K));
  cuda::matmul(dC.data(), dA.data(), dI.data(), M, K, K, version());
  EXPECT_EQ(dC.to_host(), A);
}

// Version 8 runs its default tile shape above; the benchmark times every
// candidate shape, so each must be right too — on the awkward shapes and on
// unaligned views (the float4 fallbacks).
TEST(DoubleBufferCandidates, EachMatchesCpu) {
  GPU_TEST_REQUIRE_GPU();
  using namespace cuda::matmul_internal;
  for (int i = 0; i < double_buffer_candidates(); ++i) {
    const std::string name = std::string("matmul v8 candidate ") + double_buffer_candidate_name(i);
    for (const Shape& s : kShapes) {
      const std::vector<float> A = random_floats(size_t(s.M) * s.K + 1, 8);
      const std::vector<float> B = random_floats(size_t(s.K) * s.N + 1, 9);
      DeviceBuffer<float> dA(A), dB(B);
      for (const int offset : {0, 1}) {
        DeviceBuffer<float> dC(poison(size_t(s.M) * s.N + 1));  // NaN: unwritten elements show
        const std::vector<float> expected =
            cpu_matmul(std::vector<float>(A.begin() + offset, A.begin() + offset + s.M * s.K),
                       std::vector<float>(B.begin() + offset, B.begin() + offset + s.K * s.N),
                       s.M, s.N, s.K);
        matmul_double_buffer_candidate(i, dC.data() + offset, dA.data() + offset,
                                       dB.data() + offset, s.M, s.N, s.K);
        const std::vector<float> result = dC.to_host();
        EXPECT_MATCHES_CPU(std::vector<float>(result.begin() + offset,
                                              result.begin() + offset + s.M * s.N),
                           expected, dims(s.M, s.N),
                           name + " " + s.name() + (offset ? " unaligned" : ""), kMatmul);
      }
    }
  }
  EXPECT_THROW(double_buffer_candidate_name(double_buffer_candidates()), std::invalid_argument);
}

// gemm splits K where a product has too few tiles for the GPU (split_k.h):
// a 70×33 product is one tile, so K = 1500 is shared by several layers of
// blocks, whose partial tiles sum_partials adds with the bias and C's old
// value. Each transpose, with and without those two.
TEST(SplitK, GemmMatchesCpu) {
  GPU_TEST_REQUIRE_GPU();
  using namespace cuda::matmul_internal;
  const int M = 70, N = 33, K = 1500;
  const int splits = double_buffer_split(M, N, K).splits;
  ASSERT_GT(splits, 1) << "no split to test";
  // The scratch buffer outlives each product: NaN it first, so that a partial
  // tile left unwritten cannot borrow the previous product's.
  const auto poison_partials = [&](int layers) {
    const size_t n = size_t(layers) * M * N;
    CUDA_CHECK(cudaMemset(partials_workspace(n), 0xff, n * sizeof(float)));
  };
  const std::vector<float> A = random_floats(size_t(M) * K, 10);  // (M, K) or, transposed, (K, M)
  const std::vector<float> B = random_floats(size_t(K) * N, 11);  // (K, N) or (N, K)
  const std::vector<float> bias = random_floats(N, 12);
  const std::vector<float> old = random_floats(size_t(M) * N, 13);
  DeviceBuffer<float> dA(A), dB(B), dbias(bias);
  for (const auto& [trans_a, trans_b] : {std::pair{false, false}, {false, true}, {true, false}}) {
    for (const bool extras : {false, true}) {
      RowMatrix opA = trans_a ? RowMatrix(ConstMatrixMap(A.data(), K, M).transpose())
                              : RowMatrix(ConstMatrixMap(A.data(), M, K));
      RowMatrix opB = trans_b ? RowMatrix(ConstMatrixMap(B.data(), N, K).transpose())
                              : RowMatrix(ConstMatrixMap(B.data(), K, N));
      RowMatrix expected = opA * opB;  // (M, N)
      if (extras) {
        expected.rowwise() += ConstMatrixMap(bias.data(), 1, N).row(0);
        expected += ConstMatrixMap(old.data(), M, N);
      }
      DeviceBuffer<float> dC(extras ? old : poison(size_t(M) * N));
      cuda::Gemm options;
      options.trans_a = trans_a;
      options.trans_b = trans_b;
      options.accumulate = extras;
      options.bias = extras ? dbias.data() : nullptr;
      poison_partials(splits);
      cuda::gemm(dC.data(), dA.data(), dB.data(), M, N, K, options);
      const std::string label = std::string("gemm split-K ") + (trans_a ? "T" : "N") +
                                (trans_b ? "T" : "N") + (extras ? " +bias +C" : "");
      EXPECT_MATCHES_CPU(dC.to_host(), std::vector<float>(expected.data(), expected.data() + M * N),
                         dims(M, N), label, kMatmul);
    }
  }
  // The layer counts the benchmark forces, down to one 16-deep slice a layer.
  const std::vector<float> expected = cpu_matmul(A, B, M, N, K);
  for (const int layers : {1, 2, 7, 94}) {
    DeviceBuffer<float> dC(poison(size_t(M) * N));
    poison_partials(layers);
    matmul_double_buffer(dC.data(), dA.data(), dB.data(), M, N, K, false, false, false, nullptr,
                         layers);
    EXPECT_MATCHES_CPU(dC.to_host(), expected, dims(M, N),
                       "matmul v8 in " + std::to_string(layers) + " layers", kMatmul);
  }
}

TEST(Cublas, MatchesCpu) {
  GPU_TEST_REQUIRE_GPU();
  const Shape s{127, 65, 33};
  const std::vector<float> A = random_floats(size_t(s.M) * s.K, 6);
  const std::vector<float> B = random_floats(size_t(s.K) * s.N, 7);
  DeviceBuffer<float> dA(A), dB(B), dC(poison(size_t(s.M) * s.N));
  cuda::matmul_cublas(dC.data(), dA.data(), dB.data(), s.M, s.N, s.K);
  EXPECT_MATCHES_CPU(dC.to_host(), cpu_matmul(A, B, s.M, s.N, s.K), dims(s.M, s.N),
                     "cublas " + s.name() + " vs cpu", kMatmul);
}

}  // namespace
}  // namespace gpt
