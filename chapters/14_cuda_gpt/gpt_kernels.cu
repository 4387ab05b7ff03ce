// chapters/14_cuda_gpt/gpt_kernels.cu — chapter 14: heads, dropout and clipping kernels.
//
// All of them are chapter 11's first kind of kernel: one thread per element,
// the body being the CPU loop's body. Moving heads is index arithmetic only:
// the thread for element (b, t, j) of the fused projection works out which
// head h, which of q, k, v and which channel i it is, and copies one float.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// lesson: split_heads_kernel
// One thread per element of qkv (B, T, 3C): j = which·C + h·hs + i.
__global__ void split_heads_kernel(float* q, float* k, float* v, const float* qkv, int B, int T,
                                   int C, int H) {
  const int64_t e = global_thread();
  if (e >= int64_t(B) * T * 3 * C) return;
  const int hs = C / H;
  const int j = static_cast<int>(e % (3 * C));
  const int64_t bt = e / (3 * C);
  const int t = static_cast<int>(bt % T), b = static_cast<int>(bt / T);
  const int which = j / C, h = (j % C) / hs, i = j % hs;
  float* dst = which == 0 ? q : which == 1 ? k : v;
  dst[((int64_t(b) * H + h) * T + t) * hs + i] = qkv[e];  // (B, H, T, hs)
}
// end lesson

__global__ void split_heads_backward_kernel(float* dqkv, const float* dq, const float* dk,
                                            const float* dv, int B, int T, int C, int H) {
  const int64_t e = global_thread();
  if (e >= int64_t(B) * T * 3 * C) return;
  const int hs = C / H;
  const int j = static_cast<int>(e % (3 * C));
  const int64_t bt = e / (3 * C);
  const int t = static_cast<int>(bt % T), b = static_cast<int>(bt / T);
  const int which = j / C, h = (j % C) / hs, i = j % hs;
  const float* src = which == 0 ? dq : which == 1 ? dk : dv;
  dqkv[e] += src[((int64_t(b) * H + h) * T + t) * hs + i];
}

// One thread per element of out (B, T, C): j = h·hs + i.
__global__ void merge_heads_kernel(float* out, const float* heads, int B, int T, int C, int H) {
  const int64_t e = global_thread();
  if (e >= int64_t(B) * T * C) return;
  const int hs = C / H;
  const int j = static_cast<int>(e % C);
  const int64_t bt = e / C;
  const int t = static_cast<int>(bt % T), b = static_cast<int>(bt / T);
  out[e] = heads[((int64_t(b) * H + j / hs) * T + t) * hs + j % hs];
}

__global__ void merge_heads_backward_kernel(float* dheads, const float* dout, int B, int T, int C,
                                            int H) {
  const int64_t e = global_thread();
  if (e >= int64_t(B) * T * C) return;
  const int hs = C / H;
  const int j = static_cast<int>(e % C);
  const int64_t bt = e / C;
  const int t = static_cast<int>(bt % T), b = static_cast<int>(bt / T);
  dheads[((int64_t(b) * H + j / hs) * T + t) * hs + j % hs] += dout[e];
}

__global__ void dropout_kernel(float* out, const float* inp, const float* mask, int64_t N) {
  const int64_t i = global_thread();
  if (i < N) out[i] = inp[i] * mask[i];
}

