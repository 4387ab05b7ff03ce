// chapters/11_cuda_basics/softmax.cu — chapter 11: softmax rows, by a thread, a warp or a block.
//
// A softmax row needs two reductions — its maximum, then the sum of
// exponentials — before any output can be written. Who reduces a row is the
// design choice:
//   a thread  (version 1 of everything): the CPU loop, one row per thread;
//   a warp    (causal softmax, version 2): rows of at most T = 1024 entries;
//             warp_max and warp_sum (reduce.cuh) combine the 32 lanes;
//   a block   (cross-entropy forward, version 2): rows of V = 50257 logits for
//             GPT-2, too long for 32 threads; block_max and block_sum add a
//             round through shared memory to combine the block's warps.
#include <cuda_runtime.h>
#include <math_constants.h>

#include <algorithm>
#include <vector>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/11_cuda_basics/softmax.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// ---------------------------------------------------------------------------
// Causal softmax. Row `row` of (N*T, T) is row t = row % T of matrix row / T:
// it sees columns 0..t. Each element is read and then written by the same
// thread, so `weights` may be `scores`.

__global__ void causal_softmax_forward_kernel1(float* weights, const float* scores, int64_t rows,
                                               int T) {
  const int64_t row = global_thread();
  if (row >= rows) return;
  const int t = static_cast<int>(row % T);
  const float* s = scores + row * T;
  float* w = weights + row * T;
  float m = -INFINITY;
  for (int j = 0; j <= t; ++j) m = fmaxf(m, s[j]);
  float sum = 0.0f;
  for (int j = 0; j <= t; ++j) {
    w[j] = expf(s[j] - m);
    sum += w[j];
  }
  for (int j = 0; j <= t; ++j) w[j] /= sum;
  for (int j = t + 1; j < T; ++j) w[j] = 0.0f;  // the future gets weight exactly 0
}

// lesson: causal_softmax_forward_kernel2
// One warp per row; lane l takes columns l, l+32, ... of it.
__global__ void causal_softmax_forward_kernel2(float* weights, const float* scores, int64_t rows,
                                               int T) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
  if (row >= rows) return;  // the whole warp leaves together
  const int t = static_cast<int>(row % T);
  const float* s = scores + row * T;
  float* w = weights + row * T;
  float m = -INFINITY;
  for (int j = lane; j <= t; j += kWarpSize) m = fmaxf(m, s[j]);
  m = warp_max(m);  // every lane: the row's maximum
  float sum = 0.0f;
  for (int j = lane; j <= t; j += kWarpSize) sum += expf(s[j] - m);
  sum = warp_sum(sum);  // every lane: the row's normaliser
  for (int j = lane; j < T; j += kWarpSize) w[j] = j <= t ? expf(s[j] - m) / sum : 0.0f;
}
// end lesson

__global__ void causal_softmax_backward_kernel1(float* dscores, const float* dweights,
                                                const float* weights, int64_t rows, int T) {
  const int64_t row = global_thread();
  if (row >= rows) return;
  const int t = static_cast<int>(row % T);
  const float* w = weights + row * T;
  const float* dw = dweights + row * T;
  float* ds = dscores + row * T;
  float weighted = 0.0f;  // Σ_j w_j dw_j over the visible columns
  for (int j = 0; j <= t; ++j) weighted += w[j] * dw[j];
  for (int j = 0; j <= t; ++j) ds[j] += w[j] * (dw[j] - weighted);
}

__global__ void causal_softmax_backward_kernel2(float* dscores, const float* dweights,
                                                const float* weights, int64_t rows, int T) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
  if (row >= rows) return;
  const int t = static_cast<int>(row % T);
  const float* w = weights + row * T;
  const float* dw = dweights + row * T;
  float* ds = dscores + row * T;
  float weighted = 0.0f;
  for (int j = lane; j <= t; j += kWarpSize) weighted += w[j] * dw[j];
  weighted = warp_sum(weighted);
  for (int j = lane; j <= t; j += kWarpSize) ds[j] += w[j] * (dw[j] - weighted);
}

// ---------------------------------------------------------------------------
// Cross-entropy, fused with its softmax: one kernel reads each logit row and
// writes its probabilities and its loss.

__global__ void cross_entropy_forward_kernel1(float* losses, float* probs, const float* logits,
                                              const int32_t* targets, int N, int V) {
  const int64_t n = global_thread();
  if (n >= N) return;
  const float* z = logits + n * V;
  float* p = probs + n * V;
  float m = -INFINITY;
  for (int v = 0; v < V; ++v) m = fmaxf(m, z[v]);
  float sum = 0.0f;
  for (int v = 0; v < V; ++v) {
    p[v] = expf(z[v] - m);
    sum += p[v];
  }
  for (int v = 0; v < V; ++v) p[v] /= sum;
  const int32_t target = targets[n];
  losses[n] = target >= 0 && target < V ? logf(sum) - (z[target] - m) : CUDART_NAN_F;
}

