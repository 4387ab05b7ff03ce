// chapters/17_mixed_precision/cublaslt_matmul.h — chapter 17: cuBLASLt's bf16 matmul, with the bias and GELU fused in.
//
// The reference our tensor-core kernels are measured against, and a linear
// layer in one call: NVIDIA's cuBLASLt reads bf16 inputs, accumulates in
// fp32 on the tensor cores, adds the bias and applies GELU on its way out
// (its "epilogue"), and writes bf16 once: no second pass over the output.
// Runs on the GPU, or on the CPU emulator (tools/cuda_emulator) where the
// build is emulated.
#pragma once

#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/epilogue.h"

namespace gpt::cuda {

// out (M, N) = A (M, K) · Bᵀ, where B is stored (N, K) row-major (a linear
// layer's weight: one row per output feature), [+ bias (N), one per output
// feature], [then GELU]. All row-major, all device pointers; bf16 in and out,
// fp32 accumulation (CUBLAS_COMPUTE_32F), the bias bf16. bias must be given
// exactly when the epilogue adds it. M and N may be 0 (nothing is done); K is
// at least 1. Throws std::invalid_argument for bad arguments before any CUDA
// call, std::runtime_error naming the call when cuBLASLt fails.
//
// Precision: the K sum is fp32 throughout (split-K algorithms must add their
// parts in fp32), rounded once to bf16 without an epilogue. With one, cuBLASLt
// may round the sum to bf16 before adding the bias (split-K algorithms, and
// some it picks for small shapes with GELU, on an H200 with CUDA 13.0), and
// its GELU uses an approximate tanh: one more rounding of the sum, at most.
void matmul_cublaslt_bf16(Bf16* out,         // (M, N)
                          const Bf16* A,     // (M, K)
                          const Bf16* B,     // (N, K)
                          const Bf16* bias,  // (N); null for Epilogue::kNone
                          int M, int N, int K, Epilogue epilogue = Epilogue::kNone);

// One operand of out (M, N) = A · Bᵀ, A (M, K) and B (N, K), as it lies in
// memory. Either its rows run along K, as above: (M, ld) with ld >= K. Or K
// runs down its columns: the operand's transpose is what is stored, (K, ld)
// with ld >= M (N for B). A backward product's operand often lies the second
// way (dW = doutᵀ · inp runs along the batch, down dout's columns), and
// cuBLASLt reads it where it lies (its TRANSA and TRANSB): nothing is copied.
struct Bf16Operand {
  const Bf16* data;
  int ld;               // elements from one stored row to the next
  bool k_down_columns;  // false: rows along K
};
inline Bf16Operand k_along_rows(const Bf16* data, int ld) { return {data, ld, false}; }
inline Bf16Operand k_down_columns(const Bf16* data, int ld) { return {data, ld, true}; }

// The same product kept in fp32, for the GPT's bf16 backend (bf16_products.h),
// each operand as it lies (Bf16Operand): out (M, N) = A · Bᵀ [+ bias], or
// out += A · Bᵀ [+ bias] when accumulate (cuBLASLt's beta = 1). out and the
// bias are fp32, the bias may be null.
void matmul_cublaslt_bf16_f32(float* out,         // (M, N), fp32
                              Bf16Operand A,      // (M, K), or stored (K, M)
                              Bf16Operand B,      // (N, K), or stored (K, N)
                              const float* bias,  // (N), or null
                              int M, int N, int K, bool accumulate);

}  // namespace gpt::cuda
