// tools/cuda_emulator/emulator_test_kernels.h — small kernels that exercise the emulator.
//
// Each launcher runs one kernel on device pointers and returns what
// cudaGetLastError said after the launch, so a test can check both the
// results and the launch errors.
#pragma once

#include <cuda_runtime_api.h>

namespace gpt_emu::testing {

// out[b·n + i] = in[b·n + n − 1 − i] for blocks of n threads, through shared
// memory with a barrier between the writes and the reads.
cudaError_t reverse_blocks(float* out, const float* in, int blocks, int n);
// The same without the barrier: thread 0 reads before the last thread wrote.
cudaError_t reverse_blocks_without_barrier(float* out, const float* in, int blocks, int n);
// The same through dynamic shared memory (`extern __shared__`), with `shared_bytes` asked.
cudaError_t reverse_blocks_dynamic(float* out, const float* in, int blocks, int n,
                                   size_t shared_bytes);
// Lets the dynamic version ask for up to `bytes` (cudaFuncSetAttribute).
cudaError_t allow_dynamic_shared(int bytes);

// out[i] = the sum of in over i's warp (__shfl_xor_sync butterflies).
cudaError_t warp_sums(float* out, const float* in, int blocks, int threads);
// out[i] = in[i + 1] within the warp, the lane's own value for the last lane (__shfl_down_sync),
// and broadcast[i] = in[first lane of the warp] (__shfl_sync).
cudaError_t warp_down_and_broadcast(float* out, float* broadcast, const float* in, int threads);

// ids[linear thread in the grid] = that linear index, computed from threadIdx,
// blockIdx, blockDim and gridDim in three dimensions.
cudaError_t thread_ids(int* ids, dim3 grid, dim3 block);

// *total += 1 from every thread of the grid (atomicAdd).
cudaError_t count_threads(float* total, int blocks, int threads);

// Launches with whatever configuration it is given (for launch errors).
cudaError_t launch_with(float* out, dim3 grid, dim3 block);

// A block whose odd threads return before a __syncthreads: never finishes.
cudaError_t divergent_barrier(float* out);
// Even and odd threads at two different __syncthreads.
cudaError_t two_barriers(float* out);

// out[i] = in[i + 1] for n threads: the last one reads one past the end of
// `in` (n elements). AddressSanitizer (--config=asan) reports it.
cudaError_t read_past_end(float* out, const float* in, int n);

}  // namespace gpt_emu::testing
