// chapters/10_fast_cpu/fast_matmul.h — a matrix multiplication that runs near the CPU's peak.
//
// Chapter 04's linear layer asks Eigen for C = A · B and gets ~65% of what
// the cores can do. Nine tenths of a GPT's arithmetic is matrix products, so
// this chapter writes its own, in the way every fast BLAS does it:
//
//   1. a micro-kernel: an (MR × NR) tile of C held in registers while it walks
//      down k, one vector load of B and MR broadcasts of A feeding MR × NR/16
//      fused multiply-adds per step (fast_matmul_kernel.h);
//   2. packing: the pieces of A and B the kernel reads are first copied into
//      contiguous "panels" in exactly the order the kernel reads them, so it
//      never strides through memory, and transposed operands cost nothing extra;
//   3. cache blocking: KC × NC of B stays in L2 while MC × KC blocks of A pass by;
//   4. threads: the two cores split the rows of C and share the packed B.
//
// Operands are described by views, so the GPT's products need no copies:
// x · Wᵀ (forward), dY · W (input gradient), dYᵀ · X (weight gradient), and the
// per-head attention products reading Q, K, V straight out of the fused qkv.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gpt {

// A (rows × cols) matrix inside a row-major buffer: element (i, j) is
// data[i · stride + j], or data[j · stride + i] when `transposed`.
struct MatrixView {
  const float* data;
  int64_t stride;
  bool transposed = false;
  float at(int64_t i, int64_t j) const {
    return transposed ? data[j * stride + i] : data[i * stride + j];
  }
};

// Work a product can do in the same pass over its operands, instead of a
// pass of its own over memory. Each gives the same bits as the separate pass.
struct FusedWork {
  const float* bias = nullptr;  // (N): C = bias + A · B, the bias added to every row
  float* a_row_sums = nullptr;  // (M): a_row_sums[i] += Σ_k A[i, k], k in order
};

// C (M, N) = A (M, K) · B (K, N), or C += A · B when `accumulate` (ignored
// with a fused bias). C is row-major with row stride ldc. `threads` > 1
// splits C's rows among that many OpenMP threads; call with 1 from inside a
// parallel region. With packed_B (B packed ahead by pack_whole_B), B's
// blocks are read from there instead of packed here: no packing, and on
// several threads no barrier before the first block. The same bits.
void fast_matmul(float* C, int64_t ldc, const MatrixView& A, const MatrixView& B, int M, int N,
                 int K, bool accumulate, int threads, const FusedWork& fused = {},
                 const float* packed_B = nullptr);

// All of B (K, N), every block, packed ahead into `packed` (packed_B_floats
// floats, 64-byte aligned: the kernel loads whole vectors from it) in the
// order and panels that fast_matmul packs each block in:
// for a B that many products share, such as a weight in the forward passes
// of an evaluation (packed_weights.h).
size_t packed_B_floats(int N, int K);
void pack_whole_B(float* packed, const MatrixView& B, int N, int K);

// One product, fast_matmul's arguments in a struct: C (M, N) (+)= A · B.
struct Product {
  float* C;
  int64_t ldc;
  MatrixView A, B;
  int M, N, K;
  bool accumulate;
  FusedWork fused;
  const float* packed_B = nullptr;  // B packed ahead (pack_whole_B), or null: packed here
};

inline void fast_matmul(const Product& p, int threads) {
  fast_matmul(p.C, p.ldc, p.A, p.B, p.M, p.N, p.K, p.accumulate, threads, p.fused, p.packed_B);
}

// Two products at once on a team of two threads, each the same bits as
// fast_matmul computes it on one thread (each packs its own B: packed_B is
// not read). Thread t owns products[t] (its
// operands are the ones already in its cache) and goes through it k-block by
// k-block; a thread done with its own takes units of rows of the other's
// current k-block, one at a time from the back, so that a late thread's
// work is shared instead of waited for. A team of one does both in turn.
// Returns how many units of rows of each product the other thread took.
//
// Whether a thread ever takes rows of the other's product is up to the
// machine's scheduler: on a busy machine the other thread may be waiting for
// a core until the owner has done every row. kHandOverEachBlock, for tests,
// makes it certain: the owner of products[1] waits, on each of its blocks,
// until the other thread has done one unit of it (a team of one ignores it).
// Then that other thread, the owner of products[0], takes a unit of every
// block of products[1] and none of products[0] is taken: its owner is done
// with it before the other gets past the first block.
enum class PairSchedule { kAsTheyCome, kHandOverEachBlock };
std::array<int, 2> fast_matmul_pair(const Product (&products)[2],
                                    PairSchedule schedule = PairSchedule::kAsTheyCome);

}  // namespace gpt
