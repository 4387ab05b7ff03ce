// tools/cuda_emulator/include/cublasLt.h — the emulator's stand-in for the CUDA
// toolkit's cuBLASLt header: the handle, the descriptors, the heuristic and
// cublasLtMatmul, as much of it as the course uses.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). The names, signatures and enum values
// are cuBLASLt's own, so code means the same with either header; everything
// else the toolkit declares is left out, and a use of it fails to compile
// under --config=emulated: add it here (and to cublaslt.cc) then. The
// emulator's cublaslt.cc defines the functions, with C linkage as in the
// toolkit.
//
// One difference a program cannot see through the calls below: the toolkit's
// descriptors are fixed-size structs a program may also allocate itself
// (cublasLtMatrixLayoutInit and friends); here they exist only through the
// Create functions, so those structs are left undefined.
#pragma once

// cublasStatus_t, cublasOperation_t and cublasComputeType_t: the toolkit's
// cuBLASLt header has them from cublas_api.h, the emulator's from cublas_v2.h.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>  // cudaStream_t
#include <library_types.h>     // cudaDataType
#include <stddef.h>
#include <stdint.h>

// The library's context (cublasLtCreate); only cublaslt.cc defines it.
typedef struct cublasLtContext* cublasLtHandle_t;

// A matrix's element type, shape and leading dimension (cublasLtMatrixLayoutCreate).
typedef struct cublasLtMatrixLayoutOpaque_t* cublasLtMatrixLayout_t;
// What a product computes: compute and scale types, transposes, epilogue.
typedef struct cublasLtMatmulDescOpaque_t* cublasLtMatmulDesc_t;
// What the heuristic may choose from: the workspace, the pointers' alignment.
typedef struct cublasLtMatmulPreferenceOpaque_t* cublasLtMatmulPreference_t;

// An algorithm the heuristic chose, held by value (64 bytes, as in the toolkit).
typedef struct {
  uint64_t data[8];
} cublasLtMatmulAlgo_t;

// One answer of cublasLtMatmulAlgoGetHeuristic: the algorithm, the workspace
// it needs, whether it is usable, and how full it keeps the GPU.
typedef struct {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
} cublasLtMatmulHeuristicResult_t;

// cublasLtMatmulDescSetAttribute's attributes; each value's C type in brackets.
typedef enum {
  CUBLASLT_MATMUL_DESC_TRANSA = 3,           // op(A): cublasOperation_t [int32_t]
  CUBLASLT_MATMUL_DESC_TRANSB = 4,           // op(B): cublasOperation_t [int32_t]
  CUBLASLT_MATMUL_DESC_EPILOGUE = 7,         // cublasLtEpilogue_t [uint32_t]
  CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,     // device pointer, one per row of D [const void*]
  CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE = 26,  // cudaDataType, -1: D's type [int32_t]
} cublasLtMatmulDescAttributes_t;

// What is done to each element of alpha · op(A) · op(B) + beta · C before it
// is stored in D. The bias (one value per row of D) is added first.
typedef enum {
  CUBLASLT_EPILOGUE_DEFAULT = 1,     // nothing
  CUBLASLT_EPILOGUE_BIAS = 4,        // + bias
  CUBLASLT_EPILOGUE_GELU = 32,       // GELU (its tanh form)
  CUBLASLT_EPILOGUE_GELU_BIAS = 36,  // + bias, then GELU
} cublasLtEpilogue_t;

// How an algorithm that splits the K sum into parts ("split-K") adds the parts
// up: not at all (one part), in the output matrix and type, or in the
// workspace in the compute type or in the output type.
typedef enum {
  CUBLASLT_REDUCTION_SCHEME_NONE = 0,
  CUBLASLT_REDUCTION_SCHEME_INPLACE = 1,
  CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE = 2,
  CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE = 4,
  CUBLASLT_REDUCTION_SCHEME_MASK = 0x7,
} cublasLtReductionScheme_t;

// cublasLtMatmulPreferenceSetAttribute's attributes.
typedef enum {
  CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,    // [uint64_t], default 0
  CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK = 3,  // schemes allowed [uint32_t], default all
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,  // [uint32_t], default 256
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,  // [uint32_t], default 256
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,  // [uint32_t], default 256
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,  // [uint32_t], default 256
} cublasLtMatmulPreferenceAttributes_t;

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* lightHandle);
cublasStatus_t cublasLtDestroy(cublasLtHandle_t lightHandle);
const char* cublasLtGetStatusString(cublasStatus_t status);

// A column-major (rows, cols) matrix of `type` whose columns are ld elements apart.
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* matLayout, cudaDataType type,
                                          uint64_t rows, uint64_t cols, int64_t ld);
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout);

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* matmulDesc,
                                        cublasComputeType_t computeType, cudaDataType_t scaleType);
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc);
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc,
                                              cublasLtMatmulDescAttributes_t attr, const void* buf,
                                              size_t sizeInBytes);

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref);
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref);
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr,
                                                    const void* buf, size_t sizeInBytes);

// Up to requestedAlgoCount algorithms for this product, best first.
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(
    cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t operationDesc, cublasLtMatrixLayout_t Adesc,
    cublasLtMatrixLayout_t Bdesc, cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc,
    cublasLtMatmulPreference_t preference, int requestedAlgoCount,
    cublasLtMatmulHeuristicResult_t heuristicResultsArray[], int* returnAlgoCount);

// D = epilogue(alpha · op(A) · op(B) + beta · C), all column-major: op(A) is
// m×k, op(B) k×n, C and D m×n. alpha and beta are host pointers (of the
// scale type); algo may be null (the library then chooses).
cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc,
                              const void* alpha, const void* A, cublasLtMatrixLayout_t Adesc,
                              const void* B, cublasLtMatrixLayout_t Bdesc, const void* beta,
                              const void* C, cublasLtMatrixLayout_t Cdesc, void* D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo,
                              void* workspace, size_t workspaceSizeInBytes, cudaStream_t stream);

}  // extern "C"
