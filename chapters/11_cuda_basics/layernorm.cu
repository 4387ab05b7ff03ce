// chapters/11_cuda_basics/layernorm.cu — chapter 11: LayerNorm, a reduction per row.
//
// Each output row needs its input row's mean and variance, sums over the C
// channels. Version 1 gives a row to a thread, which sums alone, exactly as
// the CPU loop does: simple, but one thread per row is N threads (too few to
// fill a GPU at small N) and a warp's loads are C floats apart. Version 2
// (layernorm_forward_warp.cu, the exercise) gives a row to a warp.
//
// The backward has two kinds of sums: per row (the means of g and g·x̂, for
// dinp) and per channel ACROSS rows (dweight and dbias). The second kind is a
// reduction over N, and two versions show two standard ways to do it.
#include <cuda_runtime.h>

#include <algorithm>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// lesson: layernorm_forward_kernel1
// One thread per row n: the CPU's two passes, in float.
__global__ void layernorm_forward_kernel1(float* out, float* mean, float* rstd, const float* inp,
                                          const float* weight, const float* bias, int N, int C,
                                          float eps) {
  const int64_t n = global_thread();
  if (n >= N) return;
  const float* x = inp + n * C;  // (C)
  float* y = out + n * C;        // (C)
  float sum = 0.0f;
  for (int c = 0; c < C; ++c) sum += x[c];
  const float m = sum / C;
  float squares = 0.0f;
  for (int c = 0; c < C; ++c) squares += (x[c] - m) * (x[c] - m);
  const float r = 1.0f / sqrtf(squares / C + eps);
  for (int c = 0; c < C; ++c) y[c] = (x[c] - m) * r * weight[c] + bias[c];
  if (mean != nullptr) mean[n] = m;
  if (rstd != nullptr) rstd[n] = r;
}
// end lesson

// ---------------------------------------------------------------------------
// Backward, version 1: one thread per row for dinp, one thread per channel for
// dweight and dbias.

__global__ void layernorm_backward_dinp_kernel1(float* dinp, const float* dout, const float* inp,
                                                const float* mean, const float* rstd,
                                                const float* weight, int N, int C) {
  const int64_t n = global_thread();
  if (n >= N) return;
  const float* x = inp + n * C;
  const float* dy = dout + n * C;
  float* dx = dinp + n * C;
  const float m = mean[n], r = rstd[n];
  float g_sum = 0.0f, gx_sum = 0.0f;  // Σ g and Σ g·x̂ over the row, g = dout·weight
  for (int c = 0; c < C; ++c) {
    const float g = dy[c] * weight[c];
    g_sum += g;
    gx_sum += g * (x[c] - m) * r;
  }
  const float g_mean = g_sum / C, gx_mean = gx_sum / C;
  for (int c = 0; c < C; ++c) {
    const float xhat = (x[c] - m) * r;
    dx[c] += r * (dy[c] * weight[c] - g_mean - xhat * gx_mean);
  }
}

// lesson: layernorm_backward_params_kernel1
// One thread per channel c sums its column over all N rows. Thread c and c+1
// read neighbouring floats of each row (coalesced), and each thread owns its
// outputs: no atomics, the same result every run.
__global__ void layernorm_backward_params_kernel1(float* dweight, float* dbias, const float* dout,
                                                  const float* inp, const float* mean,
                                                  const float* rstd, int N, int C) {
  const int c = static_cast<int>(global_thread());
  if (c >= C) return;
  float dw = dweight[c], db = dbias[c];
  for (int n = 0; n < N; ++n) {
    const int64_t i = int64_t(n) * C + c;
    dw += dout[i] * (inp[i] - mean[n]) * rstd[n];
    db += dout[i];
  }
  dweight[c] = dw;
  dbias[c] = db;
}
// end lesson

// ---------------------------------------------------------------------------
// Backward, version 2: one warp per row; dweight and dbias summed per block in
// shared memory, then added to global memory once per block.

