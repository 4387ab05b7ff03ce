// chapters/12_cuda_matmul/tile_load.cuh — chapter 12: copying a tile to shared memory, four floats at a time.
//
// Device code only, for versions 6, 7 and 8. One float4 load moves 16 bytes in
// one instruction, where four float loads need four; the memory system serves
// it in the same transaction. Its address must be a multiple of 16 bytes: the
// matrix must start 16-byte aligned and its rows must be a multiple of 4
// floats long (ld % 4 == 0), and the four floats must lie inside the matrix.
// `vec` says the first two hold for the whole matrix (the launcher checks);
// a float4 that crosses the right edge is loaded one float at a time instead,
// so any size works and only edge tiles pay.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace gpt::cuda::matmul_internal {

// The two halves of a copy, shared by load_tile below and by version 8's
// TilePrefetch: reading one float4 of the matrix (zeros outside it), and
// writing it to its place in the shared tile.
__device__ __forceinline__ float4 read_float4(const float* src, int rows, int cols, int ld, int gr,
                                              int gc, bool vec) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (gr < rows) {
    const float* p = src + int64_t(gr) * ld + gc;
    if (vec && gc + 3 < cols) {
      v = *reinterpret_cast<const float4*>(p);
    } else {  // the right edge, or unaligned rows: float by float
      if (gc < cols) v.x = p[0];
      if (gc + 1 < cols) v.y = p[1];
      if (gc + 2 < cols) v.z = p[2];
      if (gc + 3 < cols) v.w = p[3];
    }
  }
  return v;
}

template <int ROWS, int COLS, bool TRANSPOSE>
__device__ __forceinline__ void write_float4(float* dst, int r, int c, float4 v) {
  if (TRANSPOSE) {
    dst[(c + 0) * ROWS + r] = v.x;
    dst[(c + 1) * ROWS + r] = v.y;
    dst[(c + 2) * ROWS + r] = v.z;
    dst[(c + 3) * ROWS + r] = v.w;
  } else {
    *reinterpret_cast<float4*>(dst + r * COLS + c) = v;
  }
}

// lesson: load_tile
// Copies the ROWS×COLS block at (r0, c0) of the row-major matrix `src` (rows
// × cols, row stride ld) to shared memory, as dst[r][c] (row stride COLS) or,
// with TRANSPOSE, as dst[c][r] (row stride ROWS). Elements outside the matrix
// are stored as 0. Called by all THREADS threads of the block; c0 % 4 == 0.
template <int ROWS, int COLS, int THREADS, bool TRANSPOSE>
__device__ __forceinline__ void load_tile(float* dst, const float* src, int rows, int cols,
                                          int ld, int r0, int c0, bool vec) {
  constexpr int kVectors = ROWS * COLS / 4;
  static_assert(COLS % 4 == 0 && kVectors % THREADS == 0, "whole float4s, equal shares");
#pragma unroll
  for (int it = 0; it < kVectors / THREADS; ++it) {
    const int i = it * THREADS + threadIdx.x;
    const int r = i / (COLS / 4), c = i % (COLS / 4) * 4;  // this float4's place in the tile
    const float4 v = read_float4(src, rows, cols, ld, r0 + r, c0 + c, vec);  // and in the matrix
    write_float4<ROWS, COLS, TRANSPOSE>(dst, r, c, v);
  }
}
// end lesson

// lesson: tile_prefetch
// load_tile cut in two, for version 8: fetch() reads this thread's share of
// the tile into registers and returns at once — the loads are in flight, and
// nothing waits for them until store() writes the registers to shared memory.
// Whatever the thread does in between hides the loads' latency.
//
// DOWN changes which float4 each thread takes. Across (the default, as in
// load_tile): neighbouring threads take neighbouring float4s of a row, so a
// warp reads whole rows — coalesced. But a transposed store of a 16-wide
// slice then has the lanes of a warp write 8 rows × 4 float4 columns of the
// tile into only 8 banks of shared memory (a row of As is 128 floats, a
// multiple of the 32 banks): a 4-way conflict (2-way for an 8-wide slice).
// DOWN: neighbouring threads take the same float4 column of neighbouring
// rows, so the transposed store writes 32 neighbouring floats, free of
// conflicts, and a warp's global read takes 16 bytes from each of 32 rows
// (another warp of the block reads the other half of those 32-byte sectors
// at the same time).
template <int ROWS, int COLS, int THREADS, bool TRANSPOSE, bool DOWN = false>
struct TilePrefetch {
  static constexpr int kVectors = ROWS * COLS / 4;
  static_assert(COLS % 4 == 0 && kVectors % THREADS == 0, "whole float4s, equal shares");
  static_assert(!DOWN || ROWS % 32 == 0, "DOWN: a warp's 32 lanes in one column");
  float4 v[kVectors / THREADS];

  // (row, column) in the tile of this thread's it-th float4.
  __device__ __forceinline__ static int2 place(int it) {
    const int i = it * THREADS + threadIdx.x;
    return DOWN ? make_int2(i % ROWS, i / ROWS * 4) : make_int2(i / (COLS / 4), i % (COLS / 4) * 4);
  }

  __device__ __forceinline__ void fetch(const float* src, int rows, int cols, int ld, int r0,
                                        int c0, bool vec) {
#pragma unroll
    for (int it = 0; it < kVectors / THREADS; ++it) {
      const int2 p = place(it);
      v[it] = read_float4(src, rows, cols, ld, r0 + p.x, c0 + p.y, vec);
    }
  }

  __device__ __forceinline__ void store(float* dst) const {
#pragma unroll
    for (int it = 0; it < kVectors / THREADS; ++it) {
      const int2 p = place(it);
      write_float4<ROWS, COLS, TRANSPOSE>(dst, p.x, p.y, v[it]);
    }
  }
};
// end lesson

// float4 access to a row-major matrix is safe when it starts 16-byte aligned
// and its row stride is a multiple of 4 floats.
inline bool vector_ok(const void* p, int ld) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && ld % 4 == 0;
}

}  // namespace gpt::cuda::matmul_internal
