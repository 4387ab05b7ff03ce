// chapters/10_fast_cpu/fast_matmul_kernel.h — the innermost loop of fast_matmul.
//
// One (MR × NR) tile of C lives in vector registers for the whole walk down
// k. Each step loads one row of the packed B panel (NR/16 vectors of 16
// floats), broadcasts MR values of the packed A panel, and issues MR·NR/16
// fused multiply-adds of 16 lanes. With AVX-512 (32 zmm registers of 16
// floats, -march=native here): MR = 8, NR = 32, 16 accumulators, 2 B
// vectors and a broadcast — and the FMA units never wait for memory.
//
// The vectors are GCC's vector extensions. A vector type wider than the
// machine's registers still compiles, but GCC keeps it in MEMORY: built for
// AVX2 (--config=portable, 16 ymm registers of 8 floats) the AVX-512 code
// ran 39× slower (110 instead of 4,249 tokens/s training). So without
// AVX-512 a Vec16 is a pair of 8-float vectors, each one ymm register, and
// the tile shrinks to MR = 6, NR = 16: 12 accumulators, 2 for B, 1 broadcast.
// The BUILD file compiles this chapter's matmul with -ffp-contract=fast so
// that `c += a * b` becomes one FMA.
#pragma once

#include <cstdint>
#include <cstring>

namespace gpt {

// lesson: vector_width
#if defined(__AVX512F__)
typedef float Vec16 __attribute__((vector_size(64), aligned(64)));  // one zmm register
inline constexpr int kMR = 8;   // rows of a C tile
inline constexpr int kNR = 32;  // columns: two Vec16 — 16 of the 32 registers accumulate
#else
typedef float Vec8 __attribute__((vector_size(32), aligned(32)));   // one ymm register
struct Vec16 {                                                      // two of them
  Vec8 lo, hi;
  Vec16& operator+=(const Vec16& o) {
    lo += o.lo;
    hi += o.hi;
    return *this;
  }
};
inline Vec16 operator*(float a, const Vec16& b) { return {a * b.lo, a * b.hi}; }
inline Vec16 operator*(const Vec16& a, const Vec16& b) { return {a.lo * b.lo, a.hi * b.hi}; }
inline constexpr int kMR = 6;   // 6 × 16 floats: 12 of the 16 registers accumulate
inline constexpr int kNR = 16;
#endif
// end lesson

// C's rows need not be 64-byte aligned: memcpy is how C++ says "unaligned
// load/store". One memcpy per register: a 64-byte memcpy into the pair of
// AVX2 vectors went through the stack in 16-byte pieces.
#if defined(__AVX512F__)
inline Vec16 load_unaligned(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_unaligned(float* p, const Vec16& v) { std::memcpy(p, &v, sizeof v); }
#else
inline Vec16 load_unaligned(const float* p) {
  Vec16 v;
  std::memcpy(&v.lo, p, sizeof v.lo);
  std::memcpy(&v.hi, p + 8, sizeof v.hi);
  return v;
}
inline void store_unaligned(float* p, const Vec16& v) {
  std::memcpy(p, &v.lo, sizeof v.lo);
  std::memcpy(p + 8, &v.hi, sizeof v.hi);
}
#endif

// lesson: micro_kernel
// C[0:m, 0:n] (+)= Ap · Bp over kc steps; Ap is a packed (kc, MR) panel,
// Bp a packed (kc, NR) panel. m <= MR and n <= NR (edge tiles). With a
// `bias` (n floats), every row of C is the sum plus the bias instead.
template <int MR>
inline void micro_kernel(int kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int m,
                         int n, bool accumulate, const float* bias = nullptr) {
  constexpr int V = kNR / 16;  // Vec16s across a tile's row
  // C's tile is stored (or added into) only after the walk down k. Ask for
  // its cache lines now: they come from wherever C lies while the FMAs run,
  // and the adds at the end need not wait for them. The 1 asks for them to
  // write (prefetchw), where the target CPU has that instruction; GCC's
  // -march=x86-64-v3 does not, and there it is a plain read prefetch.
  for (int r = 0; r < m; ++r) {
    const float* row = C + r * ldc;
    for (int v = 0; v < V && 16 * v < n; ++v) __builtin_prefetch(row + 16 * v, 1);
    __builtin_prefetch(row + n - 1, 1);  // the row's last line, if it starts one more
  }
  Vec16 c[MR][V];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) c[r][v] = Vec16{};
  }
  for (int p = 0; p < kc; ++p) {
    Vec16 b[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) b[v] = *reinterpret_cast<const Vec16*>(Bp + 16 * v);  // B[p, 16v:]
#pragma GCC unroll 16  // unrolled, c[r] are registers; a loop would keep them in memory
    for (int r = 0; r < MR; ++r) {
      const float a = Ap[r];  // A[r, p], broadcast
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) c[r][v] += a * b[v];
    }
    Ap += MR;
    Bp += kNR;
  }
  // end lesson
  if (m == MR && n == kNR) {  // a whole tile: straight to C
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      float* row = C + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        if (bias) {
          c[r][v] += load_unaligned(bias + 16 * v);
        } else if (accumulate) {
          c[r][v] += load_unaligned(row + 16 * v);
        }
        store_unaligned(row + 16 * v, c[r][v]);
      }
    }
    return;
  }
  alignas(64) float tile[MR][kNR];  // an edge tile: only m × n of it is C's
  std::memcpy(tile, c, sizeof tile);
  for (int r = 0; r < m; ++r) {
    for (int j = 0; j < n; ++j) {
      float& out = C[r * ldc + j];
      out = bias ? tile[r][j] + bias[j] : accumulate ? tile[r][j] + out : tile[r][j];
    }
  }
}

}  // namespace gpt
