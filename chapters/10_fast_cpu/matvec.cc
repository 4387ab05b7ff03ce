// chapters/10_fast_cpu/matvec.cc — chapter 10: the few-token linear layer, vectorised by hand.
#include "chapters/10_fast_cpu/matvec.h"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <cstring>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gpt {

#if defined(__AVX512F__)

namespace {

// lesson: matvec_kernel
// R weight rows times N tokens: R·N accumulators of 16 lanes, one pass over
// the C columns (the tail through a masked load), then each accumulator's 16
// lanes are added up. The R rows are `stride` rows apart (1: side by side).
// out[i, r] is summed in the same order for any R, N and stride.
// (The unroll pragmas keep acc in registers: at -O2 GCC leaves such loops
// rolled and the accumulators in memory, 3x slower.)
template <int R, int N>
void dot_block(float* out, int ldo, const float* inp, const float* W, const float* b, int C,
               int stride) {
  const size_t row_step = size_t(stride) * C;  // from one of the R rows to the next
  __m512 acc[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  for (int c = 0; c < C; c += 16) {
    const __mmask16 m = C - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c)) - 1);
    __m512 x[N];
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) x[i] = _mm512_maskz_loadu_ps(m, inp + size_t(i) * C + c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 w = _mm512_maskz_loadu_ps(m, W + r * row_step + c);
#pragma GCC unroll 4
      for (int i = 0; i < N; ++i) acc[r][i] = _mm512_fmadd_ps(w, x[i], acc[r][i]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) {
      const size_t o = size_t(r) * stride;
      out[size_t(i) * ldo + o] = _mm512_reduce_add_ps(acc[r][i]) + (b ? b[o] : 0.0f);
    }
  }
}
// end lesson

constexpr int kBlockRows = 4;  // 4 rows × 4 tokens: 16 zmm accumulators of 32

}  // namespace

#elif defined(__AVX2__) && defined(__FMA__)  // AVX2 (e.g. --config=portable): 8-lane ymm registers

namespace {

// The first n of 8 lanes (none for n <= 0, all for n >= 8), as a mask for
// _mm256_maskload_ps: AVX2's stand-in for AVX-512's __mmask16.
inline __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256 load8(const float* p, bool masked, __m256i m) {
  return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

// The 8 sums of 2 rows × 4 tokens at once: out[i · ldo + r] = the 8 lanes of
// acc[r][i] added up as the tree below does it, (l0 + l4) + (l2 + l6), plus
// (l1 + l5) + (l3 + l7), then the bias. Three rounds of shuffles and adds
// serve all 8 accumulators, instead of a tree for each: the same additions
// of the same pairs, so the same bits.
inline void add_up_2x4(float* out, int ldo, const __m256 (&acc)[2][4], const float* b) {
  // [x.lo + x.hi | y.lo + y.hi]: two accumulators from 8 lanes to 4
  const auto halves = [](__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
  };
  // per 128-bit half, lanes j and j + 2 of x, then of y: from 4 lanes to 2
  const auto pairs = [](__m256 x, __m256 y) {
    return _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
  };
  // acc[r][i] is row r, token i. Low halves carry tokens 0 and 1, high halves 2 and 3.
  const __m256 r0_t02 = halves(acc[0][0], acc[0][2]), r1_t02 = halves(acc[1][0], acc[1][2]);
  const __m256 r0_t13 = halves(acc[0][1], acc[0][3]), r1_t13 = halves(acc[1][1], acc[1][3]);
  const __m256 t02 = pairs(r0_t02, r1_t02), t13 = pairs(r0_t13, r1_t13);
  // from 2 lanes to 1: low half [t0 r0, t0 r1, t1 r0, t1 r1], high half the same for t2, t3
  const __m256 sums = _mm256_add_ps(_mm256_shuffle_ps(t02, t13, _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm256_shuffle_ps(t02, t13, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m256 bias = b ? _mm256_setr_ps(b[0], b[1], b[0], b[1], b[0], b[1], b[0], b[1])
                        : _mm256_setzero_ps();  // + 0.0f, as the tree below adds without one
  const __m256 y = _mm256_add_ps(sums, bias);
  const __m128 t01 = _mm256_castps256_ps128(y), t23 = _mm256_extractf128_ps(y, 1);
  _mm_storel_pi(reinterpret_cast<__m64*>(out), t01);  // token 0: rows 0 and 1
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + size_t(ldo)), t01);
  _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * size_t(ldo)), t23);
  _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * size_t(ldo)), t23);
}

