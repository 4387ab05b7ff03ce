// tools/cuda_emulator/tensor_core_test_kernels.h — kernels that exercise the emulator's tensor-core instructions.
//
// Each launcher runs one kernel on device pointers and returns what
// cudaGetLastError said after the launch. bf16 values travel as their 16
// bits (uint16_t) where a kernel only moves them, as __nv_bfloat16 where
// the WMMA API reads them.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gpt_emu::testing {

// mma.m16n8k16 on fragments given per lane: `warps` warps of one block, lane
// l of warp w reading a[(32w + l)·4 ..], b[(32w + l)·2 ..], c[(32w + l)·4 ..]
// and writing its d to d[(32w + l)·4 ..].
cudaError_t mma_fragments(float* d, const uint32_t* a, const uint32_t* b, const float* c,
                          int warps);

// ldmatrix of `matrices` (1, 2, 4) 8×8 b16 matrices, transposed or not: in
// holds matrix i's row r at in[64i + 8r ..], which the kernel puts in shared
// memory (rows 32 bytes apart); lane l writes its registers to out[4l ..]
// (registers past `matrices` stay 0). Lanes past 8·matrices pass a null row
// address, which ldmatrix ignores.
cudaError_t ldmatrix_tiles(uint32_t* out, const uint16_t* in, int matrices, bool transpose);

// D (16×8, row-major) = A (16×16, row-major) · B, through shared memory,
// ldmatrix and one mma (C = 0). B is given as (n, k) rows (8 × 16, loaded with
// ldmatrix.x2) or, with b_k_by_n, as (k, n) rows (16 × 8, ldmatrix.x2.trans).
cudaError_t tile_product(float* d, const uint16_t* a, const uint16_t* b, bool b_k_by_n);

// cp.async in stages, 32 threads, each copying 16 bytes of src (384 floats)
// at a time into a __shared__ array and recording, in seen[8t ..], what it
// reads at each point: [0] before any wait, [1] after wait_group(1) (the
// first group landed), [2] the second group's (not yet), [3] it after
// wait_group(0), [4] an uncommitted copy's after wait_group(0) (not waited
// for), [5] it after a commit and wait, [6] a neighbour's after a barrier.
cudaError_t cp_async_stages(float* seen, const float* src);
// Each thread copies 16 bytes, commits, passes a barrier WITHOUT waiting, and
// reads its own copy (seen[t]: not landed), then thread t reads thread
// (t + 1) % n's (neighbour[t]: landed only where that thread had returned).
cudaError_t cp_async_barrier_without_wait(float* seen, float* neighbour, const float* src);
// One cp.async of 16 bytes of which src_bytes are read, into shared memory,
// waited for; out[0..3] = what landed.
cudaError_t cp_async_zero_fill(float* out, const float* src, int src_bytes);
// cp.async(tile + dst_offset, src + src_offset, bytes, src_bytes) into a
// 16-byte aligned __shared__ float tile[16], src_offset in floats.
cudaError_t cp_async_with(const float* src, int src_offset, int dst_offset, int bytes,
                          int src_bytes);
// cp.async from a host array (not device memory).
cudaError_t cp_async_from_host();
// cp.async into device memory (not shared memory).
cudaError_t cp_async_to_global(float* dst, const float* src);

// ldmatrix.x4 whose lane 5 gives a row address `offset_bytes` past a 16-byte
// aligned __shared__ row.
cudaError_t ldmatrix_offset(int offset_bytes);
// ldmatrix.x1 whose lanes give rows of `global` (device memory).
cudaError_t ldmatrix_global(const uint16_t* global);

// mma with lane 31 returning before it.
cudaError_t mma_missing_lane(float* d);
// mma in a block of `threads` threads.
cudaError_t mma_in_block(float* d, int threads);
// Lane 0 at __syncwarp while the other lanes are at mma.
cudaError_t mma_meets_syncwarp(float* d);

