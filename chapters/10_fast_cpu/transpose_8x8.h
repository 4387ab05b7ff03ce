// chapters/10_fast_cpu/transpose_8x8.h — an 8 × 8 block of floats turned in registers.
//
// Packing a matrix product's operands (fast_matmul.cc) and laying out an
// attention head's kᵀ (head_scratch.h) both turn rows into columns. One float
// at a time that is 64 scalar loads and 64 stores, each store to a different
// cache line; here it is 8 vector loads, 24 shuffles and 8 vector stores.
#pragma once

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>

namespace gpt {

// lesson: transpose
// out[k · ld + r] = in[r][p + k] for r, k < 8: eight rows of eight floats
// stored as eight columns, each column 8 floats wide at a stride of ld.
// With AVX2, 24 shuffles in registers instead of 64 scalar loads and stores.
// ld may be less than 8 (AVX2's A panels have MR = 6 rows per step): each
// store then also writes past its step, into the next step's slots, which
// the next store overwrites; fast_matmul.cc's packed buffers end with
// kPackSlack floats for the last one.
[[gnu::always_inline]] inline void transpose_8x8(float* out, int ld, const float* const in[8], int p) {
#if defined(__AVX2__)
  // Every loop unrolled: the arrays then live in registers, not on the stack.
  __m256 r[8];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(in[k] + p);
  __m256 t[8], s[8];
#pragma GCC unroll 8
  for (int k = 0; k < 8; k += 2) {  // pairs of rows interleaved: a0 b0 a1 b1 | a4 b4 a5 b5, ...
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; k += 4) {  // quads: a0 b0 c0 d0 | a4 b4 c4 d4, ...
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 8
  for (int k = 0; k < 4; ++k) {  // halves joined: column k, then column k + 4
    _mm256_storeu_ps(out + k * ld, _mm256_permute2f128_ps(s[k], s[k + 4], 0x20));
  }
#pragma GCC unroll 8
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(out + (k + 4) * ld, _mm256_permute2f128_ps(s[k], s[k + 4], 0x31));
  }
#else
  for (int k = 0; k < 8; ++k) {
    for (int r = 0; r < std::min(ld, 8); ++r) out[k * ld + r] = in[r][p + k];
  }
#endif
}
// end lesson

}  // namespace gpt
