// chapters/11_cuda_basics/layernorm_forward_warp.cu — chapter 11: LayerNorm, one warp per row.
// Exercise: layernorm_forward_warp_exercise.cu is this file with the kernel's body removed.
//
// The 32 lanes of a warp share a row: lane l takes channels l, l+32, l+64, ...
// so at every step the warp reads 32 neighbouring floats (coalesced). Each
// lane sums its channels, warp_sum (reduce.cuh) adds the 32 partial sums with
// shuffles, and every lane knows the row's mean, then likewise its variance.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// lesson: layernorm_forward_kernel2
__global__ void layernorm_forward_kernel2(float* out, float* mean, float* rstd, const float* inp,
                                          const float* weight, const float* bias, int N, int C,
                                          float eps) {
  const int warps = blockDim.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * warps + threadIdx.x / kWarpSize;  // this warp's row
  // The whole warp leaves together: the shuffles below need all 32 lanes.
  if (n >= N) return;
  const float* x = inp + n * C;  // (C)
  float* y = out + n * C;        // (C)
  float sum = 0.0f;
  for (int c = lane; c < C; c += kWarpSize) sum += x[c];
  const float m = warp_sum(sum) / C;
  float squares = 0.0f;
  for (int c = lane; c < C; c += kWarpSize) squares += (x[c] - m) * (x[c] - m);
  const float r = 1.0f / sqrtf(warp_sum(squares) / C + eps);
  for (int c = lane; c < C; c += kWarpSize) y[c] = (x[c] - m) * r * weight[c] + bias[c];
  if (lane == 0 && mean != nullptr) mean[n] = m;
  if (lane == 0 && rstd != nullptr) rstd[n] = r;
}
// end lesson

}  // namespace

// lesson: layernorm_forward_warp
void layernorm_forward_warp(float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int N, int C, float eps) {
  const int rows_per_block = kBlockSize / kWarpSize;  // 8 warps, 8 rows
  layernorm_forward_kernel2<<<grid_size(N, rows_per_block), kBlockSize>>>(out, mean, rstd, inp,
                                                                          weight, bias, N, C, eps);
  CUDA_CHECK(cudaGetLastError());
}
// end lesson

}  // namespace gpt::cuda
