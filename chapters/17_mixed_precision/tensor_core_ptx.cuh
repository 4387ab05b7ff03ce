// chapters/17_mixed_precision/tensor_core_ptx.cuh — chapter 17: the tensor-core instructions our kernels use, one function each.
//
// CUDA C++ has no functions for the warp-level matrix instructions below the
// WMMA API: a kernel writes them in PTX, the GPU's assembly language, with
// inline asm. Each function here wraps one instruction, so the kernels read as
// C++ and the lesson can show each instruction on its own:
//
//   mma_m16n8k16_bf16   one warp: D (16×8, f32) = A (16×16, bf16) · B (16×8, bf16) + C
//   ldmatrix_x4         one warp: four 8×8 bf16 tiles from shared memory into
//                       registers, laid out as mma's fragments want them
//   ldmatrix_x2         the same, two tiles
//   ldmatrix_x4_trans   ldmatrix_x4, each 8×8 tile transposed on the way (for a B
//                       stored (k, n) rows, as V is in attention's P·V)
//   cp_async_16         one thread: 16 bytes global → shared memory without
//                       passing through registers; it completes later
//   cp_async_commit     closes the group of copies this thread issued so far
//   cp_async_wait<N>    waits until at most N of this thread's groups are unfinished
//
// Fragments (PTX ISA, "mma.m16n8k16"). A lane is one of the warp's 32 threads;
// g = lane / 4 ("group") and t = lane % 4. Each 32-bit register holds two
// bf16, the lower column in the low half:
//   A (16×16, row-major)  a[0] = A[g][2t, 2t+1]     a[1] = A[g+8][2t, 2t+1]
//                         a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//   B (16×8, k × n)       b[0] = B[2t, 2t+1][g]     b[1] = B[2t+8, 2t+9][g]
//   C, D (16×8, f32)      d[0] = D[g][2t]   d[1] = D[g][2t+1]
//                         d[2] = D[g+8][2t] d[3] = D[g+8][2t+1]
// ldmatrix: lanes 8i .. 8i+7 each give the address of one 16-byte row of tile
// i; lane l then receives, in register i, row l/4 of tile i, columns 2(l%4)
// and 2(l%4)+1. Loading A's 16×16 tile as four 8×8 tiles in the order
// (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15)
// gives exactly a[0..3]; B stored as (n, k) rows gives b[0..1] the same way.
//
// On the CPU emulator (tools/cuda_emulator, GPT_CUDA_EMULATED) each function
// calls the emulator's model of the instruction instead: the same fragment
// layouts, the warp's lanes meeting as they must, and cp.async copies that
// land only when waited for (a read before the wait finds NaN there).
#pragma once

#include <cstdint>

namespace gpt::cuda::ptx {

#if GPT_CUDA_EMULATED

// The emulator's shared window: see tools/cuda_emulator/tensor_core.h.
__device__ __forceinline__ uint32_t shared_address(const void* p,
                                                   const char* file = __builtin_FILE(),
                                                   int line = __builtin_LINE()) {
  return ::gpt_emu::shared_window_address(p, {file, line});
}
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4],
                                                  const uint32_t (&b)[2], const float (&c)[4],
                                                  const char* file = __builtin_FILE(),
                                                  int line = __builtin_LINE()) {
  ::gpt_emu::mma_m16n8k16_bf16(d, a, b, c, {file, line});
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row_address,
                                            const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE()) {
  ::gpt_emu::ldmatrix_m8n8_b16(r, 4, false, row_address, {file, line});
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row_address,
                                            const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE()) {
  ::gpt_emu::ldmatrix_m8n8_b16(r, 2, false, row_address, {file, line});
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row_address,
                                                  const char* file = __builtin_FILE(),
                                                  int line = __builtin_LINE()) {
  ::gpt_emu::ldmatrix_m8n8_b16(r, 4, true, row_address, {file, line});
}
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src,
                                            int src_bytes = 16,
                                            const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE()) {
  ::gpt_emu::cp_async(shared_dst, global_src, 16, src_bytes, {file, line});
}
__device__ __forceinline__ void cp_async_commit(const char* file = __builtin_FILE(),
                                                int line = __builtin_LINE()) {
  ::gpt_emu::cp_async_commit_group({file, line});
}
template <int N>
__device__ __forceinline__ void cp_async_wait(const char* file = __builtin_FILE(),
                                              int line = __builtin_LINE()) {
  ::gpt_emu::cp_async_wait_group(N, {file, line});
}

#else  // nvcc: the instructions themselves

// A generic pointer into shared memory as the 32-bit shared-space address PTX wants.
__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// lesson: mma
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4],
                                                  const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
        "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}
// end lesson

// lesson: ldmatrix
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}
// end lesson
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(shared_address(row_address)));
}
// lesson: ldmatrix_trans
// With .trans, lane l receives column l/4 of each tile, rows 2(l%4) and
// 2(l%4)+1: from a tile stored (k, n) rows, exactly b[0..1] of mma's B.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}
// end lesson

// lesson: cp_async
// src_bytes < 16 copies that many bytes and fills the rest with zeros (0: all
// zeros, for a row past the matrix's edge; global_src must still be valid).
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src,
                                            int src_bytes = 16) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared_dst)),
               "l"(global_src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
// end lesson

#endif

}  // namespace gpt::cuda::ptx
