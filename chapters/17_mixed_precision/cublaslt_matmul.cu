// chapters/17_mixed_precision/cublaslt_matmul.cu — chapter 17: asking cuBLASLt for a bf16 linear layer.
//
// Host code only, compiled by nvcc like chapter 12's cublas_matmul.cu (the
// cuBLAS headers need toolkit headers that @cuda//:headers does not list).
//
// What it teaches: cuBLASLt ("lightweight") is cuBLAS's descriptor API. A
// product is described once — the compute type, the transposes, the epilogue,
// one layout (type, rows, columns, leading dimension) per matrix — then the
// library's heuristic picks an algorithm (a kernel and its tiling) for that
// description, and cublasLtMatmul runs it. Describing costs far more than a
// small product, so the descriptions and the chosen algorithm are kept, one
// set per shape, epilogue, way the operands lie and pointer alignment, and
// reused on every later call.
//
// Row-major ↔ column-major: cuBLASLt's matrices are column-major. A row-major
// (R, C) matrix, read column-major, is its transpose (C, R), with no copying.
// We want out = A · Bᵀ (M, N); cuBLASLt is asked for outᵀ = B · Aᵀ (N, M),
// column-major, whose memory is exactly our row-major out:
//   - B (N, K) row-major reads as Bᵀ (K, N) column-major, so cuBLASLt's first
//     operand is it with opA = CUBLAS_OP_T, giving B (N, K);
//   - A (M, K) row-major reads as Aᵀ (K, M) column-major, already the second
//     operand we need: opB = CUBLAS_OP_N;
//   - outᵀ (N, M) column-major, leading dimension N, is out (M, N) row-major.
// An operand stored the other way, K down its columns (Bf16Operand), is
// already what cuBLASLt wants without its transpose: B stored (K, N)
// row-major reads as B (N, K), opA = CUBLAS_OP_N; A stored (K, M) reads as
// A (M, K), which opB = CUBLAS_OP_T turns into Aᵀ. Either way no copy.
// The bias is one value per row of cuBLASLt's D (N of them), broadcast along
// its M columns: one per output feature, as a linear layer adds it.
#include "chapters/17_mixed_precision/cublaslt_matmul.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

void lt_check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(call) + " failed: " + cublasLtGetStatusString(status) +
                             " (cublasStatus_t " + std::to_string(static_cast<int>(status)) + ")");
  }
}

// The workspace cuBLASLt may use for a product (split-K partial sums, ...).
// 32 MiB is what Hopper's largest algorithms ask for.
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

// One handle and one workspace for the whole program, made at first use and
// never freed (freeing at exit could run after the CUDA runtime is gone).
struct Library {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;  // kWorkspaceBytes of device memory
};

const Library& library() {
  static const Library lib = [] {
    Library made;
    lt_check(cublasLtCreate(&made.handle), "cublasLtCreate");
    CUDA_CHECK(cudaMalloc(&made.workspace, kWorkspaceBytes));
    return made;
  }();
  return lib;
}

// The alignment the heuristic may count on for a pointer: the largest power
// of two dividing its address, at most 256 (what cudaMalloc gives). A kernel
// chosen for 256-byte aligned data cannot run on a slice that starts at an
// odd row, so the alignment is part of the description.
uint32_t alignment(const void* p) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lowest_bit = address & (~address + 1);
  return address == 0 || lowest_bit >= 256 ? 256u : static_cast<uint32_t>(lowest_bit);
}

cublasLtEpilogue_t lt_epilogue(Epilogue epilogue) {
  switch (epilogue) {
    case Epilogue::kNone: return CUBLASLT_EPILOGUE_DEFAULT;
    case Epilogue::kBias: return CUBLASLT_EPILOGUE_BIAS;
    case Epilogue::kBiasGelu: return CUBLASLT_EPILOGUE_GELU_BIAS;
  }
  throw std::invalid_argument("matmul_cublaslt_bf16: unknown epilogue " +
                              std::to_string(static_cast<int>(epilogue)));
}

// A described product and the algorithm the heuristic chose for it.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t b = nullptr;       // B, cuBLASLt's first operand (top of this file)
  cublasLtMatrixLayout_t a = nullptr;       // A, its second
  cublasLtMatrixLayout_t output = nullptr;  // out (M, N) row-major = (N, M) column-major; C and D
  cublasLtMatmulAlgo_t algo{};
};

// M, N, K, the epilogue, out's type, how A and B lie (which way, ld), and
// the alignments of out, A, B and the bias.
using PlanKey = std::tuple<int, int, int, Epilogue, int, bool, int, bool, int, uint32_t, uint32_t,
                           uint32_t, uint32_t>;

void set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const void* value,
              size_t bytes, const char* what) {
  lt_check(cublasLtMatmulDescSetAttribute(desc, attr, value, bytes), what);
}

void set_pref(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr,
              const void* value, size_t bytes, const char* what) {
  lt_check(cublasLtMatmulPreferenceSetAttribute(pref, attr, value, bytes), what);
}

