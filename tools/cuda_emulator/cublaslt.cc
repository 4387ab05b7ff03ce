// tools/cuda_emulator/cublaslt.cc — the cuBLASLt calls the course makes, on the CPU.
//
// cublasLtMatmul with cuBLASLt's meaning: column-major matrices described by
// layouts (element type, rows, columns, leading dimension), and
//
//   D = epilogue(alpha · op(A) · op(B) + beta · C)
//
// where op(X) is X or Xᵀ (CUBLASLT_MATMUL_DESC_TRANSA / _TRANSB), op(A) is
// m×k, op(B) k×n, C and D m×n. The epilogue adds a bias, one value per row of
// D (CUBLASLT_EPILOGUE_BIAS), applies GELU in its tanh form, as cuBLASLt's
// epilogue does (CUBLASLT_EPILOGUE_GELU), or both, bias first
// (CUBLASLT_EPILOGUE_GELU_BIAS). A and B are bfloat16 with C and D bfloat16
// or float, or all four are float (cuBLASLt's own combinations of these two
// types), the bias float or bfloat16; the compute type is
// CUBLAS_COMPUTE_32F and alpha and beta are host floats. As in cuBLASLt, C is
// not read when beta is 0, and A and B are not read when alpha is 0.
//
// Each element is summed in double, and alpha, beta · C, the bias and GELU
// are applied in double; the result is then rounded once to D's type (to the
// nearest, ties to even, for bfloat16 too): a reference, not a copy of
// cuBLASLt's float accumulation.
//
// The heuristic knows one algorithm, which needs no workspace and does not
// split K (its reduction scheme is CUBLASLT_REDUCTION_SCHEME_NONE, which every
// CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK allows). It records the pointer
// alignments it was promised (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*, 256 bytes
// unless set lower, and the bias pointer's at the time), and cublasLtMatmul
// refuses pointers less aligned than that, as a GPU's kernel chosen for
// aligned data cannot run on others. Streams are not emulated: the product is
// done when the call returns.
#include <cublasLt.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/runtime_state.h"

struct cublasLtContext {};

struct cublasLtMatrixLayoutOpaque_t {
  cudaDataType type;
  uint64_t rows, cols;
  int64_t ld;
};

struct cublasLtMatmulDescOpaque_t {
  cublasComputeType_t compute_type;
  cudaDataType scale_type;
  cublasOperation_t trans_a = CUBLAS_OP_N, trans_b = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  int32_t bias_type = -1;  // -1: D's type
};

struct cublasLtMatmulPreferenceOpaque_t {
  uint64_t max_workspace = 0;
  uint32_t reduction_scheme_mask = CUBLASLT_REDUCTION_SCHEME_MASK;
  uint32_t min_alignment[4] = {256, 256, 256, 256};  // A, B, C, D
};

