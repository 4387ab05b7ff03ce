// tools/cuda_emulator/cublaslt_test.cc — the emulator's cuBLASLt checked on its own, on any machine.
//
// The chapters trust cublasLtMatmul here to mean what it means on a GPU:
// column-major layouts with leading dimensions, both transposes, alpha and
// beta (C unread when beta is 0), the bias and GELU epilogues, float and
// bfloat16 elements, results rounded once to D's type (ties to even), and
// clear refusals of what a GPU would refuse.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tools/cuda_emulator/emulator_testing.h"

namespace gpt_emu::testing {
namespace {

float from_bf16(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The bfloat16 nearest to x, ties to the even one, found by comparing x with
// the two bfloat16 around it (not how cublaslt.cc rounds). Finite x within
// bfloat16's range only.
uint16_t nearest_bf16(double x) {
  const float f = static_cast<float>(x);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint16_t low = static_cast<uint16_t>(u >> 16);  // f with its low 16 bits dropped: toward zero
  if (std::fabs(static_cast<double>(from_bf16(low))) > std::fabs(x)) --low;  // f was rounded up
  const uint16_t high = static_cast<uint16_t>(low + 1);  // the next one away from zero
  const double to_low = std::fabs(x - from_bf16(low)), to_high = std::fabs(from_bf16(high) - x);
  if (to_low != to_high) return to_low < to_high ? low : high;
  return (low & 1) == 0 ? low : high;
}

double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

const char* name(cublasStatus_t s) { return cublasLtGetStatusString(s); }

#define EXPECT_STATUS(call, status) EXPECT_STREQ(name(call), name(status)) << #call
#define ASSERT_OK(call) ASSERT_STREQ(name(call), name(CUBLAS_STATUS_SUCCESS)) << #call

// A product's descriptors, destroyed at the end of the scope.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Plan() {
    cublasLtMatmulDescDestroy(desc);
    for (cublasLtMatrixLayout_t l : {a, b, c, d}) cublasLtMatrixLayoutDestroy(l);
    cublasLtMatmulPreferenceDestroy(pref);
  }
  void set(cublasLtMatmulDescAttributes_t attr, int32_t value) {
    EXPECT_STATUS(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof value),
                  CUBLAS_STATUS_SUCCESS);
  }
  void set_epilogue(cublasLtEpilogue_t e, const void* bias, int32_t bias_type) {
    const uint32_t value = e;
    EXPECT_STATUS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &value, sizeof value),
        CUBLAS_STATUS_SUCCESS);
    EXPECT_STATUS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
        CUBLAS_STATUS_SUCCESS);
    EXPECT_STATUS(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                 &bias_type, sizeof bias_type),
                  CUBLAS_STATUS_SUCCESS);
  }
};

// op(A) m×k, op(B) k×n, C and D m×n, each stored column-major with the given ld.
void make_plan(Plan& p, bool ta, bool tb, int m, int n, int k, cudaDataType ab_type,
               cudaDataType cd_type, int lda, int ldb, int ldc) {
  ASSERT_OK(cublasLtMatmulDescCreate(&p.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  p.set(CUBLASLT_MATMUL_DESC_TRANSA, ta ? CUBLAS_OP_T : CUBLAS_OP_N);
  p.set(CUBLASLT_MATMUL_DESC_TRANSB, tb ? CUBLAS_OP_T : CUBLAS_OP_N);
  ASSERT_OK(cublasLtMatrixLayoutCreate(&p.a, ab_type, ta ? k : m, ta ? m : k, lda));
  ASSERT_OK(cublasLtMatrixLayoutCreate(&p.b, ab_type, tb ? n : k, tb ? k : n, ldb));
  ASSERT_OK(cublasLtMatrixLayoutCreate(&p.c, cd_type, m, n, ldc));
  ASSERT_OK(cublasLtMatrixLayoutCreate(&p.d, cd_type, m, n, ldc));
  ASSERT_OK(cublasLtMatmulPreferenceCreate(&p.pref));
}

class CublasLt : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(cublasLtCreate(&handle_)); }
  void TearDown() override { EXPECT_STATUS(cublasLtDestroy(handle_), CUBLAS_STATUS_SUCCESS); }

  // The heuristic's answer for p: one algorithm, needing no workspace.
  cublasLtMatmulAlgo_t algo(const Plan& p) {
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 1,
                                                 &result, &count),
                  CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(count, 1);
    EXPECT_EQ(result.state, CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(result.workspaceSize, 0u);
    return result.algo;
  }

  cublasStatus_t run(const Plan& p, float alpha, const void* A, const void* B, float beta,
                     const void* C, void* D) {
    const cublasLtMatmulAlgo_t chosen = algo(p);
    return cublasLtMatmul(handle_, p.desc, &alpha, A, p.a, B, p.b, &beta, C, p.c, D, p.d, &chosen,
                          nullptr, 0, 0);
  }

  cublasLtHandle_t handle_ = nullptr;
};