// lesson: cross_entropy_forward_kernel2
// One block per row n; thread i of the block takes logits i, i + blockDim.x, ...
__global__ void cross_entropy_forward_kernel2(float* losses, float* probs, const float* logits,
                                              const int32_t* targets, int N, int V) {
  __shared__ float scratch[kWarpSize];  // one partial result per warp, for block_max/block_sum
  const int64_t n = blockIdx.x;         // the grid has exactly N blocks
  const float* z = logits + n * V;
  float* p = probs + n * V;
  float m = -INFINITY;
  for (int v = threadIdx.x; v < V; v += blockDim.x) m = fmaxf(m, z[v]);
  m = block_max(m, scratch);  // every thread: the row's maximum
  float sum = 0.0f;
  for (int v = threadIdx.x; v < V; v += blockDim.x) sum += expf(z[v] - m);
  sum = block_sum(sum, scratch);  // every thread: the row's normaliser
  for (int v = threadIdx.x; v < V; v += blockDim.x) p[v] = expf(z[v] - m) / sum;
  if (threadIdx.x == 0) {
    const int32_t target = targets[n];
    losses[n] = target >= 0 && target < V ? logf(sum) - (z[target] - m) : CUDART_NAN_F;
  }
}
// end lesson

__global__ void cross_entropy_backward_kernel1(float* dlogits, float scale, const float* probs,
                                               const int32_t* targets, int N, int V) {
  const int64_t n = global_thread();
  if (n >= N) return;
  const int32_t target = targets[n];
  for (int v = 0; v < V; ++v) {
    dlogits[n * V + v] += scale * (probs[n * V + v] - (v == target ? 1.0f : 0.0f));
  }
}

__global__ void cross_entropy_backward_kernel2(float* dlogits, float scale, const float* probs,
                                               const int32_t* targets, int N, int V) {
  const int64_t i = global_thread();  // flat index into (N, V)
  if (i >= int64_t(N) * V) return;
  const int v = static_cast<int>(i % V);
  const int32_t target = targets[i / V];
  dlogits[i] += scale * (probs[i] - (v == target ? 1.0f : 0.0f));
}

// Rows of warps: a block of kBlockSize threads handles kBlockSize / 32 rows.
int warp_per_row_grid(int64_t rows) { return grid_size(rows, kBlockSize / kWarpSize); }

}  // namespace

void causal_softmax_forward(float* weights, const float* scores, int N, int T, int version) {
  check_version("causal_softmax_forward", version, 2);
  check_size("causal_softmax_forward", "N", N, 0);
  check_size("causal_softmax_forward", "T", T, 0);
  const int64_t rows = int64_t(N) * T;
  if (rows == 0) return;
  if (version == 1) {
    causal_softmax_forward_kernel1<<<grid_size(rows, kBlockSize), kBlockSize>>>(weights, scores,
                                                                                rows, T);
  } else {
    causal_softmax_forward_kernel2<<<warp_per_row_grid(rows), kBlockSize>>>(weights, scores, rows,
                                                                            T);
  }
  CUDA_CHECK(cudaGetLastError());
}

void causal_softmax_backward(float* dscores, const float* dweights, const float* weights, int N,
                             int T, int version) {
  check_version("causal_softmax_backward", version, 2);
  check_size("causal_softmax_backward", "N", N, 0);
  check_size("causal_softmax_backward", "T", T, 0);
  const int64_t rows = int64_t(N) * T;
  if (rows == 0) return;
  if (version == 1) {
    causal_softmax_backward_kernel1<<<grid_size(rows, kBlockSize), kBlockSize>>>(dscores, dweights,
                                                                                 weights, rows, T);
  } else {
    causal_softmax_backward_kernel2<<<warp_per_row_grid(rows), kBlockSize>>>(dscores, dweights,
                                                                             weights, rows, T);
  }
  CUDA_CHECK(cudaGetLastError());
}

// lesson: cross_entropy_forward
float cross_entropy_forward(float* losses, float* probs, const float* logits,
                            const int32_t* targets, int N, int V, int version) {
  check_version("cross_entropy_forward", version, 2);
  check_size("cross_entropy_forward", "N", N, 1);
  check_size("cross_entropy_forward", "V", V, 1);
  if (version == 1) {
    cross_entropy_forward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(losses, probs, logits,
                                                                            targets, N, V);
  } else {
    // Whole warps, and no more threads than logits: V = 65 needs 96, not 256.
    const int threads =
        static_cast<int>(std::min<int64_t>(kBlockSize, ceil_div(V, kWarpSize) * kWarpSize));
    cross_entropy_forward_kernel2<<<N, threads>>>(losses, probs, logits, targets, N, V);
  }
  CUDA_CHECK(cudaGetLastError());
  // The mean of N numbers is a reduction too, but a small one: the CPU does it.
  std::vector<float> host(N);
  CUDA_CHECK(cudaMemcpy(host.data(), losses, N * sizeof(float), cudaMemcpyDeviceToHost));
  double total = 0.0;
  for (const float loss : host) total += loss;
  return static_cast<float>(total / N);
}
// end lesson

void cross_entropy_backward(float* dlogits, float dloss, const float* probs, const int32_t* targets,
                            int N, int V, int version) {
  check_version("cross_entropy_backward", version, 2);
  check_size("cross_entropy_backward", "N", N, 0);
  check_size("cross_entropy_backward", "V", V, 1);
  if (N == 0) return;
  const float scale = dloss / static_cast<float>(N);  // the loss is a mean over N positions
  if (version == 1) {
    cross_entropy_backward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(dlogits, scale, probs,
                                                                             targets, N, V);
  } else {
    cross_entropy_backward_kernel2<<<grid_size(int64_t(N) * V, kBlockSize), kBlockSize>>>(
        dlogits, scale, probs, targets, N, V);
  }
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
