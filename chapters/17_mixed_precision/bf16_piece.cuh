// chapters/17_mixed_precision/bf16_piece.cuh — chapter 17: eight bf16 in one 16-byte load or store.
//
// Device code only: included by the .cu files whose kernels walk bf16 rows
// (the fused residual + LayerNorm, the bf16 feed-forward's elementwise ops).
// A bandwidth-bound kernel moves its data in the widest pieces a thread can
// load in one instruction, 16 bytes, and does its arithmetic in fp32: each
// bf16 widens exactly, and each result is rounded once, on its way out.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda::pieces {

constexpr int kPiece = 8;  // bf16 per 16-byte load or store

// lesson: piece
// Eight bf16, moved as one 16-byte load or store, held as four pairs: a pair
// to a 32-bit register, so a lane's share of a 768-wide row is 12 registers.
struct alignas(16) Piece {
  __nv_bfloat162 pair[kPiece / 2];
};

// Element k of a piece, as float (exact).
__device__ __forceinline__ float at(const Piece& piece, int k) {
  return k % 2 == 0 ? __low2float(piece.pair[k / 2]) : __high2float(piece.pair[k / 2]);
}

// Eight floats, each rounded to the nearest bf16.
__device__ __forceinline__ Piece rounded(const float (&v)[kPiece]) {
  Piece piece;
#pragma unroll
  for (int j = 0; j < kPiece / 2; ++j) {
    piece.pair[j] = __floats2bfloat162_rn(v[2 * j], v[2 * j + 1]);
  }
  return piece;
}

__device__ __forceinline__ Piece zeros() {
  const float none[kPiece] = {};
  return rounded(none);
}
// end lesson

// The host's Bf16 and CUDA's __nv_bfloat16 hold the same 16 bits.
inline const __nv_bfloat16* device(const Bf16* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}
inline __nv_bfloat16* device(Bf16* p) { return reinterpret_cast<__nv_bfloat16*>(p); }

}  // namespace gpt::cuda::pieces