// D = alpha · op(A) · op(B) + beta · C by the definition, column-major, in double.
std::vector<double> reference(bool ta, bool tb, int m, int n, int k, double alpha,
                              const std::vector<float>& A, int lda, const std::vector<float>& B,
                              int ldb, double beta, const std::vector<float>& C, int ldc) {
  std::vector<double> D(size_t(ldc) * n, 0.0);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int l = 0; l < k; ++l) {
        const double a = ta ? A[i * lda + l] : A[l * lda + i];
        const double b = tb ? B[l * ldb + j] : B[j * ldb + l];
        sum += a * b;
      }
      D[j * ldc + i] = alpha * sum + (beta == 0 ? 0.0 : beta * C[j * ldc + i]);
    }
  }
  return D;
}

TEST_F(CublasLt, FloatIsColumnMajorInAllFourTransposeCases) {
  const int m = 5, n = 4, k = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (float beta : {0.0f, 0.5f}) {
        const std::string label = "ta " + std::to_string(ta) + " tb " + std::to_string(tb) +
                                  " beta " + std::to_string(beta);
        const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
        std::vector<float> A(lda * (ta ? m : k)), B(ldb * (tb ? k : n)), C(ldc * n);
        for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(float(i));
        for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(float(i));
        for (size_t i = 0; i < C.size(); ++i) {  // unread when beta is 0: NaN would show
          C[i] = beta == 0 ? std::numeric_limits<float>::quiet_NaN() : float(i);
        }
        const float alpha = 1.5f;
        const std::vector<double> want =
            reference(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        Plan p;
        make_plan(p, ta, tb, m, n, k, CUDA_R_32F, CUDA_R_32F, lda, ldb, ldc);
        Device<float> dA(A), dB(B), dC(C), dD(std::vector<float>(C.size(), -7.0f));
        ASSERT_OK(run(p, alpha, dA.get(), dB.get(), beta, dC.get(), dD.get())) << label;
        const std::vector<float> got = dD.host();
        for (int j = 0; j < n; ++j) {
          for (int i = 0; i < ldc; ++i) {
            if (i >= m) {  // the padding between columns is not written
              ASSERT_EQ(got[j * ldc + i], -7.0f) << label << " padding at " << i << "," << j;
              continue;
            }
            // One rounding, double to float.
            ASSERT_EQ(got[j * ldc + i], static_cast<float>(want[j * ldc + i]))
                << label << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

TEST_F(CublasLt, Bf16IsColumnMajorInAllFourTransposeCasesAndRoundsOnce) {
  const int m = 6, n = 5, k = 7;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const std::string label = "ta " + std::to_string(ta) + " tb " + std::to_string(tb);
      const int lda = (ta ? k : m) + 1, ldb = (tb ? n : k) + 3, ldc = m + 2;
      std::vector<uint16_t> A(lda * (ta ? m : k)), B(ldb * (tb ? k : n)), C(ldc * n);
      // bf16 inputs: products are exact in double, and so are sums of a few of them.
      for (size_t i = 0; i < A.size(); ++i) A[i] = nearest_bf16(std::sin(0.7 * i + 0.1));
      for (size_t i = 0; i < B.size(); ++i) B[i] = nearest_bf16(std::cos(1.3 * i));
      for (size_t i = 0; i < C.size(); ++i) C[i] = nearest_bf16(0.25 * i - 3);
      std::vector<float> Af(A.size()), Bf(B.size()), Cf(C.size());
      for (size_t i = 0; i < A.size(); ++i) Af[i] = from_bf16(A[i]);
      for (size_t i = 0; i < B.size(); ++i) Bf[i] = from_bf16(B[i]);
      for (size_t i = 0; i < C.size(); ++i) Cf[i] = from_bf16(C[i]);
      const float alpha = 1.5f, beta = 0.5f;
      const std::vector<double> want =
          reference(ta, tb, m, n, k, alpha, Af, lda, Bf, ldb, beta, Cf, ldc);
      Plan p;
      make_plan(p, ta, tb, m, n, k, CUDA_R_16BF, CUDA_R_16BF, lda, ldb, ldc);
      Device<uint16_t> dA(A), dB(B), dC(C);
      // In place, D = C, as a residual connection would: each element of C is
      // read before its place in D is written.
      ASSERT_OK(run(p, alpha, dA.get(), dB.get(), beta, dC.get(), dC.get())) << label;
      const std::vector<uint16_t> got = dC.host();
      for (int j = 0; j < n; ++j) {
        for (int i = 0; i < m; ++i) {
          ASSERT_EQ(got[j * ldc + i], nearest_bf16(want[j * ldc + i]))
              << label << " at " << i << "," << j << ": " << from_bf16(got[j * ldc + i]) << " for "
              << want[j * ldc + i];
        }
      }
    }
  }
}

TEST_F(CublasLt, Bf16OutputRoundsTheExactSumOnceToNearestEven) {
  // D (rows, 1) = A (rows, 3) · (1, 1, 1)ᵀ: each row's three bf16 added exactly.
  const uint16_t inf = 0x7F80, minus_inf = 0xFF80, one = 0x3F80, zero = 0;
  const uint16_t big = nearest_bf16(3e38);  // 2.99e38
  struct Row {
    uint16_t x, y, z;
    uint16_t want;
    const char* why;
  };
  const Row rows[] = {
      {one, nearest_bf16(0x1p-8), zero, 0x3F80,
       "1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even, 1"},
      {one, nearest_bf16(0x3p-8), zero, 0x3F82, "1 + 3·2^-8 is halfway: to even, 1 + 2^-6"},
      {one, nearest_bf16(0x1p-8), nearest_bf16(0x1p-30), 0x3F81,
       "1 + 2^-8 + 2^-30 is just above halfway: up (rounding to float first would give 1)"},
      {nearest_bf16(-1.0), nearest_bf16(-0x1p-8), nearest_bf16(-0x1p-30), 0xBF81,
       "the same, negative"},
      {one, nearest_bf16(0x1p-9), zero, 0x3F80, "below halfway: down"},
      {big, big, zero, inf, "6e38, beyond float's range: infinity"},
      {minus_inf, one, zero, minus_inf, "minus infinity stays"},
  };
  const int m = sizeof rows / sizeof rows[0];
  std::vector<uint16_t> A(3 * m);
  for (int i = 0; i < m; ++i) {  // column-major: column l holds every row's l-th value
    A[i] = rows[i].x;
    A[m + i] = rows[i].y;
    A[2 * m + i] = rows[i].z;
  }
  Plan p;
  make_plan(p, false, false, m, 1, 3, CUDA_R_16BF, CUDA_R_16BF, m, 3, m);
  Device<uint16_t> dA(A), dB(std::vector<uint16_t>{one, one, one});
  Device<uint16_t> dD(std::vector<uint16_t>(m, 0x7FC1));
  ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get()));
  const std::vector<uint16_t> got = dD.host();
  for (int i = 0; i < m; ++i) {
    EXPECT_EQ(got[i], rows[i].want) << rows[i].why << ": got " << from_bf16(got[i]);
  }
}

TEST_F(CublasLt, Bf16IntoFloatIsNotRoundedToBf16) {
  // D (1×1, float) = (1, 2^-8) · (1, 1)ᵀ = 1 + 2^-8, which bf16 could not hold.
  Plan p;
  make_plan(p, false, false, 1, 1, 2, CUDA_R_16BF, CUDA_R_32F, 1, 2, 1);
  Device<uint16_t> dA(std::vector<uint16_t>{0x3F80, nearest_bf16(0x1p-8)}),
      dB(std::vector<uint16_t>{0x3F80, 0x3F80});
  Device<float> dD(std::vector<float>{0.0f});
  ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get()));
  EXPECT_EQ(dD.host()[0], 1.0f + 0x1p-8f);
}