// lesson: matvec_kernel_avx2
// The AVX-512 dot_block on 8-lane ymm registers: R·N accumulators, one pass
// over the C columns (the tail through masked loads: zeros beyond C), then
// each accumulator's 8 lanes added up as a tree (4, 2, 1). 16 registers hold
// R·N accumulators, the R rows' and the N tokens' vectors: 2 rows × 4 tokens
// take 14. out[i, r] is summed in the same order for any R, N and stride.
template <int R, int N>
void dot_block(float* out, int ldo, const float* inp, const float* W, const float* b, int C,
               int stride) {
  const size_t row_step = size_t(stride) * C;  // from one of the R rows to the next
  __m256 acc[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) acc[r][i] = _mm256_setzero_ps();
  }
  const auto step = [&](int c, bool tail, __m256i m) {  // columns c .. c + 7
    __m256 x[N];
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) {
      x[i] = load8(inp + size_t(i) * C + c, tail, m);
      if constexpr (R > 1) asm("" : "+x"(x[i]));  // in a register, not reloaded for every row
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m256 w = load8(W + r * row_step + c, tail, m);
      if constexpr (N > 1) asm("" : "+x"(w));  // the same: loaded once for the N tokens
#pragma GCC unroll 4
      for (int i = 0; i < N; ++i) acc[r][i] = _mm256_fmadd_ps(w, x[i], acc[r][i]);
    }
  };
  int c = 0;
  for (; c + 8 <= C; c += 8) step(c, false, __m256i{});
  if (c < C) step(c, true, first_lanes(C - c));
  if constexpr (R == 2 && N == 4) {
    if (stride == 1) return add_up_2x4(out, ldo, acc, b);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int i = 0; i < N; ++i) {
      const __m256 s8 = acc[r][i];  // 8 lanes -> 4 -> 2 -> 1
      const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
      const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
      const size_t o = size_t(r) * stride;
      out[size_t(i) * ldo + o] =
          _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2))) + (b ? b[o] : 0.0f);
    }
  }
}
// end lesson

constexpr int kBlockRows = 2;  // 2 rows × 4 tokens: 14 of the 16 ymm registers

}  // namespace

#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))

namespace {

// Rows [begin, end) for tokens [0, N): blocks of R adjacent rows, each block
// (R rows, a few KB: it stays in L1) taken by every token, NB at a time, so
// the weights come from L3 once per prefill, not once per token. Returns the
// first row not done.
template <int R, int NB>
int rows_by_blocks(float* out, const float* inp, const float* W, const float* b, int N, int C,
                   int OC, int begin, int end) {
  int r = begin;
  for (; r + R <= end; r += R) {
    const float* Wr = W + size_t(r) * C;
    const float* br = b ? b + r : nullptr;
    int i = 0;
    for (; i + NB <= N; i += NB) {
      dot_block<R, NB>(out + size_t(i) * OC + r, OC, inp + size_t(i) * C, Wr, br, C, 1);
    }
    for (; i < N; ++i) {
      dot_block<R, 1>(out + size_t(i) * OC + r, OC, inp + size_t(i) * C, Wr, br, C, 1);
    }
  }
  return r;
}

// lesson: rows_as_streams
// One token, rows [begin, end) as R streams: stream s is the s-th of R equal
// runs of rows, and each dot_block takes the next row of every stream. The
// weights are the same bytes as rows_by_blocks reads, in another order: R
// sequential reads far apart keep more loads in flight than one, and one
// core then streams its rows from memory faster. Returns the first row not done.
template <int R>
int rows_as_streams(float* out, const float* x, const float* W, const float* b, int C,
                    int begin, int end) {
  const int run = (end - begin) / R;  // rows per stream
  for (int j = 0; j < run; ++j) {
    const int r = begin + j;  // stream s's row: r + s·run
    dot_block<R, 1>(out + r, 0, x, W + size_t(r) * C, b ? b + r : nullptr, C, run);
  }
  return begin + R * run;
}
// end lesson

}  // namespace

