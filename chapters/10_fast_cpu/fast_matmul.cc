// chapters/10_fast_cpu/fast_matmul.cc — packing, cache blocking and threads around the micro-kernel.
#include "chapters/10_fast_cpu/fast_matmul.h"

#include <omp.h>

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"
#include "chapters/10_fast_cpu/team_rows.h"
#include "common/aligned_vector.h"

namespace gpt {
namespace {

// lesson: blocking
// Measured on this chapter's CPU (Zen 4: 32 KB L1 and 1 MB L2 per core; sizes
// below for AVX-512's NR = 32 — with AVX2 a B panel is half as wide):
constexpr int kKC = 256;   // depth of a packed panel: a (256 × NR) B panel is 32 KB, L1-sized
constexpr int kMC = 128 / kMR * kMR;  // rows of A packed at a time, whole tiles: ~128 KB, in L2
constexpr int kNC = 1024;  // columns of B packed at a time: 256 × 1024 floats = 1 MB, L2/L3
// end lesson

// lesson: transpose
// out[k · ld + r] = in[r][p + k] for r, k < 8: eight rows of eight floats
// stored as eight columns, each column 8 floats wide at a stride of ld.
// With AVX2, 24 shuffles in registers instead of 64 scalar loads and stores.
// ld may be less than 8 (AVX2's A panels have MR = 6 rows per step): each
// store then also writes past its step, into the next step's slots, which
// the next store overwrites; the buffers end with kPackSlack floats for the
// last one.
inline void transpose_8x8(float* out, int ld, const float* const in[8], int p) {
#if defined(__AVX2__)
  __m256 r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(in[k] + p);
  __m256 t[8], s[8];
  for (int k = 0; k < 8; k += 2) {  // pairs of rows interleaved: a0 b0 a1 b1 | a4 b4 a5 b5, ...
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {  // quads: a0 b0 c0 d0 | a4 b4 c4 d4, ...
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {  // halves joined: column k, then column k + 4
    _mm256_storeu_ps(out + k * ld, _mm256_permute2f128_ps(s[k], s[k + 4], 0x20));
  }
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

// lesson: packing
// Rows [i0, i0 + mc) and columns [p0, p0 + kc) of A, as mc/MR panels in which
// each step p holds the MR values the kernel broadcasts, rows past M as zeros.
// A transposed A (A's column i is memory row i: the weight gradient's dYᵀ)
// already lies in that order, MR neighbours per step; a row-major A (the
// activations) is turned by 8 × 8 transposes in registers. With row_sums
// (rows [i0, i0 + mc) of FusedWork::a_row_sums), each row's values are also
// added to its sum, in order, as they pass.
void pack_A(float* Ap, const MatrixView& A, int M, int i0, int mc, int p0, int kc,
            float* row_sums) {
  for (int ir = 0; ir < mc; ir += kMR, Ap += size_t(kc) * kMR) {
    const int rows = std::min(kMR, M - (i0 + ir));  // real rows; the rest of the panel is zeros
    if (A.transposed) {
      const float* column = A.data + int64_t(p0) * A.stride + i0 + ir;  // A[i0 + ir, p0]
      float sums[kMR] = {};
      if (row_sums) std::copy_n(row_sums + ir, rows, sums);
      for (int p = 0; p < kc; ++p, column += A.stride) {
        if (rows == kMR) {
          std::memcpy(Ap + p * kMR, column, sizeof(float) * kMR);
          if (row_sums) {
            for (int r = 0; r < kMR; ++r) sums[r] += column[r];
          }
        } else {
          for (int r = 0; r < kMR; ++r) Ap[p * kMR + r] = r < rows ? column[r] : 0.0f;
          if (row_sums) {
            for (int r = 0; r < rows; ++r) sums[r] += column[r];
          }
        }
      }
      if (row_sums) std::copy_n(sums, rows, row_sums + ir);
      continue;
    }
    if (row_sums) {  // a row-major A: each row's values are contiguous
      for (int r = 0; r < rows; ++r) {
        const float* row = A.data + int64_t(i0 + ir + r) * A.stride + p0;
        for (int q = 0; q < kc; ++q) row_sums[ir + r] += row[q];
      }
    }
    int p = 0;
    if (rows == kMR) {  // a whole panel: 8 steps at a time
      const float* row[8];
      for (int r = 0; r < 8; ++r) row[r] = A.data + int64_t(i0 + ir + r % kMR) * A.stride + p0;
      for (; p + 8 <= kc; p += 8) transpose_8x8(Ap + p * kMR, kMR, row, p);
    }
    for (int r = 0; r < kMR; ++r) {  // the last steps, and edge panels
      if (r >= rows) {
        for (int q = p; q < kc; ++q) Ap[q * kMR + r] = 0.0f;
        continue;
      }
      const float* row = A.data + int64_t(i0 + ir + r) * A.stride + p0;  // A[i0 + ir + r, p0]
      for (int q = p; q < kc; ++q) Ap[q * kMR + r] = row[q];
    }
  }
}

// Rows [p0, p0 + kc) and columns [j0 + jr, j0 + jr + NR) of B, as a panel in
// which each step p holds one NR-float row, columns past N as zeros. A
// row-major B is copied row by row; a transposed B (B's column j is memory
// row j: the weight W in x · Wᵀ) is turned by 8 × 8 transposes.
void pack_B(float* Bp, const MatrixView& B, int N, int p0, int kc, int j0, int jr) {
  const int cols = std::min(kNR, N - (j0 + jr));  // real columns; the rest are zeros
  if (!B.transposed) {
    for (int p = 0; p < kc; ++p) {
      const float* row = B.data + int64_t(p0 + p) * B.stride + j0 + jr;  // B[p0 + p, j0 + jr]
      if (cols == kNR) {
        std::memcpy(Bp + p * kNR, row, sizeof(float) * kNR);
      } else {
        for (int c = 0; c < kNR; ++c) Bp[p * kNR + c] = c < cols ? row[c] : 0.0f;
      }
    }
    return;
  }
  int p = 0;
  if (cols == kNR) {
    for (; p + 8 <= kc; p += 8) {
      for (int c = 0; c < kNR; c += 8) {
        const float* column[8];
        for (int k = 0; k < 8; ++k) column[k] = B.data + int64_t(j0 + jr + c + k) * B.stride + p0;
        transpose_8x8(Bp + p * kNR + c, kNR, column, p);
      }
    }
  }
  for (int c = 0; c < kNR; ++c) {  // the last steps, and edge panels
    if (c >= cols) {
      for (int q = p; q < kc; ++q) Bp[q * kNR + c] = 0.0f;
      continue;
    }
    const float* column = B.data + int64_t(j0 + jr + c) * B.stride + p0;  // B[p0, j0 + jr + c]
    for (int q = p; q < kc; ++q) Bp[q * kNR + c] = column[q];
  }
}
// end lesson

int round_up(int x, int to) { return (x + to - 1) / to * to; }

// The packed buffers. Those of single-threaded calls are per thread (attention
// calls fast_matmul from many threads at once); a multi-threaded call shares
// one packed B. Each grows to its largest size once and is then reused: no
// allocation in a training step after the first.
AlignedVector<float>& local_buffer(int which) {
  static thread_local AlignedVector<float> buffers[2];
  return buffers[which];
}
AlignedVector<float>& shared_B(int which) {
  static AlignedVector<float> buffers[2];
  return buffers[which];
}
constexpr int kPackSlack = 8;  // floats after a buffer that transpose_8x8 may write
float* ensure(AlignedVector<float>& buffer, size_t floats) {
  if (buffer.size() < floats + kPackSlack) buffer.resize(floats + kPackSlack);
  return buffer.data();
}

// lesson: loops
// The five loops around the micro-kernel. Shared: called by every thread of an
// OpenMP team. The team splits the packing of each B block, then every
// thread multiplies its own rows of C (a balanced share of the MR-row tiles,
// so no thread idles at the next barrier) by it. B blocks alternate between
// two buffers: a thread that finished block b may pack block b + 1 while
// another still reads block b, so one barrier per block suffices. Otherwise
// (not Shared) one thread does it all with Bp[0].
template <bool Shared>
void blocked_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                    int K, bool accumulate, const FusedWork& fused, float* const Bp[2]) {
  float* Ap = ensure(local_buffer(0), size_t(kMC) * kKC);
  // This thread's rows of C: in a team, an equal share of the MR-row tiles;
  // otherwise all of them (even when called by one thread inside a parallel
  // region, as attention's per-head products are).
  const auto [rows_begin, rows_end] = Shared ? team_rows(M, kMR) : std::pair<int, int>{0, M};
  int block = 0;
  for (int j0 = 0; j0 < N; j0 += kNC) {
    const int nc = std::min(kNC, N - j0);
    for (int p0 = 0; p0 < K; p0 += kKC, ++block) {
      const int kc = std::min(kKC, K - p0);
      const bool add = accumulate || p0 > 0;  // the first k-block writes C, the rest add
      const float* block_bias = p0 == 0 && fused.bias ? fused.bias + j0 : nullptr;  // the first adds it
      float* Bb = Bp[Shared ? block % 2 : 0];
      auto pack = [&](int jr) { pack_B(Bb + size_t(jr) * kc, B, N, p0, kc, j0, jr); };
      if constexpr (Shared) {
#pragma omp for schedule(static)  // ends in the block's one barrier: all of B is packed
        for (int jr = 0; jr < nc; jr += kNR) pack(jr);
      } else {
        for (int jr = 0; jr < nc; jr += kNR) pack(jr);
      }
      for (int i0 = rows_begin; i0 < rows_end; i0 += kMC) {
        const int mc = std::min(kMC, rows_end - i0);
        float* sums = j0 == 0 && fused.a_row_sums ? fused.a_row_sums + i0 : nullptr;  // once per k
        pack_A(Ap, A, M, i0, mc, p0, kc, sums);
        for (int jr = 0; jr < nc; jr += kNR) {
          for (int ir = 0; ir < mc; ir += kMR) {
            micro_kernel<kMR>(kc, Ap + size_t(ir) * kc, Bb + size_t(jr) * kc,
                              C + (i0 + ir) * ldc + j0 + jr, ldc, std::min(kMR, mc - ir),
                              std::min(kNR, nc - jr), add, block_bias ? block_bias + jr : nullptr);
          }
        }
      }
    }
  }
}
// end lesson

}  // namespace

void fast_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                 int K, bool accumulate, int threads, const FusedWork& fused) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // an empty sum
    for (int i = 0; i < M; ++i) {
      if (fused.bias) {
        std::copy_n(fused.bias, N, C + i * ldc);
      } else if (!accumulate) {
        std::fill_n(C + i * ldc, N, 0.0f);
      }
    }
    return;
  }
  const size_t b_floats = size_t(kKC) * round_up(std::min(N, kNC), kNR);
  if (threads <= 1 || omp_in_parallel()) {
    float* const Bp[2] = {ensure(local_buffer(1), b_floats), nullptr};
    blocked_matmul<false>(C, ldc, A, B, M, N, K, accumulate, fused, Bp);
    return;
  }
  float* const Bp[2] = {ensure(shared_B(0), b_floats), ensure(shared_B(1), b_floats)};
#pragma omp parallel num_threads(threads)
  blocked_matmul<true>(C, ldc, A, B, M, N, K, accumulate, fused, Bp);
}

}  // namespace gpt
