// tools/cuda_emulator/emulator_test_kernels.cu — kernels for emulator_test.cc.
//
// Ordinary CUDA, compiled for the emulator only (cuda_emulated_library): each
// kernel uses one thing the emulator must get right.
#include "tools/cuda_emulator/emulator_test_kernels.h"

#include <cuda_runtime.h>

namespace gpt_emu::testing {
namespace {

constexpr int kMaxThreads = 1024;

__global__ void reverse_kernel(float* out, const float* in, int n) {
  __shared__ float tile[kMaxThreads];
  const int t = threadIdx.x, base = blockIdx.x * n;
  tile[t] = in[base + t];
  __syncthreads();
  out[base + t] = tile[n - 1 - t];
}

__global__ void reverse_no_barrier_kernel(float* out, const float* in, int n) {
  __shared__ float tile[kMaxThreads];
  const int t = threadIdx.x, base = blockIdx.x * n;
  tile[t] = in[base + t];
  out[base + t] = tile[n - 1 - t];  // the missing __syncthreads
}

__global__ void broadcast_no_barrier_kernel(float* out, const float* in) {
  __shared__ float value;
  if (threadIdx.x == 0) value = in[blockIdx.x];
  out[blockIdx.x * blockDim.x + threadIdx.x] = value;  // the missing __syncthreads
}

__global__ void gather_no_barrier_kernel(float* out, const float* in) {
  __shared__ float values[kMaxThreads];
  values[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  if (threadIdx.x != 0) return;  // the missing __syncthreads
  float sum = 0.0f;
  for (unsigned i = 0; i < blockDim.x; ++i) sum += values[i];
  out[blockIdx.x] = sum;
}

__global__ void first_block_writes_kernel(float* out) {
  __shared__ float tile[kMaxThreads];
  if (blockIdx.x == 0) tile[threadIdx.x] = 1.0f;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = tile[threadIdx.x];
}

constexpr int kStaticFloats = 10 * 1024;  // 40 KiB

__global__ void static_and_dynamic_kernel(float* out) {
  __shared__ float fixed[kStaticFloats];
  extern __shared__ float more[];
  fixed[threadIdx.x] = 1.0f;
  more[threadIdx.x] = 2.0f;
  __syncthreads();
  out[threadIdx.x] = fixed[threadIdx.x] + more[threadIdx.x];
}

__global__ void __launch_bounds__(64) bounded_kernel(float* out) { out[threadIdx.x] = 1.0f; }

__global__ void reverse_dynamic_kernel(float* out, const float* in, int n) {
  extern __shared__ __align__(16) float tile_dynamic[];  // (n)
  const int t = threadIdx.x, base = blockIdx.x * n;
  tile_dynamic[t] = in[base + t];
  __syncthreads();
  out[base + t] = tile_dynamic[n - 1 - t];
}

__device__ float warp_sum(float x) {
  for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__global__ void warp_sum_kernel(float* out, const float* in) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = warp_sum(in[i]);
}

__global__ void down_broadcast_kernel(float* out, float* broadcast, const float* in) {
  const int i = threadIdx.x;
  out[i] = __shfl_down_sync(0xffffffffu, in[i], 1);
  broadcast[i] = __shfl_sync(0xffffffffu, in[i], 0);
}

__global__ void thread_id_kernel(int* ids) {
  const int block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int per_block = blockDim.x * blockDim.y * blockDim.z;
  ids[block * per_block + thread] = block * per_block + thread;
}

__global__ void count_kernel(float* total) { atomicAdd(total, 1.0f); }

__global__ void write_kernel(float* out) { out[0] = 1.0f; }

__global__ void divergent_kernel(float* out) {
  if (threadIdx.x % 2 == 1) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void two_barriers_kernel(float* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void shift_kernel(float* out, const float* in) {
  out[threadIdx.x] = in[threadIdx.x + 1];  // the last thread reads past the end
}

}  // namespace

cudaError_t reverse_blocks(float* out, const float* in, int blocks, int n) {
  reverse_kernel<<<blocks, n>>>(out, in, n);
  return cudaGetLastError();
}

cudaError_t reverse_blocks_without_barrier(float* out, const float* in, int blocks, int n) {
  reverse_no_barrier_kernel<<<blocks, n>>>(out, in, n);
  return cudaGetLastError();
}

cudaError_t broadcast_without_barrier(float* out, const float* in, int blocks, int threads) {
  broadcast_no_barrier_kernel<<<blocks, threads>>>(out, in);
  return cudaGetLastError();
}

cudaError_t gather_without_barrier(float* out, const float* in, int blocks, int threads) {
  gather_no_barrier_kernel<<<blocks, threads>>>(out, in);
  return cudaGetLastError();
}

cudaError_t first_block_writes(float* out, int blocks, int threads) {
  first_block_writes_kernel<<<blocks, threads>>>(out);
  return cudaGetLastError();
}

cudaError_t static_and_dynamic(float* out, size_t dynamic_bytes) {
  static_and_dynamic_kernel<<<1, 32, dynamic_bytes>>>(out);
  return cudaGetLastError();
}

cudaError_t allow_static_and_dynamic(int bytes) {
  return cudaFuncSetAttribute(static_and_dynamic_kernel,
                              cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
}

cudaError_t launch_bounded(float* out, int threads) {
  bounded_kernel<<<1, threads>>>(out);
  return cudaGetLastError();
}

cudaError_t reverse_blocks_dynamic(float* out, const float* in, int blocks, int n,
                                   size_t shared_bytes) {
  reverse_dynamic_kernel<<<blocks, n, shared_bytes>>>(out, in, n);
  return cudaGetLastError();
}

cudaError_t allow_dynamic_shared(int bytes) {
  return cudaFuncSetAttribute(reverse_dynamic_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              bytes);
}

cudaError_t warp_sums(float* out, const float* in, int blocks, int threads) {
  warp_sum_kernel<<<blocks, threads>>>(out, in);
  return cudaGetLastError();
}

cudaError_t warp_down_and_broadcast(float* out, float* broadcast, const float* in, int threads) {
  down_broadcast_kernel<<<1, threads>>>(out, broadcast, in);
  return cudaGetLastError();
}

cudaError_t thread_ids(int* ids, dim3 grid, dim3 block) {
  thread_id_kernel<<<grid, block>>>(ids);
  return cudaGetLastError();
}

cudaError_t count_threads(float* total, int blocks, int threads) {
  count_kernel<<<blocks, threads>>>(total);
  return cudaGetLastError();
}

cudaError_t launch_with(float* out, dim3 grid, dim3 block) {
  write_kernel<<<grid, block>>>(out);
  return cudaGetLastError();
}

cudaError_t divergent_barrier(float* out) {
  divergent_kernel<<<2, 64>>>(out);
  return cudaGetLastError();
}

cudaError_t two_barriers(float* out) {
  two_barriers_kernel<<<1, 64>>>(out);
  return cudaGetLastError();
}

cudaError_t read_past_end(float* out, const float* in, int n) {
  shift_kernel<<<1, n>>>(out, in);
  return cudaGetLastError();
}

}  // namespace gpt_emu::testing
