// chapters/10_fast_cpu/fast_matmul_test.cc — fast_matmul against the definition.
//
// Every combination of transposed operands, accumulate or not, 1, 2 or 3
// threads, on shapes that are and are not multiples of the tile (12 × 32)
// and the blocks (96, 128, 1024), with strides wider than the matrices.
// Reference: the triple loop in double. Tolerance 1e-5 · (1 + Σ_k |a·b|):
// float rounding of a length-K dot product, each term and partial sum off by
// at most u = 2^-24 of its size. All K roundings the same way would give
// K·u·Σ|a·b| (1.8e-5·Σ for K = 300); roundings fall either way, whatever the
// order or the instruction set, and their sum is ~√K·u·Σ|a·b| = 1e-6·Σ, so
// 1e-5 is ten of its standard deviations.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "chapters/10_fast_cpu/fast_matmul.h"
#include "common/aligned_vector.h"
#include "common/random.h"

namespace gpt {
namespace {

struct Shape {
  int M, N, K;
};

// n numbers drawn from N(0, 1).
std::vector<float> normals(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.normal(0.0f, 1.0f);
  return v;
}

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
                       ::testing::Values(1, 2, 3)));

// FusedWork gives the same bits as the separate passes it replaces: filling
// C's rows with the bias and accumulating the product onto them, and summing
// A's rows in order, one float add at a time (chapter 04's bias gradient).
// N = 1100 spans two column blocks (the bias's second part, and sums taken
// once, not once per block), K = 300 two k-blocks, and edge tiles in both.
TEST(FastMatmulFused, SameBitsAsTheSeparatePasses) {
  for (const Shape shape : {Shape{37, 53, 70}, Shape{97, 1100, 129}, Shape{200, 65, 300}}) {
    for (const bool trans_a : {false, true}) {
      for (const int threads : {1, 2}) {
        const int M = shape.M, N = shape.N, K = shape.K;
        SCOPED_TRACE(::testing::Message() << M << " x " << N << " x " << K << ", A transposed "
                                          << trans_a << ", " << threads << " threads");
        Rng rng(M + N + K);
        const int lda = (trans_a ? M : K) + 3, ldb = N + 2;
        std::vector<float> a(size_t(trans_a ? K : M) * lda), b(size_t(K) * ldb), bias(N);
        std::vector<float> sums(M);
        for (float& x : a) x = rng.normal(0.0f, 1.0f);
        for (float& x : b) x = rng.normal(0.0f, 1.0f);
        for (float& x : bias) x = rng.normal(0.0f, 1.0f);
        for (float& x : sums) x = rng.normal(0.0f, 1.0f);
        const MatrixView A{a.data(), lda, trans_a}, B{b.data(), ldb};

        std::vector<float> fused(size_t(M) * N), separate(size_t(M) * N);
        fast_matmul(fused.data(), N, A, B, M, N, K, false, threads, FusedWork{bias.data(), nullptr});
        for (int i = 0; i < M; ++i) std::copy(bias.begin(), bias.end(), separate.begin() + size_t(i) * N);
        fast_matmul(separate.data(), N, A, B, M, N, K, true, threads);
        for (size_t e = 0; e < fused.size(); ++e) {
          ASSERT_EQ(fused[e], separate[e]) << "C[" << e / N << ", " << e % N << "] with the bias";
        }

        std::vector<float> fused_sums = sums, separate_sums = sums;
        fast_matmul(fused.data(), N, A, B, M, N, K, true, threads,
                    FusedWork{nullptr, fused_sums.data()});
        for (int i = 0; i < M; ++i) {
          for (int k = 0; k < K; ++k) separate_sums[i] += A.at(i, k);
        }
        for (int i = 0; i < M; ++i) {
          ASSERT_EQ(fused_sums[i], separate_sums[i]) << "the sum of A's row " << i;
        }
      }
    }
  }
}

