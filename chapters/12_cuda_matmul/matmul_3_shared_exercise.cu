// chapters/12_cuda_matmul/matmul_3_shared_exercise.cu — chapter 12 exercise: tile A and B in shared memory.
//
// Your version of matmul_3_shared.cu: the lesson's section 4 teaches it, and
// chapters/12_cuda_matmul/HINTS.md has graded hints. Build and test it (on a
// GPU, or without one on the CPU emulator) with
//   bazel test --define=exercise=12_cuda_matmul/matmul_3_shared //chapters/12_cuda_matmul/...
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

template <int TILE>
__global__ void shared_kernel(float* C, const float* A, const float* B, int M, int N, int K) {
  // TODO(you): compute C = A·B, staging TILE×TILE tiles of A and B in shared
  // memory (lesson, section 4; hints in HINTS.md).
  // A is (M, K), B is (K, N), C is (M, N), all row-major in device memory;
  // M, N >= 0 and K >= 1 are any sizes (matmul() checks them and throws on
  // bad ones before the launch, so the kernel throws nothing).
  // The grid is ceil(N/TILE) × ceil(M/TILE) blocks of TILE × TILE threads;
  // thread (threadIdx.y, threadIdx.x) owns C[blockIdx.y·TILE + y, blockIdx.x·TILE + x]
  // and writes it only if it lies inside C.
  const int m = blockIdx.y * TILE + threadIdx.y, n = blockIdx.x * TILE + threadIdx.x;
  (void)A;
  (void)B;
  (void)K;
  if (m < M && n < N) C[int64_t(m) * N + n] = 0.0f;
}

constexpr int kTile = 32;

}  // namespace

void matmul_shared(float* C, const float* A, const float* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, kTile), grid_size(M, kTile));
  shared_kernel<kTile><<<grid, dim3(kTile, kTile)>>>(C, A, B, M, N, K);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
