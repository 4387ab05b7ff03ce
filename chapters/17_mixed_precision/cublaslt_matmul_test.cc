// chapters/17_mixed_precision/cublaslt_matmul_test.cc — chapter 17: cuBLASLt's bf16 linear layer against the CPU.
//
// Inputs are standard normal, rounded to bf16; the reference is computed on
// the CPU in double from those same bf16 values, with no rounding at all:
// s = Σ_k a_k · b_k, x = s [+ bias], ref = x [or GELU(x), tanh form]. Each
// element of the GPU's bf16 result must satisfy
//
//   |gpu − ref| <= 2^-8 · |ref| + K · 2^-22 · Σ_k |a_k · b_k|  [+ e]
//
// 2^-8 · |ref| is the final rounding to bf16: half a step of its 8-bit
// significand, 2^-8 relative just above a power of two. K · 2^-22 · Σ|a_k b_k|
// bounds fp32 accumulation: each of the K additions rounds by at most 2^-24
// of a partial sum no larger than Σ_k |a_k · b_k|, with a factor 4 of room for
// the tensor cores' own order. e is for the epilogues: cuBLASLt does not always
// add the bias to the fp32 sum. Its split-K algorithms, and some kernels it
// picks for small shapes with GELU, round s to bf16 first (on an H200 with
// CUDA 13.0 their results were bf16(bf16(s) + bias), bit for bit), and its
// GELU uses an approximate tanh. So e = 2^-8 · |s| with the bias, and
// 1.13 · 2^-8 · (|s| + |x|) with bias and GELU (GELU's slope is at most 1.13).
// On the CPU emulator everything is exact, in double, and rounded once.
// Shapes are awkward on purpose (1×1×1, not multiples of any tile, odd K),
// plus one that is an exact multiple of the usual tiles and one that cuBLASLt
// splits along K. Each fp32 product is also read from operands stored either
// way, K along their rows or down their columns (Bf16Operand), past which
// every value is NaN. Runs on the GPU, or
// on the CPU emulator where the build is emulated (see common/testing/gpu.h).
#include "chapters/17_mixed_precision/cublaslt_matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_reference.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using cuda::Epilogue;
using cuda::matmul_cublaslt_bf16;

struct Shape {
  int M, N, K;
  std::string name() const {
    return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
  }
};
// 16×177×33: on an H200 the heuristic splits its K sum into parts, which it
// adds in bf16 unless told to add them in fp32 (REDUCTION_SCHEME_MASK, which
// the wrapper sets): this shape keeps that setting honest.
const Shape kShapes[] = {{1, 1, 1}, {37, 65, 129}, {128, 96, 64}, {3, 200, 17}, {16, 177, 33}};
const Epilogue kEpilogues[] = {Epilogue::kNone, Epilogue::kBias, Epilogue::kBiasGelu};

std::string epilogue_name(Epilogue e) {
  switch (e) {
    case Epilogue::kNone: return "none";
    case Epilogue::kBias: return "bias";
    case Epilogue::kBiasGelu: return "bias+gelu";
  }
  return "?";
}

using bf16_testing::gelu_tanh;    // bf16_reference.h
using bf16_testing::random_bf16;  // n standard normal values, rounded to bf16

// The exact answer and each element's tolerance (the top of this file).
struct Reference {
  std::vector<double> out;  // (M, N)
  std::vector<double> tol;  // (M, N)
};