// Called by one thread inside a parallel region (threads = 1), the product
// computes all of C, whatever the size of the team around it.
TEST(FastMatmulEdges, OneThreadInsideAParallelRegionDoesAllOfC) {
  const int M = 97, N = 53, K = 70;
  Rng rng(4);
  const std::vector<float> a = normals(size_t(M) * K, rng), b = normals(size_t(K) * N, rng);
  std::vector<float> alone(size_t(M) * N);
  fast_matmul(alone.data(), N, MatrixView{a.data(), K}, MatrixView{b.data(), N}, M, N, K, false, 1);
  std::vector<std::vector<float>> in_team(2, std::vector<float>(size_t(M) * N, -1.0f));
  int team = 0;
#pragma omp parallel num_threads(2)
  {
    const int t = omp_get_thread_num();
#pragma omp single
    team = omp_get_num_threads();
    fast_matmul(in_team[t].data(), N, MatrixView{a.data(), K}, MatrixView{b.data(), N}, M, N, K,
                false, 1);
  }
  if (omp_get_thread_limit() < 2) GTEST_SKIP() << "OMP_THREAD_LIMIT allows no team of 2";
  ASSERT_EQ(team, 2) << "the test needs a team of 2 threads";
  EXPECT_EQ(in_team[0], alone);
  EXPECT_EQ(in_team[1], alone);
}

