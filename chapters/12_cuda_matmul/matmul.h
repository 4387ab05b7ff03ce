// chapters/12_cuda_matmul/matmul.h — chapter 12: C = A·B on the GPU, eight kernels from naive to double-buffered.
//
// Every matrix is row-major and lives in device memory:
//   A (M, K), B (K, N), C (M, N),   C[m, n] = Σ_k A[m, k] · B[k, n].
// Versions (one .cu file each, each adding one idea to the one before):
//   1  naive             one thread per C element; neighbouring threads walk down a column
//   2  coalesced         neighbouring threads take neighbouring columns: coalesced loads
//   3  shared tiling     32×32 tiles of A and B staged in shared memory
//   4  1D register tile  each thread computes 8 elements of a column (TM = 8)
//   5  2D register tile  each thread computes an 8×8 block, 128×128 tiles per block
//   6  vectorized        float4 loads, A stored transposed in shared memory
//   7  warp tiling       each warp owns a 64×32 sub-tile; 16-deep K slices
//   8  double buffering  the next K slice loads while this one is computed;
//                        tile shapes tuned by the benchmark
// Every version handles any M, N, K >= 1 (edges are bounds-checked); the
// float4 loads of versions 6 to 8 fall back to scalar loads for a tile that
// is cut by the edge or a matrix whose rows are not 16-byte aligned.
// matmul_cublas is the reference: cuBLAS's fp32 SGEMM with TF32 off.
#pragma once

namespace gpt::cuda {

constexpr int kMatmulVersions = 8;

// Whose kernel the GPT's products run: chapter 12's best (version 8), or cuBLAS.
// (matmul's `version` is the lesson's progression, for tests and benchmarks.)
enum class MatmulBackend { kOurs, kCublas };

// C = A · B. M, N >= 0, K >= 1 (M = 0 or N = 0: nothing to do). C must not
// alias A or B. Asynchronous, like every kernel launch.
void matmul(float* C,        // (M, N)
            const float* A,  // (M, K)
            const float* B,  // (K, N)
            int M, int N, int K, int version = kMatmulVersions);

// The same with cuBLAS (cublasSgemm, CUBLAS_DEFAULT_MATH: plain fp32, no TF32).
void matmul_cublas(float* C, const float* A, const float* B, int M, int N, int K);

// The general product the GPT needs (chapter 12's linear.h uses it):
//   C = op(A) · op(B) [+ C if accumulate] [+ bias broadcast over rows]
// op(A) is (M, K): A itself (M, K) or, with trans_a, the transpose of a
// stored (K, M). op(B) is (K, N): B itself (K, N) or, with trans_b, the
// transpose of a stored (N, K) — the way PyTorch stores a linear layer's weight.
// bias (N) or nullptr. Runs version 8, or cuBLAS.
struct Gemm {
  bool trans_a = false;
  bool trans_b = false;
  bool accumulate = false;
  const float* bias = nullptr;
};
void gemm(float* C, const float* A, const float* B, int M, int N, int K, const Gemm& options,
          MatmulBackend backend = MatmulBackend::kOurs);

}  // namespace gpt::cuda
