// chapters/17_mixed_precision/mma_tile.cuh — chapter 17: what versions 2 to 4 share — the swizzled tile, its asynchronous copy, one slice of mma.sync, the bf16 write with its epilogue.
//
// A block computes a BM×BN tile of out, K slice by K slice: each slice of A
// (BM rows × BK) and of B (BN rows × BK) is staged in shared memory, and each
// of the block's warps multiplies its WM×WN part of the tile with
// mma.sync (tensor_core_ptx.cuh), reading its fragments with ldmatrix.
//
// The tile's layout in shared memory is the one idea here. A row of BK bf16
// is BK/8 pieces of 16 bytes; ldmatrix has 8 lanes each read one piece, from
// 8 consecutive rows, in the same column of pieces. Stored plainly, those 8
// pieces sit a multiple of BK·2 bytes apart, which puts 4 of them (BK = 32)
// or all 8 (BK = 64) in the same banks of shared memory (32 banks of 4
// bytes, a 128-byte line): the reads queue up. Swizzling stores piece c of row r at
// piece c XOR (a few bits of r) instead, so that 8 consecutive rows' pieces
// of one column land in 8 different 16-byte bank groups. Writers and readers
// both go through swizzled(), so nothing else changes. (With BK = 64 this is
// also the "128-byte swizzle" Hopper's wgmma reads, version 4's operands.)
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "chapters/11_cuda_basics/gelu.cuh"
#include "chapters/17_mixed_precision/tensor_core_ptx.cuh"

namespace gpt::cuda::bf16_matmul_internal {

constexpr int kPiece = 8;  // bf16 per 16-byte piece, the unit of every copy

// Eight bf16, moved as one 16-byte load or store (version 1's copies too).
struct alignas(16) Piece {
  uint32_t word[4];
};

// lesson: swizzled
// Where piece c of row r of a (rows × BK) tile lives, in bf16 from the tile's start.
template <int BK>
__device__ __forceinline__ int swizzled(int r, int c) {
  constexpr int kPieces = BK / kPiece;          // pieces per row: 2, 4 or 8
  constexpr int kRowsPerLine = 8 / kPieces;     // rows per 128-byte line of banks
  static_assert(kPieces >= 2 && kPieces <= 8 && 8 % kPieces == 0, "BK is 16, 32 or 64");
  return r * BK + (c ^ ((r / kRowsPerLine) % kPieces)) * kPiece;
}
// end lesson

// lesson: load_tile_async
// Rows r0 .. r0 + ROWS of src (rows × K), columns k0 .. k0 + BK, into a
// swizzled (ROWS, BK) tile, as cp.async copies; a piece past the matrix's
// last row or column copies 0 bytes of src and fills with zeros.
template <int ROWS, int BK, int THREADS>
__device__ __forceinline__ void load_tile_async(__nv_bfloat16* tile, const __nv_bfloat16* src,
                                                int rows, int K, int r0, int k0) {
  constexpr int kPieces = BK / kPiece;
  for (int q = threadIdx.x; q < ROWS * kPieces; q += THREADS) {
    const int r = q / kPieces, c = q % kPieces;
    const int row = r0 + r, k = k0 + c * kPiece;
    const bool inside = row < rows && k < K;
    ptx::cp_async_16(tile + swizzled<BK>(r, c),
                     inside ? src + static_cast<size_t>(row) * K + k : src, inside ? 16 : 0);
  }
}
// end lesson

// lesson: mma_slice
// acc += this warp's part of (As slice) · (Bs slice)ᵀ, one BK slice:
//   As (BM, BK) and Bs (BN, BK) in shared memory, swizzled;
//   the warp's rows wm0 .. wm0 + 16·MI, columns wn0 .. wn0 + 8·NI;
//   acc[mi][ni] is the mma fragment of the 16×8 block (wm0 + 16·mi, wn0 + 8·ni).
template <int BK, int MI, int NI>
__device__ __forceinline__ void mma_slice(float (&acc)[MI][NI][4], const __nv_bfloat16* As,
                                          const __nv_bfloat16* Bs, int wm0, int wn0, int lane) {
  static_assert(NI % 2 == 0, "B's fragments are loaded two 8-column blocks at a time");
#pragma unroll
  for (int ks = 0; ks < BK / 16; ++ks) {  // 16 of K per mma
    uint32_t a[MI][4], b[NI][2];
    // A's 16×16 fragment as four 8×8 tiles: lanes 0-15 give rows 0-15 of
    // k 0-7, lanes 16-31 the same rows of k 8-15.
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      const int r = wm0 + mi * 16 + lane % 16;
      ptx::ldmatrix_x4(a[mi], As + swizzled<BK>(r, ks * 2 + lane / 16));
    }
    // Two of B's 16×8 fragments per ldmatrix_x4: lanes 0-7 give rows (n) 0-7
    // of k 0-7, lanes 8-15 the same of k 8-15, lanes 16-31 rows 8-15 likewise.
#pragma unroll
    for (int nj = 0; nj < NI / 2; ++nj) {
      const int r = wn0 + nj * 16 + (lane / 16) * 8 + lane % 8;
      uint32_t t[4];
      ptx::ldmatrix_x4(t, Bs + swizzled<BK>(r, ks * 2 + (lane / 8) % 2));
      b[2 * nj][0] = t[0], b[2 * nj][1] = t[1];
      b[2 * nj + 1][0] = t[2], b[2 * nj + 1][1] = t[3];
    }
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) {
        ptx::mma_m16n8k16_bf16(acc[mi][ni], a[mi], b[ni], acc[mi][ni]);
      }
    }
  }
}
// end lesson