// lesson: layernorm_backward_kernel2
__global__ void layernorm_backward_kernel2(float* dinp, float* dweight, float* dbias,
                                           const float* dout, const float* inp, const float* mean,
                                           const float* rstd, const float* weight, int N, int C) {
  extern __shared__ float partial[];  // (2, C): this block's sums for dweight, then dbias
  float* dw = partial;
  float* db = partial + C;
  for (int c = threadIdx.x; c < 2 * C; c += blockDim.x) partial[c] = 0.0f;
  __syncthreads();  // zeroed before any warp adds to it

  const int warps = blockDim.x / kWarpSize, warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  // Rows blockIdx.x·warps + warp, then a grid's worth of rows further, and so on.
  // n is the same for the 32 lanes of a warp: they stay together for the shuffles.
  for (int64_t n = int64_t(blockIdx.x) * warps + warp; n < N; n += int64_t(gridDim.x) * warps) {
    const float* x = inp + n * C;
    const float* dy = dout + n * C;
    float* dx = dinp + n * C;
    const float m = mean[n], r = rstd[n];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int c = lane; c < C; c += kWarpSize) {
      const float g = dy[c] * weight[c];
      g_sum += g;
      gx_sum += g * (x[c] - m) * r;
    }
    const float g_mean = warp_sum(g_sum) / C, gx_mean = warp_sum(gx_sum) / C;
    for (int c = lane; c < C; c += kWarpSize) {
      const float xhat = (x[c] - m) * r;
      dx[c] += r * (dy[c] * weight[c] - g_mean - xhat * gx_mean);
      atomicAdd(&dw[c], dy[c] * xhat);  // shared-memory atomics: the block's warps collide here
      atomicAdd(&db[c], dy[c]);
    }
  }
  __syncthreads();  // every warp of the block has added its rows
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    atomicAdd(&dweight[c], dw[c]);  // one global atomic per channel per block
    atomicAdd(&dbias[c], db[c]);
  }
}
// end lesson

// Blocks for version 2: enough to keep every multiprocessor busy (4 each), no
// more (each block ends with 2·C global atomics).
int backward_blocks(int N) {
  static const int multiprocessors = [] {
    int device = 0, count = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
    return count;
  }();
  const int rows_per_block = kBlockSize / kWarpSize;
  return std::min(grid_size(N, rows_per_block), 4 * multiprocessors);
}

constexpr int kMaxBackwardC = 6144;  // 2·C floats of shared memory within the default 48 KiB

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C, float eps, int version) {
  check_version("layernorm_forward", version, 2);
  check_size("layernorm_forward", "N", N, 0);
  check_size("layernorm_forward", "C", C, 1);
  if (N == 0) return;
  if (version == 1) {
    layernorm_forward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(out, mean, rstd, inp,
                                                                        weight, bias, N, C, eps);
    CUDA_CHECK(cudaGetLastError());
  } else {
    layernorm_forward_warp(out, mean, rstd, inp, weight, bias, N, C, eps);
  }
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* mean, const float* rstd, const float* weight,
                        int N, int C, int version) {
  check_version("layernorm_backward", version, 2);
  check_size("layernorm_backward", "N", N, 0);
  check_size("layernorm_backward", "C", C, 1);
  if (version == 2 && C > kMaxBackwardC) {
    throw std::invalid_argument(
        "layernorm_backward version 2: C = " + std::to_string(C) +
        " needs more shared memory than a block has (C <= " + std::to_string(kMaxBackwardC) + ")");
  }
  if (N == 0) return;
  if (version == 1) {
    layernorm_backward_dinp_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(dinp, dout, inp, mean,
                                                                              rstd, weight, N, C);
    CUDA_CHECK(cudaGetLastError());
    layernorm_backward_params_kernel1<<<grid_size(C, kBlockSize), kBlockSize>>>(
        dweight, dbias, dout, inp, mean, rstd, N, C);
    CUDA_CHECK(cudaGetLastError());
  } else {
    const size_t shared_bytes = 2 * size_t(C) * sizeof(float);
    layernorm_backward_kernel2<<<backward_blocks(N), kBlockSize, shared_bytes>>>(
        dinp, dweight, dbias, dout, inp, mean, rstd, weight, N, C);
    CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace gpt::cuda