Reference cpu_linear(const std::vector<Bf16>& A,     // (M, K)
                     const std::vector<Bf16>& B,     // (N, K)
                     const std::vector<Bf16>& bias,  // (N)
                     int M, int N, int K, Epilogue epilogue) {
  Reference ref{std::vector<double>(size_t(M) * N), std::vector<double>(size_t(M) * N)};
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double s = 0, abs_sum = 0;
      for (int k = 0; k < K; ++k) {
        const double p = double(to_float(A[size_t(i) * K + k])) * to_float(B[size_t(j) * K + k]);
        s += p;
        abs_sum += std::fabs(p);
      }
      const double x = epilogue == Epilogue::kNone ? s : s + to_float(bias[j]);
      const double out = epilogue == Epilogue::kBiasGelu ? gelu_tanh(x) : x;
      double tol = std::ldexp(std::fabs(out), -8) + K * std::ldexp(abs_sum, -22);
      if (epilogue == Epilogue::kBias) tol += std::ldexp(std::fabs(s), -8);
      if (epilogue == Epilogue::kBiasGelu) {
        tol += 1.13 * std::ldexp(std::fabs(s) + std::fabs(x), -8);
      }
      ref.out[size_t(i) * N + j] = out;
      ref.tol[size_t(i) * N + j] = tol;
    }
  }
  return ref;
}

// Every element within its tolerance; prints the worst one (relative to its
// tolerance) with its index, pass or fail.
::testing::AssertionResult within_tolerance(const std::vector<Bf16>& got, const Reference& ref,
                                            int N, const std::string& label) {
  double worst_ratio = -1, worst_err = 0;
  size_t worst = 0;
  for (size_t e = 0; e < got.size(); ++e) {
    const double err = std::fabs(to_float(got[e]) - ref.out[e]), tol = ref.tol[e];
    const double ratio =
        std::isnan(err) ? INFINITY : (tol > 0 ? err / tol : (err > 0 ? INFINITY : 0));
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = e;
      worst_err = err;
    }
  }
  std::ostringstream line;
  line << label << ": worst |gpu - ref| = " << worst_err << " at (" << worst / N << ", "
       << worst % N << "): gpu " << to_float(got[worst]) << ", ref " << ref.out[worst]
       << ", tolerance " << ref.tol[worst] << " (" << worst_ratio << " of it)";
  if (!(worst_ratio <= 1)) return ::testing::AssertionFailure() << line.str();
  std::cout << "[ compare  ] " << line.str() << std::endl;
  return ::testing::AssertionSuccess();
}

class CublasLtMatmul : public ::testing::Test {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
};

TEST_F(CublasLtMatmul, MatchesCpuForEveryShapeAndEpilogue) {
  for (const Shape& s : kShapes) {
    const std::vector<Bf16> A = random_bf16(size_t(s.M) * s.K, 1);  // (M, K)
    const std::vector<Bf16> B = random_bf16(size_t(s.N) * s.K, 2);  // (N, K)
    const std::vector<Bf16> bias = random_bf16(s.N, 3);             // (N)
    DeviceBuffer<Bf16> dA(A), dB(B), dBias(bias);
    for (Epilogue e : kEpilogues) {
      const std::string label = "cublaslt " + s.name() + " " + epilogue_name(e);
      // NaN everywhere first: an element left unwritten fails.
      DeviceBuffer<Bf16> dOut(std::vector<Bf16>(size_t(s.M) * s.N, to_bf16(NAN)));  // (M, N)
      matmul_cublaslt_bf16(dOut.data(), dA.data(), dB.data(),
                           e == Epilogue::kNone ? nullptr : dBias.data(), s.M, s.N, s.K, e);
      const Reference ref = cpu_linear(A, B, bias, s.M, s.N, s.K, e);
      EXPECT_TRUE(within_tolerance(dOut.to_host(), ref, s.N, label));
    }
  }
}

