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
// The same without the barrier: whichever thread runs first reads what
// another has not written yet (NaN), in either order (GPT_EMU_ORDER).
cudaError_t reverse_blocks_without_barrier(float* out, const float* in, int blocks, int n);
// Thread 0 writes in[b] to a __shared__ float, every thread of block b copies
// it to out, without a barrier: wrong only where thread 0 runs last.
cudaError_t broadcast_without_barrier(float* out, const float* in, int blocks, int threads);
// Every thread writes its in[] to a __shared__ array, thread 0 sums it into
// out[b], without a barrier: wrong only where thread 0 runs first.
cudaError_t gather_without_barrier(float* out, const float* in, int blocks, int threads);
// Block 0 fills a __shared__ array with ones, and every block copies the
// array to out: the other blocks copy what nobody wrote in them (NaN).
cudaError_t first_block_writes(float* out, int blocks, int threads);

// A kernel with 40 KiB of static shared memory and `dynamic_bytes` of
// dynamic: 32 threads write out[i] = 3 through both.
cudaError_t static_and_dynamic(float* out, size_t dynamic_bytes);
// Lets it ask for up to `bytes` of dynamic shared memory (cudaFuncSetAttribute).
cudaError_t allow_static_and_dynamic(int bytes);

// A kernel declared __launch_bounds__(64), launched with `threads` threads.
cudaError_t launch_bounded(float* out, int threads);
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
