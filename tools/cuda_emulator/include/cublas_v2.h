// tools/cuda_emulator/include/cublas_v2.h — the emulator's stand-in for the CUDA
// toolkit's cuBLAS header: the handle, the status, operation, math-mode and
// compute-type enums, and the five calls the course makes, nothing else.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). Names, signatures and enum values
// are cuBLAS's own, so code means the same with either header. As in the
// toolkit, cublasCreate, cublasDestroy and cublasSgemm are the "_v2" entry
// points under their short names, with C linkage; the emulator's cublas.cc
// defines them. Anything of cuBLAS missing here fails to compile under
// --config=emulated: add it here (and to cublas.cc) then.
#pragma once

#include <library_types.h>  // cudaDataType, which the toolkit's cuBLAS header includes too

// cublasCreate gives out a pointer to this; only cublas.cc defines it.
typedef struct cublasContext* cublasHandle_t;

// What every cuBLAS call returns. The numbers are cuBLAS's.
typedef enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
} cublasStatus_t;

// How a matrix operand is read: as stored, transposed, or conjugate-transposed
// (the same as transposed for real numbers).
typedef enum {
  CUBLAS_OP_N = 0,
  CUBLAS_OP_T = 1,
  CUBLAS_OP_C = 2,
} cublasOperation_t;

// Whether cuBLAS may use faster, less exact arithmetic: the default forbids
// TF32; the emulator computes exactly either way.
typedef enum {
  CUBLAS_DEFAULT_MATH = 0,
  CUBLAS_TF32_TENSOR_OP_MATH = 3,
} cublasMath_t;

// The precision products accumulate in (cuBLASLt's cublasLtMatmulDescCreate).
// The toolkit declares it here too (cublas_api.h), for cublasGemmEx and friends.
typedef enum {
  CUBLAS_COMPUTE_32F = 68,  // float, the default: inputs read exactly, sums in float
} cublasComputeType_t;

#define cublasCreate cublasCreate_v2
#define cublasDestroy cublasDestroy_v2
#define cublasSgemm cublasSgemm_v2

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle);
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
const char* cublasGetStatusString(cublasStatus_t status);

// C = alpha · op(A) · op(B) + beta · C, all column-major: op(A) is m×k,
// op(B) k×n, C m×n; lda, ldb and ldc are the distances between columns.
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc);

}  // extern "C"