namespace {

// algo.data[0] of the one algorithm; data[1..4] the alignments promised for
// A, B, C and D, data[5] the bias's.
constexpr uint64_t kAlgoId = 0x67707445'6d754c74ull;  // "gptEmuLt"

cublasStatus_t fail(const char* call, cublasStatus_t status, const char* why) {
  std::fprintf(stderr, "gpt_emu: %s: %s\n", call, why);
  return status;
}

bool is_transposed(cublasOperation_t op) { return op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

bool is_supported_type(int type) { return type == CUDA_R_32F || type == CUDA_R_16BF; }

size_t element_size(int type) { return type == CUDA_R_16BF ? 2 : 4; }

bool has_bias(cublasLtEpilogue_t e) {
  return e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_GELU_BIAS;
}
bool has_gelu(cublasLtEpilogue_t e) {
  return e == CUBLASLT_EPILOGUE_GELU || e == CUBLASLT_EPILOGUE_GELU_BIAS;
}

// The largest power of two dividing the address, at most 256 (null: 256).
uint32_t alignment_of(const void* p) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lowest_bit = address & (~address + 1);
  return address == 0 || lowest_bit >= 256 ? 256 : static_cast<uint32_t>(lowest_bit);
}

// The bytes a column-major layout spans.
size_t span_bytes(const cublasLtMatrixLayoutOpaque_t& l) {
  if (l.rows == 0 || l.cols == 0) return 0;
  return ((l.cols - 1) * static_cast<size_t>(l.ld) + l.rows) * element_size(l.type);
}

float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// x rounded once to the nearest bfloat16, ties to even. Rounding to float
// first and then to bfloat16 could round twice (1 + 2^-8 + 2^-30 would become
// the tie 1 + 2^-8, then 1), so the float is taken toward zero with its last
// bit set when it is inexact ("round to odd"): its 24 bits then keep enough of
// x for the one rounding to 8 bits to be right.
uint16_t double_to_bf16(double x) {
  if (std::isnan(x)) return 0x7fff;  // the GPU's canonical bfloat16 NaN
  float f = static_cast<float>(x);
  uint32_t u;
  if (static_cast<double>(f) != x) {
    if (std::fabs(static_cast<double>(f)) > std::fabs(x)) f = std::nextafter(f, 0.0f);
    std::memcpy(&u, &f, 4);
    u |= 1u;
  } else {
    std::memcpy(&u, &f, 4);
  }
  const uint32_t lsb = (u >> 16) & 1u;
  return static_cast<uint16_t>((u + 0x7fffu + lsb) >> 16);
}

float load(const void* p, int type, size_t index) {
  if (type == CUDA_R_16BF) return bf16_to_float(static_cast<const uint16_t*>(p)[index]);
  return static_cast<const float*>(p)[index];
}

double gelu_tanh(double x) {
  const double kSqrt2OverPi = 0.7978845608028654;  // √(2/π)
  return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
}

// x · y in double, in 8 interleaved partial sums (as cublas.cc).
double dot(const float* x, const float* y, size_t n) {
  double partial[8] = {};
  size_t l = 0;
  for (; l + 8 <= n; l += 8) {
    for (int u = 0; u < 8; ++u) partial[u] += static_cast<double>(x[l + u]) * y[l + u];
  }
  for (; l < n; ++l) partial[0] += static_cast<double>(x[l]) * y[l];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

// m, n, k of a product whose description and layouts agree.
struct Problem {
  uint64_t m, n, k;
};

// Everything the heuristic and the product both check: types, shapes, the
// epilogue. Pointers are checked by cublasLtMatmul alone.
cublasStatus_t check_problem(const char* call, const cublasLtMatmulDescOpaque_t* desc,
                             const cublasLtMatrixLayoutOpaque_t* a,
                             const cublasLtMatrixLayoutOpaque_t* b,
                             const cublasLtMatrixLayoutOpaque_t* c,
                             const cublasLtMatrixLayoutOpaque_t* d, Problem* problem) {
  if (desc == nullptr || a == nullptr || b == nullptr || c == nullptr || d == nullptr) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "a descriptor or layout is null");
  }
  if (desc->compute_type != CUBLAS_COMPUTE_32F || desc->scale_type != CUDA_R_32F) {
    return fail(call, CUBLAS_STATUS_NOT_SUPPORTED,
                "the emulator computes only CUBLAS_COMPUTE_32F with scale type CUDA_R_32F");
  }
  // cuBLASLt's combinations for this compute type, less those of types the
  // emulator does not know: A and B bf16 with C and D bf16 or float, or all float.
  const bool ab_bf16 = a->type == CUDA_R_16BF && b->type == CUDA_R_16BF;
  const bool ab_f32 = a->type == CUDA_R_32F && b->type == CUDA_R_32F;
  const bool cd_bf16 = c->type == CUDA_R_16BF && d->type == CUDA_R_16BF;
  const bool cd_f32 = c->type == CUDA_R_32F && d->type == CUDA_R_32F;
  if (!(ab_bf16 && (cd_bf16 || cd_f32)) && !(ab_f32 && cd_f32)) {
    return fail(call, CUBLAS_STATUS_NOT_SUPPORTED,
                "the emulator multiplies A and B both CUDA_R_16BF into C and D both CUDA_R_16BF "
                "or both CUDA_R_32F, or all four CUDA_R_32F");
  }
  const int bias_type = desc->bias_type == -1 ? d->type : desc->bias_type;
  if (has_bias(desc->epilogue) && !is_supported_type(bias_type)) {
    return fail(call, CUBLAS_STATUS_NOT_SUPPORTED, "the bias must be CUDA_R_32F or CUDA_R_16BF");
  }
  const uint64_t m = d->rows, n = d->cols;
  const uint64_t k = is_transposed(desc->trans_a) ? a->rows : a->cols;
  const uint64_t a_m = is_transposed(desc->trans_a) ? a->cols : a->rows;
  const uint64_t b_k = is_transposed(desc->trans_b) ? b->cols : b->rows;
  const uint64_t b_n = is_transposed(desc->trans_b) ? b->rows : b->cols;
  if (a_m != m || b_n != n || b_k != k || c->rows != m || c->cols != n) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                "the shapes disagree: op(A) must be m×k, op(B) k×n, C and D m×n");
  }
  *problem = {m, n, k};
  return CUBLAS_STATUS_SUCCESS;
}

