// chapters/12_cuda_matmul/bias.cu — chapter 12: a linear layer's bias, forward and backward.
//
// Versions 7 and 8 add the bias inside their epilogue; cuBLAS does not, so its linear
// forward adds it afterwards (add_bias). The backward's dbias is a sum over
// the N rows of dout, for every column: a reduction down columns.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda::matmul_internal {
namespace {

__global__ void add_bias_kernel(float* out, const float* bias, int64_t total, int OC) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) out[i] += bias[i % OC];
}

// lesson: bias_backward_kernel
// A block of 32 × 8 threads owns 32 neighbouring columns: thread (x, y) sums
// rows y, y + 8, y + 16, ... of column x (a warp reads 32 neighbouring
// floats of a row: coalesced), then the 8 partial sums meet in shared memory.
constexpr int kColumns = 32, kRowGroups = 8;
__global__ void bias_backward_kernel(float* dbias, const float* dout, int N, int OC) {
  __shared__ float partial[kRowGroups][kColumns];
  const int o = blockIdx.x * kColumns + threadIdx.x;
  float sum = 0.0f;
  if (o < OC) {
    for (int n = threadIdx.y; n < N; n += kRowGroups) sum += dout[int64_t(n) * OC + o];
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && o < OC) {
    for (int g = 1; g < kRowGroups; ++g) sum += partial[g][threadIdx.x];
    dbias[o] += sum;
  }
}
// end lesson

}  // namespace

void add_bias(float* out, const float* bias, int N, int OC) {
  const int64_t total = int64_t(N) * OC;
  if (total == 0) return;
  add_bias_kernel<<<grid_size(total, kBlockSize), kBlockSize>>>(out, bias, total, OC);
  CUDA_CHECK(cudaGetLastError());
}

void bias_backward(float* dbias, const float* dout, int N, int OC) {
  if (OC == 0) return;
  bias_backward_kernel<<<grid_size(OC, kColumns), dim3(kColumns, kRowGroups)>>>(dbias, dout, N,
                                                                                 OC);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda::matmul_internal