// lesson: sum_of_squares_kernel
// Each thread adds up the squares of a strided slice in double, the block
// combines its threads' sums in shared memory, and one atomicAdd per block
// (double atomics: compute capability 6.0 and later) adds the block's sum.
__global__ void sum_of_squares_kernel(double* total, const float* g, int64_t n) {
  __shared__ double partial[kBlockSize];
  double sum = 0.0;
  for (int64_t i = global_thread(); i < n; i += int64_t(gridDim.x) * blockDim.x) {
    sum += double(g[i]) * g[i];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {  // a tree of halvings
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(total, partial[0]);
}
// end lesson

__global__ void scale_kernel(float* g, int64_t n, double scale) {
  const int64_t i = global_thread();
  if (i < n) g[i] = static_cast<float>(g[i] * scale);
}

void check_heads(const char* op, int B, int T, int C, int H) {
  check_size(op, "B", B, 0);
  check_size(op, "T", T, 0);
  check_size(op, "H", H, 1);
  check_size(op, "C", C, H);
  if (C % H != 0) {
    throw std::invalid_argument(std::string(op) + ": heads (" + std::to_string(H) +
                                ") must divide embed_size (" + std::to_string(C) + ")");
  }
}

}  // namespace

void split_heads(float* q, float* k, float* v, const float* qkv, int B, int T, int C, int H) {
  check_heads("split_heads", B, T, C, H);
  const int64_t n = int64_t(B) * T * 3 * C;
  if (n == 0) return;
  split_heads_kernel<<<grid_size(n, kBlockSize), kBlockSize>>>(q, k, v, qkv, B, T, C, H);
  CUDA_CHECK(cudaGetLastError());
}

void split_heads_backward(float* dqkv, const float* dq, const float* dk, const float* dv, int B,
                          int T, int C, int H) {
  check_heads("split_heads_backward", B, T, C, H);
  const int64_t n = int64_t(B) * T * 3 * C;
  if (n == 0) return;
  split_heads_backward_kernel<<<grid_size(n, kBlockSize), kBlockSize>>>(dqkv, dq, dk, dv, B, T, C,
                                                                        H);
  CUDA_CHECK(cudaGetLastError());
}

void merge_heads(float* out, const float* heads, int B, int T, int C, int H) {
  check_heads("merge_heads", B, T, C, H);
  const int64_t n = int64_t(B) * T * C;
  if (n == 0) return;
  merge_heads_kernel<<<grid_size(n, kBlockSize), kBlockSize>>>(out, heads, B, T, C, H);
  CUDA_CHECK(cudaGetLastError());
}

void merge_heads_backward(float* dheads, const float* dout, int B, int T, int C, int H) {
  check_heads("merge_heads_backward", B, T, C, H);
  const int64_t n = int64_t(B) * T * C;
  if (n == 0) return;
  merge_heads_backward_kernel<<<grid_size(n, kBlockSize), kBlockSize>>>(dheads, dout, B, T, C, H);
  CUDA_CHECK(cudaGetLastError());
}

void dropout_forward(float* out, const float* inp, const float* mask, int64_t N) {
  check_size("dropout_forward", "N", N, 0);
  if (N == 0) return;
  dropout_kernel<<<grid_size(N, kBlockSize), kBlockSize>>>(out, inp, mask, N);
  CUDA_CHECK(cudaGetLastError());
}

double sum_of_squares(const float* g, int64_t n) {
  check_size("sum_of_squares", "n", n, 0);
  if (n == 0) return 0.0;
  double* total = nullptr;
  CUDA_CHECK(cudaMalloc(&total, sizeof(double)));
  CUDA_CHECK(cudaMemset(total, 0, sizeof(double)));
  // Enough blocks to fill the GPU; each thread then loops over its slice.
  const int blocks = static_cast<int>(std::min<int64_t>(grid_size(n, kBlockSize), 1024));
  sum_of_squares_kernel<<<blocks, kBlockSize>>>(total, g, n);
  const cudaError_t launched = cudaGetLastError();
  double host = 0.0;
  const cudaError_t copied = cudaMemcpy(&host, total, sizeof(double), cudaMemcpyDeviceToHost);
  cudaFree(total);
  CUDA_CHECK(launched);
  CUDA_CHECK(copied);
  return host;
}

void scale_in_place(float* g, int64_t n, double scale) {
  check_size("scale_in_place", "n", n, 0);
  if (n == 0) return;
  scale_kernel<<<grid_size(n, kBlockSize), kBlockSize>>>(g, n, scale);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
