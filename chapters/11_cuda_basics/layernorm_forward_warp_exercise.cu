// chapters/11_cuda_basics/layernorm_forward_warp_exercise.cu — EXERCISE: LayerNorm, one warp per
// row.
//
//   bazel test --define=exercise=11_cuda_basics //chapters/11_cuda_basics:cuda_basics_test
// The solution is layernorm_forward_warp.cu. Without a GPU the tests run your
// kernel on the CPU emulator, which checks its results, not its speed.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

__global__ void layernorm_forward_kernel2(float* out, float* mean, float* rstd, const float* inp,
                                          const float* weight, const float* bias, int N, int C,
                                          float eps) {
  // TODO(you): warp number threadIdx.x / 32 of block blockIdx.x normalises row
  // n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32 (if n < N; the whole
  // warp must leave together). Lane l = threadIdx.x % 32 takes channels l,
  // l + 32, l + 64, ... of the row: sum them, combine the lanes' sums with
  // warp_sum (reduce.cuh) to get the mean; the same for the squared deviations
  // to get the variance and rstd = 1 / sqrtf(var + eps); then write
  // (x − mean) · rstd · weight + bias. Lane 0 stores mean[n] and rstd[n]
  // where those pointers are not null. Compare layernorm_forward_kernel1.
  (void)out, (void)mean, (void)rstd, (void)inp, (void)weight, (void)bias, (void)N, (void)C,
      (void)eps;
}

}  // namespace

void layernorm_forward_warp(float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int N, int C, float eps) {
  const int rows_per_block = kBlockSize / kWarpSize;  // 8 warps, 8 rows
  layernorm_forward_kernel2<<<grid_size(N, rows_per_block), kBlockSize>>>(out, mean, rstd, inp,
                                                                          weight, bias, N, C, eps);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
