// chapters/17_mixed_precision/bf16_matmul.h — chapter 17: a bf16 matrix product on the tensor cores, four versions.
//
// Every matrix is row-major, in device memory, bf16, and the product is the
// one a linear layer computes, both operands running along K:
//   A (M, K), B (N, K), out (M, N),   out[m, n] = Σ_k A[m, k] · B[n, k]
// (out = A · Bᵀ: B is stored as PyTorch stores a weight, (out features, in
// features)). Products of two bf16 are exact in float32, the sum runs in
// float32, and each result is rounded once, to bf16, when it is written.
// Versions (one .cu file each):
//   1  WMMA           CUDA's warp-level matrix API: 16×16×16 fragments,
//                     64×64 tiles staged in shared memory
//   2  mma.sync       the PTX instruction underneath (m16n8k16), fed by
//                     ldmatrix from a swizzled shared-memory layout;
//                     128×128×32 tiles, 8 warps of 64×32
//   3  cp.async       the same, with copies that bypass registers and run
//                     STAGES tiles ahead of the arithmetic (a pipeline);
//                     tile shapes tuned by the benchmark
//   4  wgmma          Hopper only (sm_90a: H100, H200): version 3's pipeline
//                     feeding the warpgroup MMA, which reads A and B straight
//                     from shared memory and runs asynchronously
// Every version handles any M, N >= 0 and any K >= 8 that is a multiple of
// 8 (each row is then a whole number of 16-byte pieces, the unit every
// version copies); A, B and out must be 16-byte aligned.
#pragma once

#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/epilogue.h"

namespace gpt::cuda {

constexpr int kBf16MatmulVersions = 4;
// The fastest version that runs on every GPU the course builds for (sm_80, sm_90).
constexpr int kBf16MatmulPortableVersion = 3;

// out = A · Bᵀ in bf16 (fp32 accumulation). Asynchronous, like every launch.
// Version 4 on a GPU other than sm_90 throws std::runtime_error.
void bf16_matmul(Bf16* out,        // (M, N)
                 const Bf16* A,    // (M, K)
                 const Bf16* B,    // (N, K)
                 int M, int N, int K, int version = kBf16MatmulPortableVersion);

// Whether `version` runs on this GPU (or on the CPU emulator, every version does).
bool bf16_matmul_runs_here(int version);

// A linear layer: out = epilogue(A · Bᵀ + bias), on version 3 with the bias
// and GELU done on the fp32 sums in registers, rounded once to bf16 (one
// rounding fewer than cuBLASLt's bias epilogue, cublaslt_matmul.h). bias (N)
// must be given exactly when the epilogue adds it. Sizes as bf16_matmul.
void bf16_linear(Bf16* out,         // (M, N)
                 const Bf16* A,     // (M, K)
                 const Bf16* B,     // (N, K)
                 const Bf16* bias,  // (N), or null for Epilogue::kNone
                 int M, int N, int K, Epilogue epilogue);

// The product kept in fp32, for the GPT's bf16 backend (bf16_products.h),
// whose activations and gradients are mostly fp32: out (M, N) = A · Bᵀ + bias, or
// out += A · Bᵀ + bias when accumulate (a gradient adding into its buffer).
// Version 3 or 4; bias may be null; sizes and alignment as bf16_matmul, and
// out must be 4-byte aligned.
void bf16_product_f32(float* out,         // (M, N), fp32
                      const Bf16* A,      // (M, K)
                      const Bf16* B,      // (N, K)
                      const float* bias,  // (N), or null
                      int M, int N, int K, bool accumulate,
                      int version = kBf16MatmulPortableVersion);

namespace bf16_matmul_internal {
void matmul_wmma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K);
void matmul_mma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K);
// Version 3 with its default tile shape (and, optionally, a bias and GELU
// after the sums), and each candidate shape on its own.
void matmul_pipelined(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                      const Bf16* bias = nullptr, bool gelu = false);
void matmul_pipelined_f32(float* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                          const float* bias, bool accumulate);
int pipelined_candidates();
const char* pipelined_candidate_name(int i);
void matmul_pipelined_candidate(int i, Bf16* out, const Bf16* A, const Bf16* B, int M, int N,
                                int K);
// Version 4 (only where wgmma_runs_here), with its default tile shape and each candidate.
bool wgmma_runs_here();
void matmul_wgmma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K);
void matmul_wgmma_f32(float* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                      const float* bias, bool accumulate);
int wgmma_candidates();
const char* wgmma_candidate_name(int i);
void matmul_wgmma_candidate(int i, Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K);
}  // namespace bf16_matmul_internal

}  // namespace gpt::cuda