// WMMA: D = scale · (A · B + C), 16×16×16, A and B bf16 in row- or
// column-major order with leading dimensions lda and ldb, C and D float with
// ldc in the order c_col_major says. Without c (nullptr) C is
// fill_fragment(fill).
cudaError_t wmma_product(float* d, const __nv_bfloat16* a, int lda, bool a_col_major,
                         const __nv_bfloat16* b, int ldb, bool b_col_major, const float* c,
                         int ldc, bool c_col_major, float fill, float scale);
// wmma::fill_fragment and store_matrix_sync with lane 7 returning first.
cudaError_t wmma_missing_lane(float* d);
// Lane 3 changes one element of its matrix_a fragment before mma_sync.
cudaError_t wmma_lane_changes_fragment(float* d, const __nv_bfloat16* a, const __nv_bfloat16* b);
// load_matrix_sync from a + offset (elements).
cudaError_t wmma_load_at(const __nv_bfloat16* a, int offset, int ldm);

// wgmma.mma_async.m64nNk16 (Hopper's warpgroup MMA), called through the
// emulator's wgmma_m64nNk16_bf16 with N given directly. Its operands lie in
// dynamic shared memory as the kernel writes them by its own formula for
// the 128-byte swizzle: row r of a tile (64 bf16, 128 bytes), 16-byte piece c
// (columns 8c .. 8c+7), at tile + r·128 + (c ^ r % 8)·16, the tile starting
// where the shared-window address is a multiple of 1024 (so 8-row groups are
// 1024 bytes apart). Descriptors are encoded as chapter 17's wgmma_ptx.cuh
// encodes them.
//
// One block of `warpgroups` warpgroups (128 threads each), n a multiple of 8
// up to 128. a holds warpgroups·64 rows of 64 bf16 (row-major; warpgroup g
// multiplies rows 64g .. 64g+63, through its own descriptor), b holds n rows
// of 64 bf16 (B as (n, k)). Each thread starts with its n/2 registers from
// c[t·n/2 ..], issues `steps` wgmma into them in one commit group, step s
// multiplying columns 16(first_k_step + s) .. +15 of A and B (32 bytes
// further along each row per k step), the first with `accumulate`, the rest
// with accumulate = true, and waits. It writes its registers to
// d_before_wait[t·n/2 ..] after the commit and before the wait, and to
// d[t·n/2 ..] after it.
cudaError_t wgmma_product(float* d, float* d_before_wait, const uint16_t* a, const uint16_t* b,
                          const float* c, int warpgroups, int n, int first_k_step, int steps,
                          bool accumulate);

// What wgmma_misuse does wrong; kNone is the same kernel done right.
enum class WgmmaMisuse {
  kNone,
  kNoWgmmaFence,                  // a wgmma without a wgmma.fence before it
  kCpAsyncNotProxyFenced,         // thread 0's cp.async into A waited for, no fence.proxy.async
  kCpAsyncNotWaitedFor,           // thread 0's cp.async into A issued, not waited for
  kStoreIntoOperandBeforeWait,    // thread 5 stores into B after the wgmma, before its wait
  kCpAsyncIntoOperandBeforeWait,  // thread 5 issues cp.async into B before the wgmma's wait
  kTileNotPatternAligned,         // A starts 128 bytes past a 1024-byte boundary
  kStartNotOn32ByteStep,          // A's descriptor starts 16 bytes into its row
  kChainedWithAnotherN,           // a wgmma of N = 8 accumulates into an unfinished N = 16
  kSwizzleMode2,                  // A's descriptor asks for the 64-byte swizzle
  kReturnWithoutWait,             // every thread returns before wgmma.wait_group
  kWindowOfStaticShared,          // the shared-window address of a static __shared__ array
  kWindowOfGlobal,                // the shared-window address of device (global) memory
};
// One block of `threads` threads, every element of the tiles of A (64 rows)
// and B (16 rows) 1: one wgmma m64n16k16 with accumulate = false, committed
// and waited for, every step done right but `misuse`. The cp.async copies
// copy `ones` (8 bf16 ones, device memory). Thread t writes its 8 registers
// to d[8t ..] (16 each, done right).
cudaError_t wgmma_misuse(WgmmaMisuse misuse, int threads, float* d, const uint16_t* ones);

}  // namespace gpt_emu::testing
