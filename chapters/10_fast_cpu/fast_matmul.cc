// chapters/10_fast_cpu/fast_matmul.cc — packing, cache blocking and threads around the micro-kernel.
#include "chapters/10_fast_cpu/fast_matmul.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <thread>
#include <vector>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"
#include "chapters/10_fast_cpu/shared_units.h"
#include "chapters/10_fast_cpu/team_rows.h"
#include "chapters/10_fast_cpu/transpose_8x8.h"
#include "common/aligned_vector.h"

namespace gpt {
namespace {

// lesson: blocking
// Measured on this chapter's CPU (Zen 4: 32 KB L1 and 1 MB L2 per core; sizes
// below for AVX-512's NR = 32 — with AVX2 a B panel is half as wide):
constexpr int kKC = 256;   // depth of a packed panel: a (256 × NR) B panel is 32 KB, L1-sized
constexpr int kMC = 128 / kMR * kMR;  // rows of A packed at a time, whole tiles: ~128 KB, in L2
constexpr int kNC = 1024;  // columns of B packed at a time: 256 × 1024 floats = 1 MB, L2/L3
constexpr int kUnitRows = 4 * kMR;  // rows of C a team shares out as one unit (shared_units.h)
// end lesson
static_assert(kUnitRows <= kMC, "a run of units is at least one unit, and A's buffer holds kMC rows");

// sums[i] += values[i], 8 at a time (GCC's -O2 would add them one by one).
inline void add_rows(float* sums, const float* values, int n) {
  typedef float Eight __attribute__((vector_size(32)));
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    Eight s, v;
    std::memcpy(&s, sums + i, sizeof s);
    std::memcpy(&v, values + i, sizeof v);
    s += v;
    std::memcpy(sums + i, &s, sizeof s);
  }
  for (; i < n; ++i) sums[i] += values[i];
}

// lesson: packing
// Packing reads an operand that has often left the cache (a weight last
// touched a step ago, activations written many ops back) in short pieces:
// a panel's MR (or NR) rows, a cache line of each at a time, then the next
// panel's. Too short a stream for the hardware prefetchers to see coming, so
// the loops for a row-major A and for both layouts of B ask for the memory
// they read next (the next panel's rows, or the rows kRowsAhead further on)
// while they turn or copy what they have. A prefetch never faults and never
// changes a value.
constexpr int kRowsAhead = 8;  // a row-major B: its rows asked for this far ahead

// Rows [i0, i0 + mc) and columns [p0, p0 + kc) of A, as mc/MR panels in which
// each step p holds the MR values the kernel broadcasts, rows past M as zeros.
// A transposed A (A's column i is memory row i: the weight gradient's dYᵀ)
// already lies in that order, MR neighbours per step: it is read eight memory
// rows (mc values each, contiguous) at a time and dealt out to the panels,
// eight steps to each, so that a panel is written whole cache lines at a
// time. A row-major A (the activations) is turned by 8 × 8 transposes in
// registers. With row_sums (rows [i0, i0 + mc) of FusedWork::a_row_sums),
// each row's values are also added to its sum, in order, as they pass.
void pack_A(float* Ap, const MatrixView& A, int M, int i0, int mc, int p0, int kc,
            float* row_sums) {
  if (A.transposed) {  // each step's mc values are contiguous in memory
    const int real = std::min(mc, M - i0);  // rows of A; the panels' last rows may be past M
    // Steps [p, p + steps) dealt out panel by panel: a panel gets steps · MR
    // floats in a row. (One step at a time wrote MR floats, part of a cache
    // line, to each of mc/MR panels kc · MR floats apart, which compete for
    // the same few sets of the L1 cache.)
    const auto deal_steps = [&](int p, int steps) __attribute__((always_inline)) {
      const float* column[8];  // A[i0, p0 + p + q]: step q's values, contiguous
      for (int q = 0; q < steps; ++q) column[q] = A.data + int64_t(p0 + p + q) * A.stride + i0;
      float* panel = Ap + p * kMR;  // step p of the first panel
      int ir = 0;
      for (; ir + kMR <= real; ir += kMR, panel += size_t(kc) * kMR) {
#pragma GCC unroll 8
        for (int q = 0; q < steps; ++q) {
          std::memcpy(panel + q * kMR, column[q] + ir, sizeof(float) * kMR);
        }
      }
      for (; ir < mc; ir += kMR, panel += size_t(kc) * kMR) {  // an edge panel, zero-padded
        for (int q = 0; q < steps; ++q) {
          for (int r = 0; r < kMR; ++r) panel[q * kMR + r] = ir + r < real ? column[q][ir + r] : 0.0f;
        }
      }
      if (row_sums) {  // k in order for each row
        for (int q = 0; q < steps; ++q) add_rows(row_sums, column[q], real);
      }
    };
    int p = 0;
    for (; p + 8 <= kc; p += 8) deal_steps(p, 8);  // a constant 8: the copies unroll
    if (p < kc) deal_steps(p, kc - p);
    return;
  }
  for (int ir = 0; ir < mc; ir += kMR, Ap += size_t(kc) * kMR) {
    const int rows = std::min(kMR, M - (i0 + ir));  // real rows; the rest of the panel is zeros
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
      const bool next_whole = ir + 2 * kMR <= mc && i0 + ir + 2 * kMR <= M;  // the next panel
      for (; p + 8 <= kc; p += 8) {
        if (next_whole && p % 16 == 0) {  // a line of each of its rows, 16 steps at a time
          for (int r = 0; r < kMR; ++r) __builtin_prefetch(row[r] + kMR * A.stride + p);
        }
        transpose_8x8(Ap + p * kMR, kMR, row, p);
      }
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

// Rows [p0, p0 + kc) and columns [j0 + jr_begin, j0 + jr_end) of B, as
// panels of NR columns (the panel of column j0 + jr at Bp + jr · kc) in which
// each step p holds one NR-float row, columns past N as zeros. A row-major B
// is read one memory row at a time and dealt out to the panels; a transposed
// B (B's column j is memory row j: the weight W in x · Wᵀ) is turned by
// 8 × 8 transposes, panel by panel, each reading its NR memory rows 8 floats at a time.
void pack_B(float* Bp, const MatrixView& B, int N, int p0, int kc, int j0, int jr_begin,
            int jr_end) {
  if (!B.transposed) {
    for (int p = 0; p < kc; ++p) {
      const float* row = B.data + int64_t(p0 + p) * B.stride + j0;  // B[p0 + p, j0]
      const float* later = p + kRowsAhead < kc ? row + kRowsAhead * B.stride : nullptr;
      for (int jr = jr_begin; jr < jr_end; jr += kNR) {
        float* step = Bp + size_t(jr) * kc + p * kNR;
        const int cols = std::min(kNR, N - (j0 + jr));  // real columns; the rest are zeros
        if (later) {  // the same columns kRowsAhead rows on
          for (int c = 0; c < cols; c += 16) __builtin_prefetch(later + jr + c);
        }
        if (cols == kNR) {
          std::memcpy(step, row + jr, sizeof(float) * kNR);
        } else {
          for (int c = 0; c < kNR; ++c) step[c] = c < cols ? row[jr + c] : 0.0f;
        }
      }
    }
    return;
  }
  for (int jr = jr_begin; jr < jr_end; jr += kNR) {
    float* panel = Bp + size_t(jr) * kc;
    const int cols = std::min(kNR, N - (j0 + jr));
    int p = 0;
    if (cols == kNR) {
      const bool first = jr == jr_begin;  // nothing asked for it: ask two lines ahead
      const bool next_whole = jr + kNR < jr_end && j0 + jr + 2 * kNR <= N;  // the next panel
      for (; p + 8 <= kc; p += 8) {
        for (int c = 0; c < kNR; c += 8) {
          const float* column[8];
          for (int k = 0; k < 8; ++k) column[k] = B.data + int64_t(j0 + jr + c + k) * B.stride + p0;
          if (p % 16 == 0) {  // a line of each memory row, 16 steps at a time
            if (first && p + 32 < kc) {
              for (int k = 0; k < 8; ++k) __builtin_prefetch(column[k] + p + 32);
            }
            if (next_whole) {
              for (int k = 0; k < 8; ++k) __builtin_prefetch(column[k] + kNR * B.stride + p);
            }
          }
          transpose_8x8(panel + p * kNR + c, kNR, column, p);
        }
      }
    }
    for (int c = 0; c < kNR; ++c) {  // the last steps, and edge panels
      if (c >= cols) {
        for (int q = p; q < kc; ++q) panel[q * kNR + c] = 0.0f;
        continue;
      }
      const float* column = B.data + int64_t(j0 + jr + c) * B.stride + p0;  // B[p0, j0 + jr + c]
      for (int q = p; q < kc; ++q) panel[q * kNR + c] = column[q];
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
AlignedVector<float>& shared_B(int which) {
  static AlignedVector<float> buffers[2];
  return buffers[which];
}
constexpr int kPackSlack = 8;  // floats after a buffer that transpose_8x8 may write
float* ensure(AlignedVector<float>& buffer, size_t floats) {
  if (buffer.size() < floats + kPackSlack) buffer.resize(floats + kPackSlack);
  return buffer.data();
}

// How many blocks of B a product goes through: k-blocks within column blocks.
int blocks_of(int N, int K) { return (N + kNC - 1) / kNC * ((K + kKC - 1) / kKC); }
// Floats a packed block of B takes, at most: the deepest k-block's rows of
// the widest column block.
size_t block_floats(int N, int K) {
  return size_t(std::min(K, kKC)) * round_up(std::min(N, kNC), kNR);
}
// Where block `block` of a B packed ahead (pack_whole_B) lies: blocks in
// blocked_matmul's order, each in a slot of block_floats.
template <typename Float>
Float* packed_block(Float* packed, int N, int K, int block) {
  return packed + block * block_floats(N, K);
}

// One block of B as the kernels read it: rows [p0, p0 + kc) and columns
// [j0, j0 + nc), packed at Bb.
struct BlockOfB {
  int p0, kc, j0, nc;
  const float* Bb;
};

// lesson: loops
// Rows [i0, i0 + mc) of C (+)= the same rows of A's k-block · a packed block
// of B: A's rows packed, then the micro-kernel on every tile.
void multiply_rows(const Product& p, const BlockOfB& b, int i0, int mc, float* Ap) {
  const bool add = p.accumulate || b.p0 > 0;  // the first k-block writes C, the rest add
  const float* bias = b.p0 == 0 && p.fused.bias ? p.fused.bias + b.j0 : nullptr;  // the first adds it
  float* sums = b.j0 == 0 && p.fused.a_row_sums ? p.fused.a_row_sums + i0 : nullptr;  // once per k
  pack_A(Ap, p.A, p.M, i0, mc, b.p0, b.kc, sums);
  for (int jr = 0; jr < b.nc; jr += kNR) {
    for (int ir = 0; ir < mc; ir += kMR) {
      micro_kernel<kMR>(b.kc, Ap + size_t(ir) * b.kc, b.Bb + size_t(jr) * b.kc,
                        p.C + (i0 + ir) * p.ldc + b.j0 + jr, p.ldc, std::min(kMR, mc - ir),
                        std::min(kNR, b.nc - jr), add, bias ? bias + jr : nullptr);
    }
  }
}

// The five loops around the micro-kernel. Shared: called by every thread of an
// OpenMP team. The team splits the packing of each B block, then the threads
// multiply C's rows by it, in units of kUnitRows rows: each its own share of
// the units first, then whatever is left of the others' (shared_units.h), so no
// thread idles at the next barrier while another still has rows to do. B
// blocks alternate between two buffers: a thread that finished block b may
// pack block b + 1 while another still reads block b, so one barrier per
// block suffices. Otherwise (not Shared) one thread does all the rows, kMC
// at a time, with Bp[0]. With B packed ahead (p.packed_B) nothing is packed:
// the threads start on the first block's rows at once, and a later block's
// barrier only keeps the adds of one k-block from overtaking the last's.
template <bool Shared>
void blocked_matmul(const Product& p, float* const Bp[2], SharedUnits* block_units) {
  float* Ap = ensure(local_buffer(0), size_t(kMC) * kKC);
  int block = 0;
  for (int j0 = 0; j0 < p.N; j0 += kNC) {
    const int nc = std::min(kNC, p.N - j0);
    for (int p0 = 0; p0 < p.K; p0 += kKC, ++block) {
      float* const into = Bp[Shared ? block % 2 : 0];  // where this block is packed, if it is
      const float* Bb = p.packed_B ? packed_block(p.packed_B, p.N, p.K, block) : into;
      const BlockOfB b{p0, std::min(kKC, p.K - p0), j0, nc, Bb};
      if constexpr (Shared) {  // the team splits B's panels, then waits until all are packed
        if (!p.packed_B) {
          const auto [jr_begin, jr_end] = team_rows(nc, kNR);
          pack_B(into, p.B, p.N, p0, b.kc, j0, jr_begin, jr_end);
        }
        if (!p.packed_B || block > 0) {
#pragma omp barrier  // the block's one barrier (none before a packed B's first)
        }
        int first, count;  // units [first, first + count) of kUnitRows rows each
        while ((count = block_units[block].next(kMC / kUnitRows, &first)) > 0) {
          const int i0 = first * kUnitRows;
          multiply_rows(p, b, i0, std::min(count * kUnitRows, p.M - i0), Ap);
        }
      } else {
        if (!p.packed_B) pack_B(into, p.B, p.N, p0, b.kc, j0, 0, nc);
        for (int i0 = 0; i0 < p.M; i0 += kMC) multiply_rows(p, b, i0, std::min(kMC, p.M - i0), Ap);
      }
    }
  }
}
// end lesson

}  // namespace

size_t packed_B_floats(int N, int K) { return blocks_of(N, K) * block_floats(N, K) + kPackSlack; }

void pack_whole_B(float* packed, const MatrixView& B, int N, int K) {
  int block = 0;
  for (int j0 = 0; j0 < N; j0 += kNC) {
    for (int p0 = 0; p0 < K; p0 += kKC, ++block) {
      pack_B(packed_block(packed, N, K, block), B, N, p0, std::min(kKC, K - p0), j0, 0,
             std::min(kNC, N - j0));
    }
  }
}

void fast_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                 int K, bool accumulate, int threads, const FusedWork& fused,
                 const float* packed_B) {
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
  assert(reinterpret_cast<uintptr_t>(packed_B) % 64 == 0 && "packed_B: 64-byte aligned");
  const Product p{C, ldc, A, B, M, N, K, accumulate, fused, packed_B};
  const size_t b_floats = packed_B ? 0 : block_floats(N, K);  // B's buffers: none read if packed
  if (threads <= 1 || omp_in_parallel()) {
    float* const Bp[2] = {ensure(local_buffer(1), b_floats), nullptr};
    blocked_matmul<false>(p, Bp, nullptr);
    return;
  }
  float* const Bp[2] = {ensure(shared_B(0), b_floats), ensure(shared_B(1), b_floats)};
  // Each block's units of rows, shared out afresh (the calling thread's: a
  // pointer to them goes into the region).
  static thread_local std::vector<SharedUnits> units_of_blocks;
  const int blocks = blocks_of(N, K);
  if (int(units_of_blocks.size()) < blocks) units_of_blocks.resize(blocks);
  for (int b = 0; b < blocks; ++b) {
    units_of_blocks[b].reset((M + kUnitRows - 1) / kUnitRows, threads);
  }
  SharedUnits* const block_units = units_of_blocks.data();
#pragma omp parallel num_threads(threads)
  blocked_matmul<true>(p, Bp, block_units);
}

namespace {

// One turn of a thread's wait for the other: a pause (a hint to the core
// that this is a spin), and every 64th turn the core given up, in case the
// other thread is waiting for it (a machine shared with other programs).
inline void relax(int& turns) {
  if (++turns % 64 == 0) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// lesson: pair
// What the two threads of fast_matmul_pair share about one product: the last
// block of B its owner has packed and opened, that block's units of rows
// (the owner takes runs from the front, the other thread single units from
// the back), how many of its rows are done, and whether the product is.
struct OwnedProduct {
  const Product* product;
  float* Bb;                        // the owner's packed block of B
  SharedUnits* units;               // per block, one share: the owner's
  std::atomic<int> opened{-1};      // the block whose B is packed and whose units may be taken
  std::atomic<int> rows_done{0};    // of the opened block, by either thread
  std::atomic<bool> finished{false};
  int helped = 0;                   // units the other thread took (written by it alone)
  bool hands_over = false;          // tests: each block waits for one unit done by the other
};

// Where block `block` of a product lies (blocked_matmul's order: k-blocks
// within column blocks).
BlockOfB block_of(const Product& p, int block, float* Bb) {
  const int k_blocks = (p.K + kKC - 1) / kKC;
  const int j0 = block / k_blocks * kNC, p0 = block % k_blocks * kKC;
  return {p0, std::min(kKC, p.K - p0), j0, std::min(kNC, p.N - j0), Bb};
}

// The owner: each block packed, opened, its rows taken in runs; then it waits
// for the rows the other thread took (at most a unit), since the next block
// is packed into the same buffer and adds into the same rows of C.
void own(OwnedProduct& o, float* Ap) {
  const Product& p = *o.product;
  for (int block = 0; block < blocks_of(p.N, p.K); ++block) {
    const BlockOfB b = block_of(p, block, o.Bb);
    pack_B(o.Bb, p.B, p.N, b.p0, b.kc, b.j0, 0, b.nc);
    o.rows_done.store(0, std::memory_order_relaxed);
    o.opened.store(block, std::memory_order_release);  // B and the count, seen before any take
    for (int turns = 0; o.hands_over && o.rows_done.load(std::memory_order_acquire) == 0;) {
      relax(turns);
    }
    int first, count;
    while ((count = o.units[block].take_own(0, kMC / kUnitRows, &first)) > 0) {
      const int i0 = first * kUnitRows, mc = std::min(count * kUnitRows, p.M - i0);
      multiply_rows(p, b, i0, mc, Ap);
      // Relaxed is enough: the owner reads the count itself, and the other
      // thread's release adds still pair with the acquire below.
      o.rows_done.fetch_add(mc, std::memory_order_relaxed);
    }
    for (int turns = 0; o.rows_done.load(std::memory_order_acquire) < p.M;) relax(turns);
  }
  o.finished.store(true, std::memory_order_release);
}

// The other thread, its own product done: single units of the owner's open
// block, until the owner has finished.
void help(OwnedProduct& o, float* Ap) {
  const Product& p = *o.product;
  int turns = 0;
  while (!o.finished.load(std::memory_order_acquire)) {
    const int block = o.opened.load(std::memory_order_acquire);
    int first;
    if (block < 0 || o.units[block].take_other(0, &first) == 0) {
      relax(turns);
      continue;
    }
    const int i0 = first * kUnitRows, mc = std::min(kUnitRows, p.M - i0);
    multiply_rows(p, block_of(p, block, o.Bb), i0, mc, Ap);
    o.rows_done.fetch_add(mc, std::memory_order_release);  // after its rows of C are written
    ++o.helped;
  }
}
// end lesson

}  // namespace

std::array<int, 2> fast_matmul_pair(const Product (&products)[2], PairSchedule schedule) {
  for (const Product& p : products) {  // an empty product: fast_matmul's own cases
    if (p.M <= 0 || p.N <= 0 || p.K <= 0) {
      for (const Product& q : products) fast_matmul(q, 1);
      return {0, 0};
    }
  }
  // The calling thread's units and packed blocks of B (pointers to them go
  // into the region, where both threads use them), made ready before it.
  static thread_local std::vector<SharedUnits> units[2];
  static thread_local AlignedVector<float> packed_B[2];
  OwnedProduct owned[2];
  for (int t = 0; t < 2; ++t) {
    const Product& p = products[t];
    const int blocks = blocks_of(p.N, p.K);
    if (int(units[t].size()) < blocks) units[t].resize(blocks);
    for (int b = 0; b < blocks; ++b) units[t][b].reset((p.M + kUnitRows - 1) / kUnitRows, 1);
    owned[t].product = &p;
    owned[t].Bb = ensure(packed_B[t], size_t(kKC) * round_up(std::min(p.N, kNC), kNR));
    owned[t].units = units[t].data();
  }
  owned[1].hands_over = schedule == PairSchedule::kHandOverEachBlock;
#pragma omp parallel num_threads(2)
  {
    float* Ap = ensure(local_buffer(0), size_t(kMC) * kKC);
    const int t = omp_get_thread_num();
    if (omp_get_num_threads() == 1) {  // a team of one: both, in turn
      owned[1].hands_over = false;     // (no one to hand a unit to)
      own(owned[0], Ap);
      own(owned[1], Ap);
    } else {
      own(owned[t], Ap);
      help(owned[1 - t], Ap);
    }
  }
  return {owned[0].helped, owned[1].helped};
}

}  // namespace gpt