template <typename T>
cublasStatus_t set_value(const char* call, T* field, const void* buf, size_t size) {
  if (buf == nullptr || size != sizeof(T)) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                "buf is null or sizeInBytes is not the attribute's size");
  }
  std::memcpy(field, buf, sizeof(T));
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* lightHandle) {
  gpt_emu::announce();
  if (lightHandle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *lightHandle = new cublasLtContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t lightHandle) {
  delete lightHandle;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasLtGetStatusString(cublasStatus_t status) { return cublasGetStatusString(status); }

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* matLayout, cudaDataType type,
                                          uint64_t rows, uint64_t cols, int64_t ld) {
  const char* call = "cublasLtMatrixLayoutCreate";
  if (matLayout == nullptr) return fail(call, CUBLAS_STATUS_INVALID_VALUE, "matLayout is null");
  if (rows > INT32_MAX || cols > INT32_MAX) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "rows or cols is beyond int32");
  }
  if (ld < static_cast<int64_t>(rows > 1 ? rows : 1)) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "ld is less than rows (column-major)");
  }
  *matLayout = new cublasLtMatrixLayoutOpaque_t{type, rows, cols, ld};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout) {
  delete matLayout;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* matmulDesc,
                                        cublasComputeType_t computeType, cudaDataType_t scaleType) {
  if (matmulDesc == nullptr) {
    return fail("cublasLtMatmulDescCreate", CUBLAS_STATUS_INVALID_VALUE, "matmulDesc is null");
  }
  *matmulDesc = new cublasLtMatmulDescOpaque_t{computeType, scaleType};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc) {
  delete matmulDesc;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc,
                                              cublasLtMatmulDescAttributes_t attr, const void* buf,
                                              size_t sizeInBytes) {
  const char* call = "cublasLtMatmulDescSetAttribute";
  if (matmulDesc == nullptr) return fail(call, CUBLAS_STATUS_INVALID_VALUE, "matmulDesc is null");
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB: {
      int32_t op = 0;
      if (cublasStatus_t s = set_value(call, &op, buf, sizeInBytes); s != CUBLAS_STATUS_SUCCESS) {
        return s;
      }
      if (op != CUBLAS_OP_N && op != CUBLAS_OP_T && op != CUBLAS_OP_C) {
        return fail(call, CUBLAS_STATUS_INVALID_VALUE, "not a cublasOperation_t");
      }
      (attr == CUBLASLT_MATMUL_DESC_TRANSA ? matmulDesc->trans_a : matmulDesc->trans_b) =
          static_cast<cublasOperation_t>(op);
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_EPILOGUE: {
      uint32_t e = 0;
      if (cublasStatus_t s = set_value(call, &e, buf, sizeInBytes); s != CUBLAS_STATUS_SUCCESS) {
        return s;
      }
      if (e != CUBLASLT_EPILOGUE_DEFAULT && e != CUBLASLT_EPILOGUE_BIAS &&
          e != CUBLASLT_EPILOGUE_GELU && e != CUBLASLT_EPILOGUE_GELU_BIAS) {
        return fail(call, CUBLAS_STATUS_NOT_SUPPORTED,
                    "the emulator knows the epilogues DEFAULT, BIAS, GELU and GELU_BIAS");
      }
      matmulDesc->epilogue = static_cast<cublasLtEpilogue_t>(e);
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
      return set_value(call, &matmulDesc->bias, buf, sizeInBytes);
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
      return set_value(call, &matmulDesc->bias_type, buf, sizeInBytes);
  }
  return fail(call, CUBLAS_STATUS_INVALID_VALUE, "an attribute the emulator does not know");
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
  if (pref == nullptr) {
    return fail("cublasLtMatmulPreferenceCreate", CUBLAS_STATUS_INVALID_VALUE, "pref is null");
  }
  *pref = new cublasLtMatmulPreferenceOpaque_t;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
  delete pref;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr,
                                                    const void* buf, size_t sizeInBytes) {
  const char* call = "cublasLtMatmulPreferenceSetAttribute";
  if (pref == nullptr) return fail(call, CUBLAS_STATUS_INVALID_VALUE, "pref is null");
  switch (attr) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
      return set_value(call, &pref->max_workspace, buf, sizeInBytes);
    case CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK:
      return set_value(call, &pref->reduction_scheme_mask, buf, sizeInBytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
      return set_value(call,
                       &pref->min_alignment[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES], buf,
                       sizeInBytes);
  }
  return fail(call, CUBLAS_STATUS_INVALID_VALUE, "an attribute the emulator does not know");
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(
    cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t operationDesc, cublasLtMatrixLayout_t Adesc,
    cublasLtMatrixLayout_t Bdesc, cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc,
    cublasLtMatmulPreference_t preference, int requestedAlgoCount,
    cublasLtMatmulHeuristicResult_t heuristicResultsArray[], int* returnAlgoCount) {
  const char* call = "cublasLtMatmulAlgoGetHeuristic";
  if (lightHandle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (preference == nullptr || heuristicResultsArray == nullptr || returnAlgoCount == nullptr ||
      requestedAlgoCount <= 0) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                "preference, the results or their count is null, or requestedAlgoCount <= 0");
  }
  Problem problem;
  if (cublasStatus_t s = check_problem(call, operationDesc, Adesc, Bdesc, Cdesc, Ddesc, &problem);
      s != CUBLAS_STATUS_SUCCESS) {
    return s;
  }
  cublasLtMatmulHeuristicResult_t& result = heuristicResultsArray[0];
  result = cublasLtMatmulHeuristicResult_t{};
  result.algo.data[0] = kAlgoId;
  for (int i = 0; i < 4; ++i) result.algo.data[1 + i] = preference->min_alignment[i];
  result.algo.data[5] = alignment_of(operationDesc->bias);
  result.workspaceSize = 0;
  result.state = CUBLAS_STATUS_SUCCESS;
  result.wavesCount = 1.0f;
  *returnAlgoCount = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc,
                              const void* alpha, const void* A, cublasLtMatrixLayout_t Adesc,
                              const void* B, cublasLtMatrixLayout_t Bdesc, const void* beta,
                              const void* C, cublasLtMatrixLayout_t Cdesc, void* D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo,
                              void* workspace, size_t workspaceSizeInBytes, cudaStream_t) {
  const char* call = "cublasLtMatmul";
  if (lightHandle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  Problem p;
  if (cublasStatus_t s = check_problem(call, computeDesc, Adesc, Bdesc, Cdesc, Ddesc, &p);
      s != CUBLAS_STATUS_SUCCESS) {
    return s;
  }
  if (alpha == nullptr || beta == nullptr) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "alpha or beta is null");
  }
  const cublasLtMatmulDescOpaque_t& desc = *computeDesc;
  const double a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  const bool read_ab = a != 0.0 && p.k > 0, read_c = b != 0.0;
  const bool bias = has_bias(desc.epilogue), gelu = has_gelu(desc.epilogue);
  const int bias_type = desc.bias_type == -1 ? Ddesc->type : desc.bias_type;

  // The pointers: inside device memory, and as aligned as the algorithm was told.
  if (workspaceSizeInBytes > 0 && !gpt_emu::is_device_range(workspace, workspaceSizeInBytes)) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                "the workspace is not inside one device allocation");
  }
  if (p.m == 0 || p.n == 0) return CUBLAS_STATUS_SUCCESS;
  if (!gpt_emu::is_device_range(D, span_bytes(*Ddesc))) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "D is not inside one device allocation");
  }
  if (read_c && !gpt_emu::is_device_range(C, span_bytes(*Cdesc))) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "C is not inside one device allocation");
  }
  if (read_ab && (!gpt_emu::is_device_range(A, span_bytes(*Adesc)) ||
                  !gpt_emu::is_device_range(B, span_bytes(*Bdesc)))) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE, "A or B is not inside one device allocation");
  }
  if (bias && (desc.bias == nullptr ||
               !gpt_emu::is_device_range(desc.bias, p.m * element_size(bias_type)))) {
    return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                "the epilogue adds a bias, and CUBLASLT_MATMUL_DESC_BIAS_POINTER is not m "
                "elements of device memory");
  }
  if (algo != nullptr) {
    if (algo->data[0] != kAlgoId) {
      return fail(call, CUBLAS_STATUS_INVALID_VALUE, "algo is not one the heuristic returned");
    }
    const void* pointers[4] = {A, B, C, D};
    for (int i = 0; i < 4; ++i) {
      if (alignment_of(pointers[i]) < algo->data[1 + i]) {
        char why[160];
        std::snprintf(why, sizeof why,
                      "%c is %u-byte aligned, less than the heuristic was promised (%u bytes, "
                      "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_%c_BYTES)",
                      "ABCD"[i], alignment_of(pointers[i]),
                      static_cast<unsigned>(algo->data[1 + i]), "ABCD"[i]);
        return fail(call, CUBLAS_STATUS_INVALID_VALUE, why);
      }
    }
    if (bias && alignment_of(desc.bias) < algo->data[5]) {
      return fail(call, CUBLAS_STATUS_INVALID_VALUE,
                  "the bias is less aligned than its pointer was when the heuristic ran");
    }
  }

  // op(A) row by row and op(B) column by column, each contiguous, as floats
  // (bfloat16 and float both convert exactly): every element of D is then
  // one dot product of two contiguous arrays.
  const size_t m = p.m, n = p.n, k = p.k;
  std::vector<float> a_rows, b_cols;
  if (read_ab) {
    a_rows.resize(m * k);
    b_cols.resize(n * k);
    const bool ta = is_transposed(desc.trans_a), tb = is_transposed(desc.trans_b);
    const size_t lda = Adesc->ld, ldb = Bdesc->ld;
    for (size_t i = 0; i < m; ++i) {
      for (size_t l = 0; l < k; ++l) {  // op(A)(i, l): A(i, l), or A(l, i) when transposed
        a_rows[i * k + l] = load(A, Adesc->type, ta ? i * lda + l : l * lda + i);
      }
    }
    for (size_t j = 0; j < n; ++j) {
      for (size_t l = 0; l < k; ++l) {  // op(B)(l, j): B(l, j), or B(j, l) when transposed
        b_cols[j * k + l] = load(B, Bdesc->type, tb ? l * ldb + j : j * ldb + l);
      }
    }
  }
  const size_t ldc = Cdesc->ld, ldd = Ddesc->ld;
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < m; ++i) {
      double v = read_ab ? a * dot(&a_rows[i * k], &b_cols[j * k], k) : 0.0;
      if (read_c) v += b * load(C, Cdesc->type, j * ldc + i);
      if (bias) v += load(desc.bias, bias_type, i);
      if (gelu) v = gelu_tanh(v);
      if (Ddesc->type == CUDA_R_16BF) {
        static_cast<uint16_t*>(D)[j * ldd + i] = double_to_bf16(v);
      } else {
        static_cast<float*>(D)[j * ldd + i] = static_cast<float>(v);
      }
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}