void linear_rows(float* out, const float* inp, const float* W, const float* b, int N, int C,
                 int OC, int begin, int end) {
  // One token: 8 streams of rows, 8 independent sums. Several: kBlockRows rows × 4 tokens.
  int r = N == 1 ? rows_as_streams<8>(out, inp, W, b, C, begin, end)
                 : rows_by_blocks<kBlockRows, 4>(out, inp, W, b, N, C, OC, begin, end);
  for (; r < end; ++r) {
    for (int i = 0; i < N; ++i) {
      dot_block<1, 1>(out + size_t(i) * OC + r, OC, inp + size_t(i) * C, W + size_t(r) * C,
                      b ? b + r : nullptr, C, 1);
    }
  }
}

#else  // neither AVX-512 nor AVX2: the same idea on fast_matmul_kernel.h's Vec16.

namespace {

// R weight rows times one token, 16 partial sums per row (a Vec16: a pair of
// 8-float vectors). A plain loop with `lanes[c % 16]` was 4.6x slower: GCC
// did not vectorise it. The R rows are `stride` rows apart, as in the
// AVX-512 dot_block; each row is summed in the same order for any R and stride.
template <int R>
void dot_rows(float* out, const float* x, const float* W, const float* b, int C, int stride) {
  const size_t row_step = size_t(stride) * C;
  Vec16 acc[R];
  float tail[R] = {};
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc[r] = Vec16{};
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    const Vec16 xv = load_unaligned(x + c);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] += load_unaligned(W + r * row_step + c) * xv;
  }
  for (; c < C; ++c) {
    for (int r = 0; r < R; ++r) tail[r] += W[r * row_step + c] * x[c];
  }
  for (int r = 0; r < R; ++r) {
    float lanes[16];
    std::memcpy(lanes, &acc[r], sizeof lanes);
    float sum = tail[r];
    for (float s : lanes) sum += s;
    const size_t o = size_t(r) * stride;
    out[o] = sum + (b ? b[o] : 0.0f);
  }
}

}  // namespace

// Token by token; each token's rows as 4 streams (the AVX-512 path's
// rows_as_streams with 4 rows at a time: 8 ymm accumulators), the rest one by one.
void linear_rows(float* out, const float* inp, const float* W, const float* b, int N, int C,
                 int OC, int begin, int end) {
  constexpr int kStreams = 4;
  const int run = (end - begin) / kStreams;  // rows per stream
  for (int i = 0; i < N; ++i) {
    const float* x = inp + size_t(i) * C;
    float* o = out + size_t(i) * OC;
    for (int j = 0; j < run; ++j) {
      const int r = begin + j;  // stream s's row: r + s·run
      dot_rows<kStreams>(o + r, x, W + size_t(r) * C, b ? b + r : nullptr, C, run);
    }
    for (int r = begin + kStreams * run; r < end; ++r) {
      dot_rows<1>(o + r, x, W + size_t(r) * C, b ? b + r : nullptr, C, 1);
    }
  }
}

#endif

// lesson: team_linear
void team_linear(float* out, const float* inp, const float* weight, const float* bias, int N,
                 int C, int OC) {
  const auto [begin, end] = team_rows(OC);  // this thread's output rows
  linear_rows(out, inp, weight, bias, N, C, OC, begin, end);
#pragma omp barrier
}
// end lesson

}  // namespace gpt
