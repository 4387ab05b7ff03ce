// chapters/10_fast_cpu/fast_matmul.cc — packing, cache blocking and threads around the micro-kernel.
#include "chapters/10_fast_cpu/fast_matmul.h"

#include <omp.h>

#include <algorithm>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"
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

// lesson: packing
// Rows [i0, i0 + mc) and columns [p0, p0 + kc) of A, as mc/MR panels in which
// each step p holds the MR values the kernel broadcasts, rows past M as zeros.
void pack_A(float* Ap, const MatrixView& A, int M, int i0, int mc, int p0, int kc) {
  for (int ir = 0; ir < mc; ir += kMR) {
    for (int p = 0; p < kc; ++p) {
      for (int r = 0; r < kMR; ++r) {
        const int i = i0 + ir + r;
        *Ap++ = i < M ? A.at(i, p0 + p) : 0.0f;
      }
    }
  }
}

// Rows [p0, p0 + kc) and columns [j0, j0 + nc) of B, as panels of NR columns
// in which each step p holds one NR-float row, columns past N as zeros.
void pack_B(float* Bp, const MatrixView& B, int N, int p0, int kc, int j0, int jr) {
  for (int p = 0; p < kc; ++p) {
    for (int c = 0; c < kNR; ++c) {
      const int j = j0 + jr + c;
      Bp[p * kNR + c] = j < N ? B.at(p0 + p, j) : 0.0f;
    }
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
AlignedVector<float>& shared_B() {
  static AlignedVector<float> buffer;
  return buffer;
}
float* ensure(AlignedVector<float>& buffer, size_t floats) {
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// lesson: loops
// The five loops around the micro-kernel. Shared: called by every thread of an
// OpenMP team, which share Bp and split the packing of B and the blocks of A
// (`omp for`); otherwise one thread does it all.
template <bool Shared>
void blocked_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                    int K, bool accumulate, float* Bp) {
  float* Ap = ensure(local_buffer(0), size_t(kMC) * kKC);
  for (int j0 = 0; j0 < N; j0 += kNC) {
    const int nc = std::min(kNC, N - j0);
    for (int p0 = 0; p0 < K; p0 += kKC) {
      const int kc = std::min(kKC, K - p0);
      const bool add = accumulate || p0 > 0;  // the first k-block writes C, the rest add
      auto pack = [&](int jr) { pack_B(Bp + size_t(jr) * kc, B, N, p0, kc, j0, jr); };
      auto multiply = [&](int i0) {
        const int mc = std::min(kMC, M - i0);
        pack_A(Ap, A, M, i0, mc, p0, kc);
        for (int jr = 0; jr < nc; jr += kNR) {
          for (int ir = 0; ir < mc; ir += kMR) {
            micro_kernel<kMR>(kc, Ap + size_t(ir) * kc, Bp + size_t(jr) * kc,
                              C + (i0 + ir) * ldc + j0 + jr, ldc, std::min(kMR, mc - ir),
                              std::min(kNR, nc - jr), add);
          }
        }
      };
      if constexpr (Shared) {
#pragma omp for schedule(static)
        for (int jr = 0; jr < nc; jr += kNR) pack(jr);
#pragma omp for schedule(static)
        for (int i0 = 0; i0 < M; i0 += kMC) multiply(i0);
      } else {
        for (int jr = 0; jr < nc; jr += kNR) pack(jr);
        for (int i0 = 0; i0 < M; i0 += kMC) multiply(i0);
      }
    }
  }
}
// end lesson

}  // namespace

void fast_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                 int K, bool accumulate, int threads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // an empty sum
    if (!accumulate) {
      for (int i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
    }
    return;
  }
  const size_t b_floats = size_t(kKC) * round_up(std::min(N, kNC), kNR);
  if (threads <= 1 || omp_in_parallel()) {
    blocked_matmul<false>(C, ldc, A, B, M, N, K, accumulate, ensure(local_buffer(1), b_floats));
    return;
  }
  float* Bp = ensure(shared_B(), b_floats);
#pragma omp parallel num_threads(threads)
  blocked_matmul<true>(C, ldc, A, B, M, N, K, accumulate, Bp);
}

}  // namespace gpt