TEST(FastMatmulEdges, EmptyDepthWritesZerosOrLeavesC) {
  std::vector<float> c(6, 7.0f);
  const float a = 0, b = 0;
  fast_matmul(c.data(), 3, MatrixView{&a, 1}, MatrixView{&b, 3}, 2, 3, 0, true, 1);
  EXPECT_EQ(c, std::vector<float>(6, 7.0f));
  fast_matmul(c.data(), 3, MatrixView{&a, 1}, MatrixView{&b, 3}, 2, 3, 0, false, 1);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

// Whichever thread takes a unit of rows (shared_units.h), C is the same bits:
// 1 thread against 2, 3 and 4 (more threads than this machine's cores, so
// that some are late and others take their rows), over two k-blocks, with a
// row-major A and with a transposed one summing its rows on the way.
TEST(FastMatmulEdges, AnyThreadCountAgreesBitForBit) {
  const int M = 300, N = 200, K = 260;
  Rng rng(3);
  const std::vector<float> a = normals(size_t(M) * K, rng), b = normals(size_t(K) * N, rng);
  for (const bool trans_a : {false, true}) {
    const MatrixView A{a.data(), trans_a ? M : K, trans_a}, B{b.data(), N};
    std::vector<float> c1(size_t(M) * N), sums1(M, 0.0f);
    fast_matmul(c1.data(), N, A, B, M, N, K, false, 1, FusedWork{nullptr, sums1.data()});
    for (const int threads : {2, 3, 4}) {
      for (int repeat = 0; repeat < 20; ++repeat) {
        std::vector<float> c(size_t(M) * N), sums(M, 0.0f);
        fast_matmul(c.data(), N, A, B, M, N, K, false, threads, FusedWork{nullptr, sums.data()});
        ASSERT_EQ(c1, c) << threads << " threads, transposed A: " << trans_a << ", try " << repeat;
        ASSERT_EQ(sums1, sums) << threads << " threads, transposed A: " << trans_a;
      }
    }
  }
}

// B packed ahead (pack_whole_B) gives the bits of B packed by the product,
// on 1, 2 and 3 threads: B transposed (a weight, as the forward reads it)
// and row-major, over 3 k-blocks and 2 column blocks (K > 2 · 256, N > 1024)
// with edges in both, and over 2 column blocks of a single, shallower
// k-block (K < 256); accumulating and with a bias. M = 200 rows: 7 units of
// rows for the threads to share. A buffer filled with NaNs first: a panel
// float left unwritten, or read from the wrong block, shows.
class FastMatmulPackedB : public ::testing::TestWithParam<Shape> {};

TEST_P(FastMatmulPackedB, SameBitsAsPackingInTheProduct) {
  const auto [M, N, K] = GetParam();
  Rng rng(11 + K);
  const std::vector<float> a = normals(size_t(M) * K, rng), b = normals(size_t(K) * N, rng),
                           bias = normals(N, rng), c0 = normals(size_t(M) * N, rng);
  for (const bool trans_b : {true, false}) {
    const MatrixView A{a.data(), K}, B{b.data(), trans_b ? K : N, trans_b};
    AlignedVector<float> packed(packed_B_floats(N, K), std::nanf(""));  // 64-byte aligned
    pack_whole_B(packed.data(), B, N, K);
    for (const int threads : {1, 2, 3}) {
      for (const bool with_bias : {false, true}) {
        const FusedWork fused{with_bias ? bias.data() : nullptr, nullptr};
        std::vector<float> want = c0, got = c0;
        fast_matmul(want.data(), N, A, B, M, N, K, /*accumulate=*/true, threads, fused);
        fast_matmul(got.data(), N, A, B, M, N, K, /*accumulate=*/true, threads, fused,
                    packed.data());
        size_t differ = 0, first = 0;
        for (size_t i = 0; i < want.size(); ++i) {
          if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0 && differ++ == 0) first = i;
        }
        EXPECT_EQ(differ, 0u) << "transposed B " << trans_b << ", " << threads
                              << " threads, bias " << with_bias << ": first at row "
                              << first / N << ", column " << first % N << ": " << got[first]
                              << " instead of " << want[first];
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, FastMatmulPackedB,
                         ::testing::Values(Shape{200, 1100, 600}, Shape{200, 1100, 100}),
                         [](const auto& info) { return "K" + std::to_string(info.param.K); });

// fast_matmul_pair: each product the same bits as fast_matmul on one thread,
// whoever computed its rows. One product tiny and the other large (either
// way round), so that the thread done first may take rows of the other's,
// and two alike; 20 tries each as the scheduler has it, then 4 handed over,
// in which rows of every block of products[1] are certain to change hands
// and none of products[0]'s (whether rows change hands as the scheduler has
// it depends on how busy the machine is). Three kinds of product: the weight gradient's
// (a transposed A summing its rows, five k-blocks, adding into a C that
// holds numbers); more columns than one block of B (N > kNC), with a bias;
// fewer rows than one unit. (x86 keeps loads and stores in order, so a
// missing acquire or release would not fail here; a missing wait does.)
TEST(FastMatmulPair, EachProductIsFastMatmulsBitsOnOneThread) {
  struct Kind {
    int M, N, K_large;
    bool trans_a, accumulate, bias, row_sums;
  };
  // A team of one (OMP_THREAD_LIMIT=1, say) has no one to hand units to.
  omp_set_dynamic(0);  // the same team every time
  int team = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
  team = omp_get_num_threads();
  for (const Kind kind : {Kind{300, 200, 1100, true, true, false, true},
                          Kind{150, 1100, 600, false, false, true, false},
                          Kind{5, 40, 700, false, true, false, true}}) {
    const int M = kind.M, N = kind.N;
    Rng rng(M + N);
    struct Operands {
      int K;
      std::vector<float> a, b, c0;
    };
    const auto operands = [&](int K) {  // A (or Aᵀ), B and C's numbers before
      Operands o{K, normals(size_t(K) * M, rng), {}, {}};
      o.b = normals(size_t(K) * N, rng);
      o.c0 = normals(size_t(M) * N, rng);
      return o;
    };
    const std::vector<float> bias = normals(N, rng);
    const Operands tiny = operands(8), large = operands(kind.K_large),
                   other = operands(kind.K_large);
    const auto product = [&](const Operands& o, float* c, float* sums) {
      const MatrixView A = kind.trans_a ? MatrixView{o.a.data(), M, true} : MatrixView{o.a.data(), o.K};
      return Product{c, N, A, MatrixView{o.b.data(), N}, M, N, o.K, kind.accumulate,
                     FusedWork{kind.bias ? bias.data() : nullptr, kind.row_sums ? sums : nullptr}};
    };
    for (const auto& [first, second] :
         {std::pair{&tiny, &large}, {&large, &tiny}, {&large, &other}}) {
      const Operands* ops[2] = {first, second};
      std::vector<float> alone[2], sums_alone[2];
      for (int t = 0; t < 2; ++t) {
        alone[t] = ops[t]->c0, sums_alone[t].assign(M, 0.0f);
        fast_matmul(product(*ops[t], alone[t].data(), sums_alone[t].data()), 1);
      }
      for (int repeat = 0; repeat < 24; ++repeat) {
        const bool hand_over = repeat >= 20;
        std::vector<float> c[2], sums[2];
        Product pair[2];
        for (int t = 0; t < 2; ++t) {
          c[t] = ops[t]->c0, sums[t].assign(M, 0.0f);
          pair[t] = product(*ops[t], c[t].data(), sums[t].data());
        }
        const std::array<int, 2> taken = fast_matmul_pair(
            pair, hand_over ? PairSchedule::kHandOverEachBlock : PairSchedule::kAsTheyCome);
        if (hand_over && team == 2) {
          ASSERT_GE(taken[1], 1) << "no unit of products[1] changed hands, try " << repeat;
          ASSERT_EQ(taken[0], 0) << "units of products[0] changed hands, try " << repeat;
        }
        for (int t = 0; t < 2; ++t) {
          ASSERT_EQ(c[t], alone[t]) << M << " x " << N << ", product " << t << " of K = "
                                    << first->K << " and " << second->K << ", try " << repeat;
          ASSERT_EQ(sums[t], sums_alone[t]) << "product " << t << "'s row sums, try " << repeat;
        }
      }
    }
  }
}

// A team of one (here: the pair called inside a parallel region, with nested
// regions off) does both products in turn; an empty product is fast_matmul's.
TEST(FastMatmulPair, ATeamOfOneAndAnEmptyProduct) {
  const int M = 70, N = 90, K = 300;
  Rng rng(6);
  const std::vector<float> a = normals(size_t(M) * K, rng), b = normals(size_t(K) * N, rng);
  const MatrixView A{a.data(), K}, B{b.data(), N};
  std::vector<float> alone(size_t(M) * N);
  fast_matmul(alone.data(), N, A, B, M, N, K, false, 1);

  std::vector<float> c0(size_t(M) * N, -1.0f), c1(size_t(M) * N, -1.0f);
  const Product pair[2] = {Product{c0.data(), N, A, B, M, N, K, false, {}},
                           Product{c1.data(), N, A, B, M, N, K, false, {}}};
  const int levels = omp_get_max_active_levels();
  omp_set_max_active_levels(1);
#pragma omp parallel num_threads(2)
#pragma omp single
  {
    fast_matmul_pair(pair);
    // A hand-over has no one to hand to: it must not wait for one.
    fast_matmul_pair(pair, PairSchedule::kHandOverEachBlock);
  }
  omp_set_max_active_levels(levels);
  EXPECT_EQ(c0, alone);
  EXPECT_EQ(c1, alone);

  std::vector<float> empty(size_t(M) * N, 7.0f);
  const Product with_empty[2] = {Product{c0.data(), N, A, B, M, N, K, false, {}},
                                 Product{empty.data(), N, A, B, M, N, 0, false, {}}};
  fast_matmul_pair(with_empty);
  EXPECT_EQ(c0, alone);
  EXPECT_EQ(empty, std::vector<float>(size_t(M) * N, 0.0f)) << "an empty sum writes zeros";
}

}  // namespace
}  // namespace gpt
