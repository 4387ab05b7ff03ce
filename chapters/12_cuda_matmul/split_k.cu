// chapters/12_cuda_matmul/split_k.cu — chapter 12: adding up the partial tiles of a split-K product.
//
// With split-K (split_k.h) layer z of the grid writes its partial product to
// slab z of a scratch buffer, (splits, M, N). This kernel finishes the job:
// C = Σ_z partials[z] (+ bias) (+ C's old value), one thread per element,
// summing the slabs in order, so the result does not depend on which block
// finished first (atomicAdd into C would).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/growing_buffer.h"

namespace gpt::cuda::matmul_internal {
namespace {

// lesson: sum_partials_kernel
__global__ void sum_partials_kernel(float* C, const float* partials, int splits, int64_t count,
                                    int N, bool accumulate, const float* bias) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;  // element of C (M, N)
  if (i >= count) return;
  float sum = 0.0f;
  for (int z = 0; z < splits; ++z) sum += partials[z * count + i];  // neighbours: coalesced
  if (bias != nullptr) sum += bias[i % N];
  if (accumulate) sum += C[i];
  C[i] = sum;
}
// end lesson

}  // namespace

void sum_partials(float* C, const float* partials, int splits, int M, int N, bool accumulate,
                  const float* bias) {
  const int64_t count = int64_t(M) * N;
  sum_partials_kernel<<<grid_size(count, kBlockSize), kBlockSize>>>(C, partials, splits, count, N,
                                                                    accumulate, bias);
  CUDA_CHECK(cudaGetLastError());
}

// One scratch buffer for the whole program, grown when a product needs more.
// Kernels on the default stream run in order, so the next product cannot
// overwrite it before sum_partials has read it; cudaFree waits for the GPU.
// (One buffer: not for products launched from several host threads at once.)
float* partials_workspace(size_t floats) {
  static GrowingDeviceBuffer<float> buffer;  // if cudaMalloc throws, the next call tries again
  return buffer.at_least(floats);
}

int multiprocessor_count() {
  static const int count = [] {
    int device = 0, sms = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
  }();
  return count;
}

}  // namespace gpt::cuda::matmul_internal