// Slices of larger buffers, starting one row in: with K and N odd they are
// only 2-byte aligned, and the algorithm must be chosen for that (the plans
// of the aligned calls above must not be reused for them).
TEST_F(CublasLtMatmul, UnalignedSlices) {
  const int M = 37, N = 65, K = 129;
  const std::vector<Bf16> A = random_bf16(size_t(M + 1) * K, 4);  // (M + 1, K)
  const std::vector<Bf16> B = random_bf16(size_t(N + 1) * K, 5);  // (N + 1, K)
  const std::vector<Bf16> bias = random_bf16(N + 1, 6);           // (N + 1)
  DeviceBuffer<Bf16> dA(A), dB(B), dBias(bias);
  const std::vector<Bf16> A1(A.begin() + K, A.end());           // (M, K): rows 1..M
  const std::vector<Bf16> B1(B.begin() + K, B.end());           // (N, K): rows 1..N
  const std::vector<Bf16> bias1(bias.begin() + 1, bias.end());  // (N)
  for (Epilogue e : kEpilogues) {
    for (int pass = 0; pass < 2; ++pass) {  // the second call reuses the first's plan
      const std::string label =
          "cublaslt slices " + epilogue_name(e) + " pass " + std::to_string(pass);
      DeviceBuffer<Bf16> dOut(std::vector<Bf16>(size_t(M + 1) * N, to_bf16(NAN)));  // (M + 1, N)
      matmul_cublaslt_bf16(dOut.data() + N, dA.data() + K, dB.data() + K,
                           e == Epilogue::kNone ? nullptr : dBias.data() + 1, M, N, K, e);
      const std::vector<Bf16> all = dOut.to_host();
      EXPECT_TRUE(std::isnan(to_float(all[0]))) << label << ": wrote before out";
      const std::vector<Bf16> got(all.begin() + N, all.end());  // (M, N)
      EXPECT_TRUE(within_tolerance(got, cpu_linear(A1, B1, bias1, M, N, K, e), N, label));
    }
  }
}

// An operand stored as it lies (Bf16Operand): the product's rows along K
// (M rows of ld >= K values), or K down its columns (K rows of ld >= M).
// Every value past a stored row's length is NaN: a product that reads one fails.
std::vector<Bf16> stored(const std::vector<Bf16>& x,  // (rows, K)
                         int rows, int K, bool k_down_columns, int ld) {
  std::vector<Bf16> out(size_t(k_down_columns ? K : rows) * ld, to_bf16(NAN));
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < K; ++k) {
      out[k_down_columns ? size_t(k) * ld + r : size_t(r) * ld + k] = x[size_t(r) * K + k];
    }
  }
  return out;
}

// The fp32 product read from each of the four ways its two operands may lie,
// added into what out held (beta = 1), with the bias: the exact answer, within
// the K sum's error and one fp32 rounding of the result.
TEST_F(CublasLtMatmul, ReadsEachOperandWhereItLies) {
  using cuda::Bf16Operand;
  const Shape shapes[] = {{1, 1, 1}, {37, 65, 129}, {16, 177, 33}, {64, 24, 96}};
  for (const Shape& s : shapes) {
    const std::vector<Bf16> A = random_bf16(size_t(s.M) * s.K, 7);  // (M, K)
    const std::vector<Bf16> B = random_bf16(size_t(s.N) * s.K, 8);  // (N, K)
    std::vector<float> bias;                                        // (N), fp32
    for (const Bf16 b : random_bf16(s.N, 9)) bias.push_back(to_float(b));
    std::vector<float> start(size_t(s.M) * s.N);                    // (M, N): what out holds
    for (size_t e = 0; e < start.size(); ++e) start[e] = 0.25f * float(e % 7) - 0.75f;
    DeviceBuffer<float> dBias(bias);
    for (const bool a_down : {false, true}) {
      for (const bool b_down : {false, true}) {
        const int lda = (a_down ? s.M : s.K) + 3, ldb = (b_down ? s.N : s.K) + 5;
        DeviceBuffer<Bf16> dA(stored(A, s.M, s.K, a_down, lda));
        DeviceBuffer<Bf16> dB(stored(B, s.N, s.K, b_down, ldb));
        DeviceBuffer<float> dOut(start);
        cuda::matmul_cublaslt_bf16_f32(dOut.data(), Bf16Operand{dA.data(), lda, a_down},
                                       Bf16Operand{dB.data(), ldb, b_down}, dBias.data(), s.M,
                                       s.N, s.K, /*accumulate=*/true);
        const std::vector<float> got = dOut.to_host();
        double worst_ratio = -1;
        std::string worst;
        for (int i = 0; i < s.M; ++i) {
          for (int j = 0; j < s.N; ++j) {
            double sum = 0, abs_sum = 0;
            for (int k = 0; k < s.K; ++k) {
              const double p =
                  double(to_float(A[size_t(i) * s.K + k])) * to_float(B[size_t(j) * s.K + k]);
              sum += p;
              abs_sum += std::fabs(p);
            }
            const size_t e = size_t(i) * s.N + j;
            const double want = start[e] + sum + bias[j];
            const double tol = s.K * std::ldexp(abs_sum, -22) + std::ldexp(std::fabs(want), -23);
            const double err = std::fabs(got[e] - want);
            const double ratio = std::isnan(err) ? INFINITY : err / tol;
            if (ratio > worst_ratio) {
              worst_ratio = ratio;
              worst = "(" + std::to_string(i) + ", " + std::to_string(j) + "): got " +
                      std::to_string(got[e]) + ", want " + std::to_string(want);
            }
          }
        }
        const std::string label = s.name() + (a_down ? " A down its columns" : " A along rows") +
                                  (b_down ? ", B down its columns" : ", B along rows");
        EXPECT_LE(worst_ratio, 1.0) << label << ": worst at " << worst;
        std::cout << "[ compare  ] " << label << ": worst " << worst_ratio << " of the tolerance"
                  << std::endl;
      }
    }
  }
}