TEST_F(CublasLt, NanStaysNan) {
  Plan p;
  make_plan(p, false, false, 1, 1, 1, CUDA_R_16BF, CUDA_R_16BF, 1, 1, 1);
  Device<uint16_t> dA(std::vector<uint16_t>{0x7FC0}), dB(std::vector<uint16_t>{0x3F80}),
      dD(std::vector<uint16_t>{0});
  ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get()));
  EXPECT_TRUE(std::isnan(from_bf16(dD.host()[0])));
}

// op(A) = A (m, k), op(B) = Bᵀ with B stored (n, k): a linear layer, as the
// chapters call it, with each epilogue, against the formula.
TEST_F(CublasLt, BiasAndGeluEpilogues) {
  const int m = 7, n = 3, k = 5;
  std::vector<float> A(m * k), B(n * k), bias(m);
  for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(0.9f * i);
  for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(0.4f * i) * 2;
  for (int i = 0; i < m; ++i) bias[i] = 0.5f * i - 1.5f;
  std::vector<uint16_t> bias_bf16(m);
  for (int i = 0; i < m; ++i) bias_bf16[i] = nearest_bf16(bias[i]);  // exact: multiples of 1/2
  const std::vector<double> product = reference(false, true, m, n, k, 1.0, A, m, B, n, 0.0, {}, m);
  Device<float> dA(A), dB(B), dBias(bias);
  Device<uint16_t> dBiasBf16(bias_bf16);
  struct Case {
    cublasLtEpilogue_t epilogue;
    bool bias, gelu;
    const void* bias_pointer;
    int32_t bias_type;
    const char* name;
  };
  const Case cases[] = {
      {CUBLASLT_EPILOGUE_DEFAULT, false, false, nullptr, -1, "DEFAULT"},
      {CUBLASLT_EPILOGUE_BIAS, true, false, dBias.get(), -1, "BIAS, float (D's type)"},
      {CUBLASLT_EPILOGUE_BIAS, true, false, dBiasBf16.get(), CUDA_R_16BF, "BIAS, bf16"},
      {CUBLASLT_EPILOGUE_GELU, false, true, nullptr, -1, "GELU"},
      {CUBLASLT_EPILOGUE_GELU_BIAS, true, true, dBias.get(), CUDA_R_32F, "GELU_BIAS, float"},
      {CUBLASLT_EPILOGUE_GELU_BIAS, true, true, dBiasBf16.get(), CUDA_R_16BF, "GELU_BIAS, bf16"},
  };
  for (const Case& c : cases) {
    Plan p;
    make_plan(p, false, true, m, n, k, CUDA_R_32F, CUDA_R_32F, m, n, m);
    p.set_epilogue(c.epilogue, c.bias_pointer, c.bias_type);
    Device<float> dD(std::vector<float>(m * n, std::nanf("")));
    ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get())) << c.name;
    const std::vector<float> got = dD.host();
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        double want = product[j * m + i] + (c.bias ? bias[i] : 0.0);  // one bias per row of D
        if (c.gelu) want = gelu_tanh(want);
        ASSERT_NEAR(got[j * m + i], want, 1e-6 * (1 + std::fabs(want)))
            << c.name << " at " << i << "," << j;
      }
    }
  }
}

