// chapters/13_cuda_attention/naive_attention.cu — chapter 13: attention with the scores in memory.
//
// Forward, three launches, as chapter 03 wrote it on the CPU:
//   1. scores[n, t, s] = q[n, t] · k[n, s] / √hs   for s <= t   (N, T, T)
//   2. chapter 11's causal softmax, in place: scores become weights
//   3. out[n, t] = Σ_{s<=t} weights[n, t, s] · v[n, s]
// Backward, chapter 08's steps, one kernel each (+ chapter 11's softmax backward).
// Every kernel gives one thread one output element and loops over the
// shared index: simple, coalesced along the last dimension, and with the
// whole (N, T, T) matrix written and read back through global memory.
#include <cuda_runtime.h>

#include <cmath>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/softmax.h"
#include "chapters/13_cuda_attention/attention.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

__device__ inline int64_t thread_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }

// lesson: naive_forward_kernels
// One thread per score (n, t, s); entries above the diagonal are set to 0
// (the softmax never reads them, and writes 0 there itself).
__global__ void scores_kernel(float* scores, const float* q, const float* k, int N, int T, int hs,
                              float scale) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * T) return;
  const int s = i % T, t = (i / T) % T;
  const int64_t n = i / (int64_t(T) * T);
  if (s > t) {
    scores[i] = 0.0f;
    return;
  }
  const float* qt = q + (n * T + t) * hs;
  const float* ks = k + (n * T + s) * hs;
  float dot = 0.0f;
  for (int d = 0; d < hs; ++d) dot += qt[d] * ks[d];
  scores[i] = dot * scale;
}

// One thread per output element (n, t, d): neighbouring threads read
// neighbouring elements of each value row.
__global__ void weighted_values_kernel(float* out, const float* weights, const float* v, int N,
                                       int T, int hs) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * hs) return;
  const int d = i % hs, t = (i / hs) % T;
  const int64_t n = i / (int64_t(T) * hs);
  const float* w = weights + (n * T + t) * T;
  float sum = 0.0f;
  for (int s = 0; s <= t; ++s) sum += w[s] * v[(n * T + s) * hs + d];
  out[i] = sum;
}
// end lesson

// dv[n, s, d] += Σ_{t>=s} weights[n, t, s] · dout[n, t, d]
__global__ void dv_kernel(float* dv, const float* weights, const float* dout, int N, int T,
                          int hs) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * hs) return;
  const int d = i % hs, s = (i / hs) % T;
  const int64_t n = i / (int64_t(T) * hs);
  float sum = 0.0f;
  for (int t = s; t < T; ++t) sum += weights[(n * T + t) * T + s] * dout[(n * T + t) * hs + d];
  dv[i] += sum;
}

// dweights[n, t, s] = dout[n, t] · v[n, s] for s <= t, 0 above the diagonal.
__global__ void dweights_kernel(float* dweights, const float* dout, const float* v, int N, int T,
                                int hs) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * T) return;
  const int s = i % T, t = (i / T) % T;
  const int64_t n = i / (int64_t(T) * T);
  float dot = 0.0f;
  if (s <= t) {
    for (int d = 0; d < hs; ++d) dot += dout[(n * T + t) * hs + d] * v[(n * T + s) * hs + d];
  }
  dweights[i] = dot;
}

// dq[n, t, d] += scale · Σ_{s<=t} dscores[n, t, s] · k[n, s, d]
__global__ void dq_kernel(float* dq, const float* dscores, const float* k, int N, int T, int hs,
                          float scale) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * hs) return;
  const int d = i % hs, t = (i / hs) % T;
  const int64_t n = i / (int64_t(T) * hs);
  float sum = 0.0f;
  for (int s = 0; s <= t; ++s) sum += dscores[(n * T + t) * T + s] * k[(n * T + s) * hs + d];
  dq[i] += scale * sum;
}

// dk[n, s, d] += scale · Σ_{t>=s} dscores[n, t, s] · q[n, t, d]
__global__ void dk_kernel(float* dk, const float* dscores, const float* q, int N, int T, int hs,
                          float scale) {
  const int64_t i = thread_index();
  if (i >= int64_t(N) * T * hs) return;
  const int d = i % hs, s = (i / hs) % T;
  const int64_t n = i / (int64_t(T) * hs);
  float sum = 0.0f;
  for (int t = s; t < T; ++t) sum += dscores[(n * T + t) * T + s] * q[(n * T + t) * hs + d];
  dk[i] += scale * sum;
}

void check_sizes(const char* op, int N, int T, int hs) {
  check_size(op, "N", N, 0);
  check_size(op, "T", T, 1);
  check_size(op, "hs", hs, 1);
}

}  // namespace

// lesson: naive_attention_forward
void attention_forward(float* out, float* weights, const float* q, const float* k,
                       const float* v, int N, int T, int hs) {
  check_sizes("attention_forward", N, T, hs);
  if (N == 0) return;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int64_t scores = int64_t(N) * T * T, outputs = int64_t(N) * T * hs;
  scores_kernel<<<grid_size(scores, kBlockSize), kBlockSize>>>(weights, q, k, N, T, hs, scale);
  CUDA_CHECK(cudaGetLastError());
  causal_softmax_forward(weights, weights, N, T);  // chapter 11, in place
  weighted_values_kernel<<<grid_size(outputs, kBlockSize), kBlockSize>>>(out, weights, v, N, T,
                                                                         hs);
  CUDA_CHECK(cudaGetLastError());
}
// end lesson

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* weights, int N, int T,
                        int hs) {
  check_sizes("attention_backward", N, T, hs);
  if (N == 0) return;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int64_t scores = int64_t(N) * T * T, outputs = int64_t(N) * T * hs;
  const int score_blocks = grid_size(scores, kBlockSize);
  const int output_blocks = grid_size(outputs, kBlockSize);
  DeviceBuffer<float> dweights(scores), dscores(scores);  // the N·T² scratch
  dv_kernel<<<output_blocks, kBlockSize>>>(dv, weights, dout, N, T, hs);
  CUDA_CHECK(cudaGetLastError());
  dweights_kernel<<<score_blocks, kBlockSize>>>(dweights.data(), dout, v, N, T, hs);
  CUDA_CHECK(cudaGetLastError());
  dscores.zero();  // the softmax backward adds, and leaves s > t untouched
  causal_softmax_backward(dscores.data(), dweights.data(), weights, N, T);  // chapter 11
  dq_kernel<<<output_blocks, kBlockSize>>>(dq, dscores.data(), k, N, T, hs, scale);
  CUDA_CHECK(cudaGetLastError());
  dk_kernel<<<output_blocks, kBlockSize>>>(dk, dscores.data(), q, N, T, hs, scale);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
