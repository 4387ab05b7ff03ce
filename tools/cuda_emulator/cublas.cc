// tools/cuda_emulator/cublas.cc — the few cuBLAS calls the course makes, on the CPU.
//
// cublasSgemm with cuBLAS's exact meaning: column-major matrices (Fortran's
// order), C = alpha · op(A) · op(B) + beta · C, where op(X) is X or Xᵀ
// (transa, transb), op(A) is m×k, op(B) is k×n, C is m×n, and lda, ldb, ldc
// are the distances between columns. As in cuBLAS, C is not read when beta
// is 0 (a C full of NaN is then simply overwritten), and A and B are not
// read when alpha is 0 or k is 0. Sums are in double, then rounded: a
// reference, not a copy of cuBLAS's rounding.
#include <cublas_v2.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/runtime_state.h"

struct cublasContext {
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

namespace {

cublasStatus_t invalid(const char* why) {
  std::fprintf(stderr, "gpt_emu: cublasSgemm: %s\n", why);
  return CUBLAS_STATUS_INVALID_VALUE;
}

bool is_transposed(cublasOperation_t op) { return op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

// The elements a column-major (rows, cols) matrix with leading dimension ld spans.
size_t span(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<size_t>(cols - 1) * ld + rows;
}

// x · y in double, in 8 interleaved partial sums (which the compiler vectorises).
double dot(const float* x, const float* y, int n) {
  double partial[8] = {};
  int l = 0;
  for (; l + 8 <= n; l += 8) {
    for (int u = 0; u < 8; ++u) partial[u] += static_cast<double>(x[l + u]) * y[l + u];
  }
  for (; l < n; ++l) partial[0] += static_cast<double>(x[l]) * y[l];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

}  // namespace

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  gpt_emu::announce();
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN (CPU emulator)";
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool ta = is_transposed(transa), tb = is_transposed(transb);
  // A is stored (m, k), or (k, m) when transposed; B (k, n), or (n, k).
  const int a_rows = ta ? k : m, a_cols = ta ? m : k;
  const int b_rows = tb ? n : k, b_cols = tb ? k : n;
  if (m < 0 || n < 0 || k < 0) return invalid("a negative size");
  if (lda < (a_rows > 1 ? a_rows : 1)) return invalid("lda is less than op(A)'s stored rows");
  if (ldb < (b_rows > 1 ? b_rows : 1)) return invalid("ldb is less than op(B)'s stored rows");
  if (ldc < (m > 1 ? m : 1)) return invalid("ldc is less than m");
  if (alpha == nullptr || beta == nullptr) return invalid("alpha or beta is null");
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const float a = *alpha, b = *beta;
  const bool read_ab = a != 0.0f && k > 0;
  if (!gpt_emu::is_device_range(C, span(m, n, ldc) * sizeof(float))) {
    return invalid("C is not inside one device allocation");
  }
  if (read_ab && (!gpt_emu::is_device_range(A, span(a_rows, a_cols, lda) * sizeof(float)) ||
                  !gpt_emu::is_device_range(B, span(b_rows, b_cols, ldb) * sizeof(float)))) {
    return invalid("A or B is not inside one device allocation");
  }
  // Each column j of C, one of two ways, both reading memory in order:
  // op(A) = A: C(:, j) = Σ_l A(:, l) · op(B)(l, j), adding whole columns of A;
  // op(A) = Aᵀ: C(i, j) = A(:, i) · op(B)(:, j), dot products of columns.
  std::vector<double> sum(m);
  std::vector<float> b_column(k);
  for (int j = 0; j < n; ++j) {
    std::fill(sum.begin(), sum.end(), 0.0);
    if (read_ab) {
      for (int l = 0; l < k; ++l) {
        b_column[l] = tb ? B[static_cast<size_t>(l) * ldb + j]   // B is (n, k): row j
                         : B[static_cast<size_t>(j) * ldb + l];  // B is (k, n): column j
      }
      if (!ta) {
        for (int l = 0; l < k; ++l) {
          const float* a_l = A + static_cast<size_t>(l) * lda;
          const double b_lj = b_column[l];
          for (int i = 0; i < m; ++i) sum[i] += static_cast<double>(a_l[i]) * b_lj;
        }
      } else {
        for (int i = 0; i < m; ++i) {
          sum[i] = dot(A + static_cast<size_t>(i) * lda, b_column.data(), k);
        }
      }
    }
    float* c = C + static_cast<size_t>(j) * ldc;
    for (int i = 0; i < m; ++i) {
      const double scaled = static_cast<double>(a) * sum[i];
      c[i] = static_cast<float>(b == 0.0f ? scaled : scaled + static_cast<double>(b) * c[i]);
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}