// What make_plan made before it failed, given back (no status checks: it is
// already failing with the first error).
void destroy(Plan& plan) {
  if (plan.desc != nullptr) cublasLtMatmulDescDestroy(plan.desc);
  for (cublasLtMatrixLayout_t layout : {plan.b, plan.a, plan.output}) {
    if (layout != nullptr) cublasLtMatrixLayoutDestroy(layout);
  }
  plan = Plan{};
}

// lesson: cublaslt_plan
// Describes the product and asks the heuristic for an algorithm, filling
// `plan` (the caller's, so that after a failure what was made can be given back).
// Of out (M, N), A, B and bias (N) only the addresses are read: their
// alignment, which the chosen algorithm may count on; of A and B also how
// they lie. out and the bias are of out_type: bf16, or fp32 for a product
// kept in fp32.
void describe(const void* out, cudaDataType out_type, Bf16Operand A, Bf16Operand B,
              const void* bias, int M, int N, int K, Epilogue epilogue, Plan& plan) {
  // fp32 sums (CUBLAS_COMPUTE_32F) and fp32 alpha, beta (CUDA_R_32F).
  lt_check(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
           "cublasLtMatmulDescCreate");
  // Rows along K: B reads as Bᵀ and is transposed back, A reads as Aᵀ as
  // it is. K down the columns: the other way round (top of this file).
  const cublasOperation_t op_b = B.k_down_columns ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_a = A.k_down_columns ? CUBLAS_OP_T : CUBLAS_OP_N;
  set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_b, sizeof op_b,
           "cublasLtMatmulDescSetAttribute(TRANSA)");
  set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_a, sizeof op_a,
           "cublasLtMatmulDescSetAttribute(TRANSB)");
  const cublasLtEpilogue_t lt = lt_epilogue(epilogue);
  set_desc(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &lt, sizeof lt,
           "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (epilogue != Epilogue::kNone) {
    const cudaDataType bias_type = out_type;  // bias (N), of out's type
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type,
             "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
    // The heuristic reads the bias pointer's alignment from here.
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias,
             "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }
  // Column-major shapes: a stored row is a column, ld apart.
  lt_check(B.k_down_columns  // stored (K, N): (N, K); else stored (N, K): (K, N)
               ? cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_16BF, N, K, B.ld)
               : cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_16BF, K, N, B.ld),
           "cublasLtMatrixLayoutCreate(B)");
  lt_check(A.k_down_columns  // stored (K, M): (M, K); else stored (M, K): (K, M)
               ? cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_16BF, M, K, A.ld)
               : cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_16BF, K, M, A.ld),
           "cublasLtMatrixLayoutCreate(A)");
  lt_check(cublasLtMatrixLayoutCreate(&plan.output, out_type, N, M, N),  // (N, M), ld N
           "cublasLtMatrixLayoutCreate(out)");

  // The heuristic's choice among the algorithms that fit our workspace and
  // the pointers' real alignment.
  cublasLtMatmulPreference_t pref = nullptr;
  lt_check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  try {
    const uint64_t workspace = kWorkspaceBytes;
    set_pref(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace,
             "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
    // fp32 accumulation all the way: an algorithm that splits the K sum into
    // parts ("split-K") must add the parts up in fp32 (COMPUTE_TYPE), not in
    // bf16 (INPLACE in the output, OUTPUT_TYPE in the workspace), which the
    // heuristic otherwise picks for some small shapes: on an H200, 16×177×33
    // split into 176 parts summed in bf16 was off by 98 times our tolerance.
    const uint32_t reductions = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    set_pref(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &reductions, sizeof reductions,
             "cublasLtMatmulPreferenceSetAttribute(REDUCTION_SCHEME_MASK)");
    const uint32_t align_a = alignment(B.data), align_b = alignment(A.data);
    const uint32_t align_cd = alignment(out);
    set_pref(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a, sizeof align_a,
             "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_A_BYTES)");
    set_pref(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b, sizeof align_b,
             "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_B_BYTES)");
    set_pref(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_cd, sizeof align_cd,
             "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_C_BYTES)");
    set_pref(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_cd, sizeof align_cd,
             "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_D_BYTES)");
    cublasLtMatmulHeuristicResult_t best{};
    int found = 0;
    lt_check(cublasLtMatmulAlgoGetHeuristic(library().handle, plan.desc, plan.b, plan.a,
                                            plan.output, plan.output, pref, 1, &best, &found),
             "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) {
      throw std::runtime_error(
          "cublasLtMatmulAlgoGetHeuristic found no algorithm for M=" + std::to_string(M) +
          " N=" + std::to_string(N) + " K=" + std::to_string(K));
    }
    plan.algo = best.algo;
  } catch (...) {
    cublasLtMatmulPreferenceDestroy(pref);
    throw;
  }
  lt_check(cublasLtMatmulPreferenceDestroy(pref), "cublasLtMatmulPreferenceDestroy");
}
// end lesson

Plan make_plan(const void* out, cudaDataType out_type, Bf16Operand A, Bf16Operand B,
               const void* bias, int M, int N, int K, Epilogue epilogue) {
  Plan plan;
  try {
    describe(out, out_type, A, B, bias, M, N, K, epilogue, plan);
  } catch (...) {
    destroy(plan);
    throw;
  }
  return plan;
}