TEST_F(CublasLt, GeluIsTheTanhForm) {
  // D (1×1) = gelu(1 · x): the tanh form, clearly not the erf one at x = -3.
  for (float x : {-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f, 4.0f}) {
    Plan p;
    make_plan(p, false, false, 1, 1, 1, CUDA_R_32F, CUDA_R_32F, 1, 1, 1);
    p.set_epilogue(CUBLASLT_EPILOGUE_GELU, nullptr, -1);
    Device<float> dA(std::vector<float>{1.0f}), dB(std::vector<float>{x}),
        dD(std::vector<float>{0.0f});
    ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get()));
    const double want = 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    EXPECT_NEAR(dD.host()[0], want, 1e-7) << "x = " << x;
  }
  Plan p;
  make_plan(p, false, false, 1, 1, 1, CUDA_R_32F, CUDA_R_32F, 1, 1, 1);
  p.set_epilogue(CUBLASLT_EPILOGUE_GELU, nullptr, -1);
  Device<float> dA(std::vector<float>{1.0f}), dB(std::vector<float>{-3.0f}),
      dD(std::vector<float>{0.0f});
  ASSERT_OK(run(p, 1.0f, dA.get(), dB.get(), 0.0f, dD.get(), dD.get()));
  const double erf_form = 0.5 * -3.0 * (1 + std::erf(-3.0 / std::sqrt(2.0)));  // -0.00405
  EXPECT_GT(std::fabs(dD.host()[0] - erf_form), 1e-4) << "the tanh form gives -0.00363";
}

