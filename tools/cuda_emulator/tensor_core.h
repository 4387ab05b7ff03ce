// tools/cuda_emulator/tensor_core.h — the tensor-core and async-copy instructions, modelled on the CPU.
//
// CUDA C++ reaches these instructions through inline PTX (mma.sync,
// ldmatrix, cp.async; chapter 17's tensor_core_ptx.cuh; Hopper's wgmma and
// its fences, chapter 17's wgmma_ptx.cuh) or through the WMMA API (<mma.h>). Under the emulator neither exists, so those headers call the
// functions below instead (emulator.h includes this header; so does the
// emulator's own <mma.h>). Each keeps the instruction's meaning exactly where
// a kernel could tell the difference, and checks what a GPU would not report:
//
//   - mma and ldmatrix are warp-collective: every lane of the warp must reach
//     the same instruction (the same call site), as with a full-mask shuffle;
//     a lane that never arrives stops the program with the lanes named. The
//     first lane to run on after all 32 have arrived performs the instruction
//     for the whole warp, reading every lane's registers (or shared memory) at
//     that moment, and writes each lane its own part of the result.
//   - mma computes D = A·B + C with bf16 A and B widened exactly to float and
//     each element accumulated in float32 in k order, starting from C:
//     d = c; d += a[k]·b[k] for k = 0..15 (each product is exact in float32).
//     A chain of mma over K tiles thus sums exactly as a plain float loop.
//   - cp.async is deferred: a copy is recorded in a queue of the emulated
//     thread that issued it and performed only when that thread waits for its
//     group (cp_async_wait_group), so a read before the wait finds the old
//     contents of shared memory (NaN, if nothing was written there).
//
// The fragment layouts (PTX ISA, mma.m16n8k16 with .bf16; g = lane / 4,
// t = lane % 4; each 32-bit register holds two bf16, the lower column in the
// low 16 bits):
//   A (16×16, row-major)  a[0] = A[g][2t, 2t+1]     a[1] = A[g+8][2t, 2t+1]
//                         a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//   B (16×8, k × n)       b[0] = B[2t, 2t+1][g]     b[1] = B[2t+8, 2t+9][g]
//   C, D (16×8, float)    d[0] = D[g][2t]   d[1] = D[g][2t+1]
//                         d[2] = D[g+8][2t] d[3] = D[g+8][2t+1]
#pragma once

#include <cstdint>

#include "tools/cuda_emulator/site.h"

namespace gpt_emu {

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32. Warp-collective: every
// lane passes its fragments of A, B and C (layouts above) and gets its part of D.
// d may be the same array as c.
void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                       const float (&c)[4], Site site);

// ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16. Warp-collective:
// lanes 8i .. 8i+7 give the addresses of rows 0..7 of matrix i (x1: lanes 0-7,
// x2: lanes 0-15, x4: all; the other lanes' addresses are ignored), each a
// 16-byte aligned row of 8 b16 values in shared memory. Lane l receives in
// regs[i] row l/4 of matrix i, columns 2(l%4) (low half) and 2(l%4)+1; with
// `transpose` the matrix is transposed first (column l/4, rows 2(l%4) and
// 2(l%4)+1). `matrices` is 1, 2 or 4, the length of regs.
void ldmatrix_m8n8_b16(uint32_t* regs, int matrices, bool transpose, const void* row_address,
                       Site site);

// cp.async.{ca,cg}.shared.global of `bytes` (4, 8 or 16) bytes from device
// memory to shared memory, both aligned to `bytes`. With src_bytes < bytes
// only src_bytes are read and the rest of the destination is zero-filled.
// Deferred: recorded for this emulated thread, performed by a later
// cp_async_wait_group that covers its group (or, at the latest, when the
// thread returns).
void cp_async(void* shared_dst, const void* global_src, int bytes, int src_bytes, Site site);
// cp.async.commit_group: the copies this thread issued since its last commit
// become one group (an empty group if there were none).
void cp_async_commit_group(Site site);
// cp.async.wait_group N: performs, in issue order, every copy of this thread's
// committed groups but the `pending` newest. Copies not yet committed are not
// waited for.
void cp_async_wait_group(int pending, Site site);

// The WMMA API (<mma.h>, 16×16×16, bf16 in, float accumulate). The emulator's
// fragment is the whole 16×16 tile in every lane: x[r·16 + c] is element
// (r, c) of the fragment's matrix (A: m × k, B: k × n, accumulator: m × n),
// `element_bytes` wide (2: bf16 bits, 4: float). Every call is warp-collective
// and checks that all 32 lanes pass the same arguments (and, where a fragment
// is read, hold the same fragment).
//
// Loads the tile at p, ldm elements between rows (col_major: between columns);
// p 32-byte aligned, ldm a multiple of 16 bytes.
void wmma_load(void* x, int element_bytes, const void* p, unsigned ldm, bool col_major, Site site);
// Stores the tile to p (the same checks); one lane stores it, for the whole warp.
void wmma_store(void* p, const void* x, int element_bytes, unsigned ldm, bool col_major,
                Site site);