// lesson: epilogue
// A linear layer's epilogue on one fp32 sum: + bias[col] (if bias is not
// null), then GELU's tanh form (if gelu), still in fp32.
__device__ __forceinline__ float linear_epilogue(float sum, const __nv_bfloat16* bias, int col,
                                                 bool gelu) {
  if (bias != nullptr) sum += __bfloat162float(bias[col]);
  return gelu ? gelu_device::gelu(sum, /*tanh_form=*/true) : sum;  // chapter 11's
}
// end lesson

// The warp's accumulators, through the epilogue and rounded once to bf16,
// into out (M, N) at (row0, col0). Lane (g = lane/4, t = lane%4) holds, per
// 16×8 block, rows g and g+8, columns 2t and 2t+1: two neighbours, written as
// one 4-byte __nv_bfloat162 where both are inside and aligned.
template <int MI, int NI>
__device__ __forceinline__ void store_bf16(__nv_bfloat16* out, const float (&acc)[MI][NI][4],
                                           int row0, int col0, int M, int N, int lane,
                                           const __nv_bfloat16* bias = nullptr,
                                           bool gelu = false) {
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
      const int col = col0 + ni * 8 + 2 * t;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = row0 + mi * 16 + g + 8 * h;
        if (row >= M || col >= N) continue;
        const float v0 = linear_epilogue(acc[mi][ni][2 * h], bias, col, gelu);
        __nv_bfloat16* p = out + static_cast<size_t>(row) * N + col;
        if (col + 1 < N && N % 2 == 0) {
          const float v1 = linear_epilogue(acc[mi][ni][2 * h + 1], bias, col + 1, gelu);
          *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(v0, v1);
        } else {
          p[0] = __float2bfloat16(v0);
          if (col + 1 < N) {
            p[1] = __float2bfloat16(linear_epilogue(acc[mi][ni][2 * h + 1], bias, col + 1, gelu));
          }
        }
      }
    }
  }
}

// The warp's accumulators kept in fp32, into out (M, N) at (row0, col0):
// + bias[col] (if bias is not null), + what out holds (if accumulate). For
// the GPT's bf16 backend, whose activations and gradients stay fp32: a
// product's only roundings are its inputs'.
template <int MI, int NI>
__device__ __forceinline__ void store_f32(float* out, const float (&acc)[MI][NI][4], int row0,
                                          int col0, int M, int N, int lane, const float* bias,
                                          bool accumulate) {
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = row0 + mi * 16 + g + 8 * h;
        if (row >= M) continue;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int col = col0 + ni * 8 + 2 * t + j;
          if (col >= N) continue;
          float v = acc[mi][ni][2 * h + j];
          if (bias != nullptr) v += bias[col];
          float* p = out + static_cast<size_t>(row) * N + col;
          *p = accumulate ? *p + v : v;
        }
      }
    }
  }
}

// Where a block's sums go (versions 3 and 4): bf16, through a linear
// layer's epilogue (bf16_linear), or fp32, kept (the GPT's bf16 backend,
// bf16_products.h).
struct Bf16Out {
  __nv_bfloat16* out;
  const __nv_bfloat16* bias;
  bool gelu;
  template <int MI, int NI>
  __device__ void store(const float (&acc)[MI][NI][4], int row0, int col0, int M, int N,
                        int lane) const {
    store_bf16(out, acc, row0, col0, M, N, lane, bias, gelu);
  }
};
struct F32Out {
  float* out;
  const float* bias;
  bool accumulate;
  template <int MI, int NI>
  __device__ void store(const float (&acc)[MI][NI][4], int row0, int col0, int M, int N,
                        int lane) const {
    store_f32(out, acc, row0, col0, M, N, lane, bias, accumulate);
  }
};

}  // namespace gpt::cuda::bf16_matmul_internal
