// chapters/17_mixed_precision/wgmma_ptx.cuh — chapter 17: Hopper's warpgroup MMA (wgmma) and its fences, one function each.
//
// Version 4's instructions (sm_90a: H100 and H200 only; an sm_90a kernel runs
// on no other GPU), beside tensor_core_ptx.cuh's shared_address and cp.async:
//
//   smem_descriptor     the 64-bit description of a tile in shared memory that
//                       wgmma reads instead of registers
//   wgmma_m64n128k16    one warpgroup (4 warps, 128 threads):
//                       D (64×128, f32) += A (64×16, bf16) · B (128×16, bf16)ᵀ,
//                       A and B read from shared memory; it completes later
//   wgmma_fence         before the first wgmma, and after touching its registers
//   wgmma_commit        closes the group of wgmma this thread issued so far
//   wgmma_wait<N>       waits until at most N of this thread's groups are unfinished
//   fence_proxy_async   makes this thread's shared-memory writes (cp.async
//                       too) visible to wgmma, which reads through another path
//   pin_registers       no instruction: keeps the compiler off the accumulators
//                       while a wgmma owns them
//
// D's layout in registers: warp w of the warpgroup holds rows 16w .. 16w+15,
// and lane (g = lane/4, t = lane%4) holds, for each 8 columns j, d[4j .. 4j+3]
// = D[16w+g][8j+2t, 8j+2t+1], D[16w+g+8][8j+2t, 8j+2t+1]: mma.sync's 16×8
// fragment (tensor_core_ptx.cuh) sixteen times over, so versions 2 and 3's
// epilogue writes it unchanged.
//
// The operands' layout in shared memory is "K-major with the 128-byte
// swizzle": rows of 64 bf16 (128 bytes), 8 rows to a 1024-byte pattern whose
// 16-byte pieces are XORed by the row — exactly mma_tile.cuh's swizzled<64>,
// provided the tile starts on a 1024-byte boundary of the shared address.
//
// On the CPU emulator each function calls tools/cuda_emulator's model of the
// instruction (tensor_core.h): the same descriptor bits and layouts, the
// result held back until the wait, and the fences checked.
#pragma once

#include <cstdint>

#include "chapters/17_mixed_precision/tensor_core_ptx.cuh"  // shared_address

namespace gpt::cuda::ptx {

// lesson: smem_descriptor
// A K-major bf16 tile in shared memory, 128-byte swizzle, for wgmma: bits 0-13
// the start address / 16; 16-29 the leading byte offset / 16 (unused by this
// layout: 1 by convention); 32-45 the stride byte offset / 16, from one
// 8-row pattern to the next (1024 bytes when the rows are packed); 62-63 the
// swizzle mode, 1 for 128 bytes.
__host__ __device__ constexpr uint64_t smem_descriptor(uint32_t address) {
  constexpr uint64_t kLeading = 1, kStride = 1024 / 16, k128ByteSwizzle = 1;
  return (static_cast<uint64_t>(address >> 4) & 0x3fff) | (kLeading << 16) | (kStride << 32) |
         (k128ByteSwizzle << 62);
}
// end lesson

#if GPT_CUDA_EMULATED

__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a,
                                                 uint64_t desc_b, bool accumulate,
                                                 const char* file = __builtin_FILE(),
                                                 int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_m64nNk16_bf16(d, 128, desc_a, desc_b, accumulate, {file, line});
}
__device__ __forceinline__ void wgmma_fence(const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_fence({file, line});
}
__device__ __forceinline__ void wgmma_commit(const char* file = __builtin_FILE(),
                                             int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_commit_group({file, line});
}
template <int N>
__device__ __forceinline__ void wgmma_wait(const char* file = __builtin_FILE(),
                                           int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_wait_group(N, {file, line});
}
__device__ __forceinline__ void fence_proxy_async(const char* file = __builtin_FILE(),
                                                  int line = __builtin_LINE()) {
  ::gpt_emu::fence_proxy_async_shared({file, line});
}
template <int R, int N>
__device__ __forceinline__ void pin_registers(float (&)[R][N]) {}

#else  // nvcc, for sm_90a (the library that includes this compiles for nothing else)

// lesson: wgmma
// 64 fp32 accumulators per thread: the warpgroup's 64×128 of D. scale-d (the
// predicate p) says whether D is added to (1) or overwritten (0); the four
// immediates after it leave A and B unnegated and K-major (not transposed).
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a,
                                                 uint64_t desc_b, bool accumulate) {
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
        "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]),
        "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),
        "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]),
        "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),
        "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]),
        "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(static_cast<int>(accumulate)));
}
// end lesson

// lesson: wgmma_fences
__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// While a wgmma owns its accumulators, the compiler must neither read them
// nor move them to other registers: an empty asm that "writes" each one pins
// them where they are, at the points the kernel says.
template <int R, int N>
__device__ __forceinline__ void pin_registers(float (&d)[R][N]) {
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[r][i])::"memory");
  }
}
// end lesson

#endif

}  // namespace gpt::cuda::ptx