TEST_F(CublasLtMatmul, EmptyProductsDoNothing) {
  EXPECT_NO_THROW(matmul_cublaslt_bf16(nullptr, nullptr, nullptr, nullptr, 0, 5, 3));
  EXPECT_NO_THROW(matmul_cublaslt_bf16(nullptr, nullptr, nullptr, nullptr, 4, 0, 3));
}

// No GPU needed: bad arguments throw before any CUDA call.
TEST(CublasLtMatmulChecks, BadArgumentsThrowBeforeAnyCudaCall) {
  Bf16 x[4];  // host memory: never reached
  const Bf16* b = x;
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, nullptr, -1, 2, 2), std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, nullptr, 2, -1, 2), std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, nullptr, 2, 2, 0), std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, nullptr, 2, 2, 2, Epilogue::kBias),
               std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, nullptr, 2, 2, 2, Epilogue::kBiasGelu),
               std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, b, 2, 2, 2, Epilogue::kNone), std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(x, x, x, b, 2, 2, 2, static_cast<Epilogue>(7)),
               std::invalid_argument);
  EXPECT_THROW(matmul_cublaslt_bf16(nullptr, x, x, nullptr, 2, 2, 2), std::invalid_argument);
  // A stored row shorter than what it must hold: K along rows, M (or N) down columns.
  using cuda::k_along_rows;
  using cuda::k_down_columns;
  float out[4];
  EXPECT_THROW(cuda::matmul_cublaslt_bf16_f32(out, k_along_rows(x, 2), k_along_rows(x, 3),
                                              nullptr, 2, 2, 3, false),
               std::invalid_argument);
  EXPECT_THROW(cuda::matmul_cublaslt_bf16_f32(out, k_down_columns(x, 3), k_along_rows(x, 2),
                                              nullptr, 4, 2, 2, false),
               std::invalid_argument);
  EXPECT_THROW(cuda::matmul_cublaslt_bf16_f32(out, k_along_rows(x, 2), k_down_columns(x, 1),
                                              nullptr, 2, 2, 2, false),
               std::invalid_argument);
  try {
    matmul_cublaslt_bf16(x, x, x, nullptr, 2, 2, 0);
    ADD_FAILURE() << "K = 0 did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("K must be >= 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gpt