// Sets every element to the value whose bits are `value` (the same in every lane).
void wmma_fill(void* x, int element_bytes, uint32_t value, Site site);
// d = a · b + c: a and b bf16 (256 each), c and d float (d may be c), each
// element summed in float32 in k order starting from c, as mma above.
void wmma_mma_bf16(float* d, const void* a, const void* b, const float* c, Site site);

// ---------------------------------------------------------------------------
// Hopper's warpgroup MMA (sm_90a): wgmma and the fences around it.
//
// The address PTX's shared window gives p, which must lie in the launch's
// dynamic shared memory (extern __shared__): what __cvta_generic_to_shared
// returns on a GPU. The window starts at kSharedWindowBase, 16-byte aligned
// but on purpose not 1024-byte aligned, so that a kernel that needs 1024-byte
// alignment (the 128-byte swizzle's pattern) must align by this address, as
// on a GPU, where dynamic shared memory need not start on such a boundary.
constexpr uint32_t kSharedWindowBase = 0x410;
uint32_t shared_window_address(const void* p, Site site);

// wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16, A and B both from
// shared memory, both K-major, with the 128-byte swizzle. A warpgroup is four
// consecutive warps (the first a multiple of 4); together they compute
// D (64×N, f32) = A (64×16) · B (N×16)ᵀ (+ D when `accumulate`). Warp w of the
// group holds rows 16w .. 16w+15 of D, laid out as mma.m16n8k16's D repeated
// for each 8 columns: lane (g = lane/4, t = lane%4) holds in d[4j .. 4j+3]
// D[16w+g][8j+2t], D[16w+g][8j+2t+1], D[16w+g+8][8j+2t], D[16w+g+8][8j+2t+1].
// Each element is summed in float32 in k order from its old value, as mma.
//
// A matrix descriptor (64 bits): bits 0-13 the start address >> 4, 16-29 the
// leading byte offset >> 4 (unused by this layout), 32-45 the stride byte
// offset >> 4 (from each 8-row group to the next), 49-51 a base offset (0
// here), 62-63 the swizzle (1: 128 bytes). Row r, column k (k < 16) of the
// operand is at start + (r/8)·stride + (r%8)·128 + 2k, with address bits 4-6
// XORed with bits 7-9: one 8-row pattern is 1024 bytes, each row 128 bytes
// of which this instruction reads the 32 at the start address's offset.
//
// Asynchronous, as on a GPU: the product is computed here, from the shared
// memory as it is now, but reaches d only at the wgmma.wait_group that
// completes its group. Until then d holds NaN, so a read before the wait
// fails; a later wgmma that accumulates into the same d starts from the
// pending result, as the hardware chains them. The wait checks that nobody
// wrote the shared memory the instruction read in between (on a GPU the
// instruction may read it any time before it completes).
//
// Checked beyond what a GPU reports: a wgmma.fence by this thread since its
// last wgmma.wait_group (stricter than the PTX ISA, which asks for a fence
// only where registers were touched in between); no thread of the block
// holding cp.async copies not followed by fence.proxy.async (wgmma reads
// shared memory through the async proxy, cp.async writes it through the
// generic one); no cp.async still in flight into what it reads, at its issue
// or at its wait; the same operands in every lane; one N for wgmma chained on
// the same registers; a block of whole warpgroups. Not checked: that the
// four warps of a group issue the same instructions (each warp computes its
// own 16 rows), and that plain shared-memory stores (not cp.async) are
// followed by fence.proxy.async before a wgmma reads them.
void wgmma_m64nNk16_bf16(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool accumulate,
                         Site site);
// wgmma.fence.sync.aligned: this thread may now issue wgmma.mma_async.
void wgmma_fence(Site site);
// wgmma.commit_group.sync.aligned: this thread's wgmma since its last commit
// become one group.
void wgmma_commit_group(Site site);
// wgmma.wait_group.sync.aligned N: completes every committed group but the
// `pending` newest (their results reach their registers). Warp-collective,
// like mma: the operands' checks run once every lane has arrived.
void wgmma_wait_group(int pending, Site site);
// fence.proxy.async.shared::cta: this thread's cp.async copies performed so
// far become visible to the async proxy (wgmma).
void fence_proxy_async_shared(Site site);

}  // namespace gpt_emu
