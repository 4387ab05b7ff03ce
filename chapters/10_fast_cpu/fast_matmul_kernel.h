// chapters/10_fast_cpu/fast_matmul_kernel.h — the innermost loop of fast_matmul.
//
// One (MR × 32) tile of C lives in 2·MR vector registers (16 floats each: an
// AVX-512 zmm register) for the whole walk down k. Each step loads one row
// of the packed B panel (two vectors), broadcasts MR values of the packed A
// panel, and issues 2·MR fused multiply-adds: 64·MR flops for 2 vector loads.
// With MR = 12 that is 24 accumulators, 2 B vectors and a broadcast: 27 of
// the 32 registers, and the FMA unit never waits for memory.
//
// The vectors are GCC's vector extensions, so the same code compiles to
// AVX-512 (-march=native here) or to pairs of AVX2 registers elsewhere
// (--config=portable), just slower. The BUILD file compiles this chapter's
// matmul with -ffp-contract=fast so that `c += a * b` becomes one FMA.
#pragma once

#include <cstdint>
#include <cstring>

namespace gpt {

inline constexpr int kNR = 32;  // columns of a C tile: two 16-float vectors

typedef float Vec16 __attribute__((vector_size(64), aligned(64)));

// C's rows need not be 64-byte aligned: memcpy is how C++ says "unaligned load/store".
inline Vec16 load_unaligned(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_unaligned(float* p, const Vec16& v) { std::memcpy(p, &v, sizeof v); }

// lesson: micro_kernel
// C[0:m, 0:n] (+)= Ap · Bp over kc steps; Ap is a packed (kc, MR) panel,
// Bp a packed (kc, 32) panel. m <= MR and n <= 32 (edge tiles).
template <int MR>
inline void micro_kernel(int kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int m,
                         int n, bool accumulate) {
  Vec16 c[MR][2];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = Vec16{};
  for (int p = 0; p < kc; ++p) {
    const Vec16 b0 = *reinterpret_cast<const Vec16*>(Bp);       // B[p, 0:16]
    const Vec16 b1 = *reinterpret_cast<const Vec16*>(Bp + 16);  // B[p, 16:32]
#pragma GCC unroll 16  // unrolled, c[r] are registers; a loop would keep them in memory
    for (int r = 0; r < MR; ++r) {
      const float a = Ap[r];                                     // A[r, p], broadcast
      c[r][0] += a * b0;
      c[r][1] += a * b1;
    }
    Ap += MR;
    Bp += kNR;
  }
  // end lesson
  if (m == MR && n == kNR) {  // a whole tile: straight to C
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      float* row = C + r * ldc;
      if (accumulate) {
        c[r][0] += load_unaligned(row);
        c[r][1] += load_unaligned(row + 16);
      }
      store_unaligned(row, c[r][0]);
      store_unaligned(row + 16, c[r][1]);
    }
    return;
  }
  alignas(64) float tile[MR][kNR];  // an edge tile: only m × n of it is C's
  std::memcpy(tile, c, sizeof tile);
  for (int r = 0; r < m; ++r) {
    for (int j = 0; j < n; ++j) C[r * ldc + j] = accumulate ? C[r * ldc + j] + tile[r][j] : tile[r][j];
  }
}

}  // namespace gpt
