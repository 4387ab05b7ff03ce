// chapters/11_cuda_basics/reduce.cuh — chapter 11: sums and maxima across a warp and a block.
//
// Device code only: included by the chapter's .cu files, never by C++.
//
// A warp's 32 threads run in lockstep and can read each other's registers:
// __shfl_xor_sync(mask, x, offset) returns x from the lane whose number
// differs from ours in the bit `offset`. Five exchanges (offsets 16, 8, 4, 2,
// 1) combine all 32 values in a butterfly, and every lane ends with the
// result: no shared memory, no barrier. The mask 0xffffffff says all 32 lanes
// take part, so all 32 must call the function (no lane may have returned).
//
// A block is several warps. They share nothing but shared memory: each warp
// reduces its values with shuffles, lane 0 writes the warp's partial result
// to shared memory, a barrier (__syncthreads) waits for every warp, and then
// each warp reduces the (at most 32) partials again with shuffles.
#pragma once

#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"

namespace gpt::cuda {

constexpr unsigned kFullMask = 0xffffffffu;  // all 32 lanes of the warp take part

// lesson: warp_sum
// The sum of x over the 32 lanes of the warp, returned to every lane.
__device__ inline float warp_sum(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    x += __shfl_xor_sync(kFullMask, x, offset);
  }
  return x;
}
// end lesson

// The maximum of x over the 32 lanes of the warp, returned to every lane.
__device__ inline float warp_max(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    x = fmaxf(x, __shfl_xor_sync(kFullMask, x, offset));
  }
  return x;
}

// lesson: block_sum
// The sum of x over every thread of the block, returned to every thread.
// Every thread of the block must call it (it waits at barriers), blockDim.x
// must be a multiple of 32, and `scratch` is 32 floats of shared memory.
__device__ inline float block_sum(float x, float* scratch) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  x = warp_sum(x);                   // 1. each warp sums its own 32 values
  if (lane == 0) scratch[warp] = x;  // 2. one partial sum per warp, in shared memory
  __syncthreads();                   //    wait until every warp has written its partial
  x = lane < warps ? scratch[lane] : 0.0f;
  x = warp_sum(x);  // 3. every warp sums the partials
  __syncthreads();  //    everyone has read scratch before it is reused
  return x;
}
// end lesson

// As block_sum, for the maximum.
__device__ inline float block_max(float x, float* scratch) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  x = warp_max(x);
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = lane < warps ? scratch[lane] : -INFINITY;
  x = warp_max(x);
  __syncthreads();
  return x;
}

// The global index of this thread in a one-dimensional grid, as a 64-bit
// number: blockIdx.x * blockDim.x overflows int beyond 2^31 elements.
__device__ inline int64_t global_thread() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }

}  // namespace gpt::cuda
