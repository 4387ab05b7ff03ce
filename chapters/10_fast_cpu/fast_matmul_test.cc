// chapters/10_fast_cpu/fast_matmul_test.cc — fast_matmul against the definition.
//
// Every combination of transposed operands, accumulate or not, 1 or 2
// threads, on shapes that are and are not multiples of the tile (12 × 32)
// and the blocks (96, 128, 1024), with strides wider than the matrices.
// Reference: the triple loop in double. Tolerance 1e-5 · (1 + Σ_k |a·b|):
// float rounding of a length-K dot product, each term and partial sum off by
// at most u = 2^-24 of its size. All K roundings the same way would give
// K·u·Σ|a·b| (1.8e-5·Σ for K = 300); roundings fall either way, whatever the
// order or the instruction set, and their sum is ~√K·u·Σ|a·b| = 1e-6·Σ, so
// 1e-5 is ten of its standard deviations.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "chapters/10_fast_cpu/fast_matmul.h"
#include "common/random.h"

namespace gpt {
namespace {

struct Shape {
  int M, N, K;
};

class FastMatmul : public ::testing::TestWithParam<std::tuple<Shape, bool, bool, bool, int>> {};

TEST_P(FastMatmul, MatchesTheDefinition) {
  const auto [shape, trans_a, trans_b, accumulate, threads] = GetParam();
  const int M = shape.M, N = shape.N, K = shape.K;
  Rng rng(M * 131 + N * 17 + K);
  // Operands stored with 3 spare columns per row, transposed or not.
  const int lda = (trans_a ? M : K) + 3, ldb = (trans_b ? K : N) + 3, ldc = N + 5;
  std::vector<float> a(size_t(trans_a ? K : M) * lda), b(size_t(trans_b ? N : K) * ldb);
  std::vector<float> c(size_t(M) * ldc);
  for (float& x : a) x = rng.normal(0.0f, 1.0f);
  for (float& x : b) x = rng.normal(0.0f, 1.0f);
  for (float& x : c) x = rng.normal(0.0f, 1.0f);
  const std::vector<float> c0 = c;
  const MatrixView A{a.data(), lda, trans_a}, B{b.data(), ldb, trans_b};
  fast_matmul(c.data(), ldc, A, B, M, N, K, accumulate, threads);

  double worst = 0;  // in units of the tolerance
  int worst_i = 0, worst_j = 0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double sum = accumulate ? c0[size_t(i) * ldc + j] : 0.0, magnitude = std::abs(sum);
      for (int k = 0; k < K; ++k) {
        sum += double(A.at(i, k)) * B.at(k, j);
        magnitude += std::abs(double(A.at(i, k)) * B.at(k, j));
      }
      const double err = std::abs(c[size_t(i) * ldc + j] - sum) / (1e-5 * (1 + magnitude));
      if (err > worst) worst = err, worst_i = i, worst_j = j;
    }
    for (int j = N; j < ldc; ++j) {  // past N: untouched
      ASSERT_EQ(c[size_t(i) * ldc + j], c0[size_t(i) * ldc + j]) << "wrote outside C at " << i;
    }
  }
  EXPECT_LE(worst, 1.0) << "worst element C[" << worst_i << ", " << worst_j << "] is "
                        << worst << " tolerances off";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FastMatmul,
    ::testing::Combine(::testing::Values(Shape{1, 1, 1}, Shape{12, 32, 128}, Shape{37, 53, 70},
                                         Shape{64, 64, 32}, Shape{97, 1100, 129},
                                         Shape{200, 65, 300}),
                       ::testing::Bool(), ::testing::Bool(), ::testing::Bool(),
                       ::testing::Values(1, 2)));

TEST(FastMatmulEdges, EmptyDepthWritesZerosOrLeavesC) {
  std::vector<float> c(6, 7.0f);
  const float a = 0, b = 0;
  fast_matmul(c.data(), 3, MatrixView{&a, 1}, MatrixView{&b, 3}, 2, 3, 0, true, 1);
  EXPECT_EQ(c, std::vector<float>(6, 7.0f));
  fast_matmul(c.data(), 3, MatrixView{&a, 1}, MatrixView{&b, 3}, 2, 3, 0, false, 1);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

TEST(FastMatmulEdges, OneThreadAndTwoAgreeBitForBit) {
  const int M = 300, N = 200, K = 260;
  Rng rng(3);
  std::vector<float> a(size_t(M) * K), b(size_t(K) * N), c1(size_t(M) * N), c2(size_t(M) * N);
  for (float& x : a) x = rng.normal(0.0f, 1.0f);
  for (float& x : b) x = rng.normal(0.0f, 1.0f);
  fast_matmul(c1.data(), N, MatrixView{a.data(), K}, MatrixView{b.data(), N}, M, N, K, false, 1);
  fast_matmul(c2.data(), N, MatrixView{a.data(), K}, MatrixView{b.data(), N}, M, N, K, false, 2);
  EXPECT_EQ(c1, c2);
}

}  // namespace
}  // namespace gpt