TEST_F(CublasLt, EveryReductionSchemeMaskAllowsTheOneAlgorithm) {
  // The emulator's algorithm does not split K (CUBLASLT_REDUCTION_SCHEME_NONE):
  // a mask that forbids bf16 partial sums, or all split-K, still finds it.
  for (uint32_t mask : {0u, uint32_t(CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE),
                        uint32_t(CUBLASLT_REDUCTION_SCHEME_MASK)}) {
    Plan p;
    make_plan(p, true, false, 2, 3, 4, CUDA_R_16BF, CUDA_R_16BF, 4, 4, 2);
    ASSERT_OK(cublasLtMatmulPreferenceSetAttribute(
        p.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof mask));
    algo(p);
  }
}

TEST_F(CublasLt, ErrorsAreReportedAsCublasLtReportsThem) {
  const int m = 4, n = 3, k = 2;
  Device<float> dA(std::vector<float>(m * k, 1.0f)), dB(std::vector<float>(k * n, 1.0f)),
      dD(std::vector<float>(m * n + 1, 0.0f));
  const float one = 1.0f, zero = 0.0f;
  {
    Plan p;
    make_plan(p, false, false, m, n, k, CUDA_R_32F, CUDA_R_32F, m, k, m);
    const cublasLtMatmulAlgo_t chosen = algo(p);
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_SUCCESS);
    // A host pointer: a GPU would fault.
    std::vector<float> host(m * k);
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, host.data(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_INVALID_VALUE);
    // D one float past a 256-byte boundary: less aligned than the heuristic
    // was promised (256 bytes, the default)...
    float* shifted = dD.get() + 1;
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 shifted, p.c, shifted, p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_INVALID_VALUE);
    // ... fine once it was told 4 bytes for C and D.
    const uint32_t four = 4;
    ASSERT_OK(cublasLtMatmulPreferenceSetAttribute(
        p.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &four, sizeof four));
    ASSERT_OK(cublasLtMatmulPreferenceSetAttribute(
        p.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &four, sizeof four));
    const cublasLtMatmulAlgo_t relaxed = algo(p);
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 shifted, p.c, shifted, p.d, &relaxed, nullptr, 0, 0),
                  CUBLAS_STATUS_SUCCESS);
    // A host workspace.
    std::vector<char> workspace(64);
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, workspace.data(), 64, 0),
                  CUBLAS_STATUS_INVALID_VALUE);
    // No alpha; no handle.
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, nullptr, dA.get(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_INVALID_VALUE);
    EXPECT_STATUS(cublasLtMatmul(nullptr, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_NOT_INITIALIZED);
    // A bias epilogue without a bias.
    p.set_epilogue(CUBLASLT_EPILOGUE_BIAS, nullptr, -1);
    EXPECT_STATUS(cublasLtMatmul(handle_, p.desc, &one, dA.get(), p.a, dB.get(), p.b, &zero,
                                 dD.get(), p.c, dD.get(), p.d, &chosen, nullptr, 0, 0),
                  CUBLAS_STATUS_INVALID_VALUE);
    // Asking the heuristic for no algorithm.
    cublasLtMatmulHeuristicResult_t result;
    int count = -1;
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 0,
                                                 &result, &count),
                  CUBLAS_STATUS_INVALID_VALUE);
  }
  {  // Shapes that disagree: op(B) is (k + 1)×n.
    Plan p;
    make_plan(p, false, false, m, n, k, CUDA_R_32F, CUDA_R_32F, m, k + 1, m);
    cublasLtMatrixLayoutDestroy(p.b);
    p.b = nullptr;
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_32F, k + 1, n, k + 1));
    cublasLtMatmulHeuristicResult_t result;
    int count = 0;
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 1,
                                                 &result, &count),
                  CUBLAS_STATUS_INVALID_VALUE);
  }
  {  // A and B of different types; float into bf16; a type the emulator does not do.
    Plan p;
    make_plan(p, false, false, m, n, k, CUDA_R_32F, CUDA_R_32F, m, k, m);
    cublasLtMatrixLayoutDestroy(p.b);
    p.b = nullptr;
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, k, n, k));
    cublasLtMatmulHeuristicResult_t result;
    int count = 0;
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 1,
                                                 &result, &count),
                  CUBLAS_STATUS_NOT_SUPPORTED);
    // float A and B into bf16 C and D: not one of cuBLASLt's combinations.
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatrixLayoutDestroy(p.d);
    p.b = p.c = p.d = nullptr;
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_32F, k, n, k));
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_16BF, m, n, m));
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.d, CUDA_R_16BF, m, n, m));
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 1,
                                                 &result, &count),
                  CUBLAS_STATUS_NOT_SUPPORTED);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.a);
    p.a = p.b = nullptr;
    // 2 is CUDA_R_16F, half precision, which the emulator's header does not name.
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.a, static_cast<cudaDataType>(2), m, k, m));
    ASSERT_OK(cublasLtMatrixLayoutCreate(&p.b, static_cast<cudaDataType>(2), k, n, k));
    EXPECT_STATUS(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.d, p.pref, 1,
                                                 &result, &count),
                  CUBLAS_STATUS_NOT_SUPPORTED);
  }
  {  // Attributes of the wrong size or value; ld < rows; an epilogue not emulated.
    cublasLtMatmulDesc_t desc = nullptr;
    ASSERT_OK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const int64_t wide = CUBLAS_OP_T;
    EXPECT_STATUS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &wide, sizeof wide),
        CUBLAS_STATUS_INVALID_VALUE);
    const int32_t not_an_op = 5;
    EXPECT_STATUS(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &not_an_op,
                                                 sizeof not_an_op),
                  CUBLAS_STATUS_INVALID_VALUE);
    const uint32_t relu = 2;  // CUBLASLT_EPILOGUE_RELU
    EXPECT_STATUS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &relu, sizeof relu),
        CUBLAS_STATUS_NOT_SUPPORTED);
    EXPECT_STATUS(cublasLtMatmulDescDestroy(desc), CUBLAS_STATUS_SUCCESS);
    cublasLtMatrixLayout_t layout = nullptr;
    EXPECT_STATUS(cublasLtMatrixLayoutCreate(&layout, CUDA_R_32F, 4, 2, 3),
                  CUBLAS_STATUS_INVALID_VALUE);
  }
  EXPECT_STREQ(cublasLtGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED), "CUBLAS_STATUS_NOT_SUPPORTED");
}

}  // namespace
}  // namespace gpt_emu::testing