void check_arguments(const char* op, const void* out, Bf16Operand A, Bf16Operand B,
                     const void* bias, int M, int N, int K, Epilogue epilogue) {
  const std::string where = std::string(op) + "(M=" + std::to_string(M) +
                            ", N=" + std::to_string(N) + ", K=" + std::to_string(K) + "): ";
  if (M < 0 || N < 0) throw std::invalid_argument(where + "M and N must be >= 0");
  if (K < 1) throw std::invalid_argument(where + "K must be >= 1");
  if (epilogue != Epilogue::kNone && epilogue != Epilogue::kBias &&
      epilogue != Epilogue::kBiasGelu) {
    throw std::invalid_argument(where + "unknown epilogue " +
                                std::to_string(static_cast<int>(epilogue)));
  }
  if (epilogue == Epilogue::kNone && bias != nullptr) {
    throw std::invalid_argument(where + "a bias was given, but the epilogue kNone adds none");
  }
  if (epilogue != Epilogue::kNone && bias == nullptr) {
    throw std::invalid_argument(where + "the epilogue adds a bias, and bias is null");
  }
  if (M > 0 && N > 0 && (out == nullptr || A.data == nullptr || B.data == nullptr)) {
    throw std::invalid_argument(where + "out, A and B must not be null");
  }
  // A stored row holds K values, or one per row of the product (M for A, N
  // for B). An empty product reads nothing.
  const auto check_ld = [&](const char* name, Bf16Operand x, int rows) {
    const int row_length = x.k_down_columns ? rows : K;
    if (x.ld < row_length) {
      throw std::invalid_argument(where + name + "'s ld " + std::to_string(x.ld) +
                                  " is shorter than its stored rows (" +
                                  std::to_string(row_length) + ")");
    }
  };
  if (M > 0 && N > 0) {
    check_ld("A", A, M);
    check_ld("B", B, N);
  }
}

// out = epilogue(A · Bᵀ [+ bias]) + beta · out, out and the bias of out_type.
void product(void* out, cudaDataType out_type, Bf16Operand A, Bf16Operand B, const void* bias,
             int M, int N, int K, Epilogue epilogue, float beta) {
  // The plans of every shape seen so far, made at first use and kept for the
  // program's life, like the handle. The mutex also guards the bias pointer,
  // which is set on a plan's shared description at every call.
  static std::mutex mutex;
  static auto* plans = new std::map<PlanKey, Plan>;
  std::lock_guard<std::mutex> lock(mutex);
  const Library& lib = library();
  const PlanKey key{M,
                    N,
                    K,
                    epilogue,
                    static_cast<int>(out_type),
                    A.k_down_columns,
                    A.ld,
                    B.k_down_columns,
                    B.ld,
                    alignment(out),
                    alignment(A.data),
                    alignment(B.data),
                    alignment(bias)};
  auto it = plans->find(key);
  if (it == plans->end()) {
    it = plans->emplace(key, make_plan(out, out_type, A, B, bias, M, N, K, epilogue)).first;
  }
  const Plan& plan = it->second;
  if (epilogue != Epilogue::kNone) {
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias,
             "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }
  // outᵀ (N, M) = B (N, K) · Aᵀ (K, M): see the top of this file. C is out
  // itself, read only where beta is not 0.
  const float alpha = 1.0f;
  lt_check(cublasLtMatmul(lib.handle, plan.desc, &alpha, B.data, plan.b, A.data, plan.a, &beta,
                          out, plan.output, out, plan.output, &plan.algo, lib.workspace,
                          kWorkspaceBytes, /*stream=*/0),
           "cublasLtMatmul");
}

}  // namespace

// lesson: matmul_cublaslt_bf16
void matmul_cublaslt_bf16(Bf16* out,         // (M, N)
                          const Bf16* A,     // (M, K)
                          const Bf16* B,     // (N, K)
                          const Bf16* bias,  // (N), or null
                          int M, int N, int K, Epilogue epilogue) {
  const Bf16Operand a = k_along_rows(A, K), b = k_along_rows(B, K);
  check_arguments("matmul_cublaslt_bf16", out, a, b, bias, M, N, K, epilogue);
  if (M == 0 || N == 0) return;  // an empty product: nothing to write
  product(out, CUDA_R_16BF, a, b, bias, M, N, K, epilogue, /*beta=*/0.0f);
}
// end lesson

void matmul_cublaslt_bf16_f32(float* out, Bf16Operand A, Bf16Operand B, const float* bias, int M,
                              int N, int K, bool accumulate) {
  const Epilogue epilogue = bias != nullptr ? Epilogue::kBias : Epilogue::kNone;
  check_arguments("matmul_cublaslt_bf16_f32", out, A, B, bias, M, N, K, epilogue);
  if (M == 0 || N == 0) return;
  product(out, CUDA_R_32F, A, B, bias, M, N, K, epilogue, accumulate ? 1.0f : 0.0f);
}

}  // namespace gpt::cuda
