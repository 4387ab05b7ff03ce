// chapters/10_fast_cpu/row_blocks.h — a row of floats one register at a time, its last block included.
//
// Two softmaxes run along short rows: attention's over a row of causal
// scores (1 to T of them, head_scratch.h) and the cross-entropy's over a
// row of V logits (fast_cross_entropy.cc). Eigen's exp over exactly a row's
// n floats does whole vectors, then finishes one float at a time, each a
// call to the C library's expf. Here a row goes a register at a time, its
// last block too: the lanes past the row's end are first given one of the
// row's own values, so that they neither raise its maximum nor overflow the
// exp, and their exps are then multiplied by 0 (kKeep). The order of every
// sum is fixed by the blocks, not by where the row lies in memory.
#pragma once

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>

#include <Eigen/Core>

#include "chapters/10_fast_cpu/fast_matmul_kernel.h"  // kNR: which registers this build has

namespace gpt {

// One register of floats: 16 with AVX-512, 8 with AVX2 (a wider block would
// only add lanes past a row's end to compute and throw away).
inline constexpr int kRowLanes = kNR == 32 ? 16 : 8;
using RowBlock = Eigen::Array<float, kRowLanes, 1>;         // one register of a row
using RowBlockAt = Eigen::Map<RowBlock>;                    // anywhere: unaligned loads, stores
using ConstRowBlockAt = Eigen::Map<const RowBlock>;

// The largest of a block's floats, halving: the maxima of pairs of halves,
// then of quarters, then of the last four. (Eigen's maxCoeff of a fixed 16
// went through memory one float at a time.)
inline float largest_of(const RowBlock& x) {
  Eigen::Array<float, 4, 1> m4;
  if constexpr (kRowLanes == 16) {
    const Eigen::Array<float, 8, 1> m8 = x.head<8>().max(x.tail<8>());
    m4 = m8.head<4>().max(m8.tail<4>());
  } else {
    m4 = x.head<4>().max(x.tail<4>());
  }
  return std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
}

// Where the block of kRowLanes columns that holds column i begins: the last
// block of a row whose last column is i.
inline int last_block(int i) { return i / kRowLanes * kRowLanes; }

// 16 ones, then 16 zeros: the block at kKeep + 16 − n keeps a block's first
// n lanes (× 1) and clears the rest (× 0).
alignas(64) inline constexpr float kKeep[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

// lesson: last_block
// A row's last block: the n floats at `at` (1 <= n <= kRowLanes), then
// `filler` in the lanes past them. Built in registers, with nothing stored:
// stored into memory one float at a time and then loaded as a block, the
// load would wait for those stores to reach the cache. Nothing past the n
// floats is read, so the row may end where its memory does.
inline RowBlock partial_block(const float* at, int n, float filler) {
  RowBlock block;
#if defined(__AVX512F__)
  if constexpr (kRowLanes == 16) {  // one masked load: the row's lanes, the filler's
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(filler), __mmask16((1u << n) - 1), at);
    _mm512_storeu_ps(block.data(), v);
    return block;
  }
#endif
#if defined(__AVX2__)
  if constexpr (kRowLanes == 8) {  // a masked load (zeros past n), then a blend
    const __m256 keep = _mm256_cmp_ps(_mm256_loadu_ps(kKeep + 16 - n), _mm256_setzero_ps(),
                                      _CMP_GT_OQ);
    const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(filler),
                                      _mm256_maskload_ps(at, _mm256_castps_si256(keep)), keep);
    _mm256_storeu_ps(block.data(), v);
    return block;
  }
#endif
  for (int j = 0; j < kRowLanes; ++j) block[j] = j < n ? at[j] : filler;
  return block;
}
// end lesson

// The largest of a row's n floats (n >= 1), a block at a time: the first
// block, the whole blocks after it, then the last block with its lanes past
// n given row[0]. Both softmaxes take their maximum in this one order.
inline float row_largest(const float* row, int n) {
  const int last = last_block(n - 1);
  const RowBlock last_values = partial_block(row + last, n - last, row[0]);
  RowBlock top = last == 0 ? last_values : RowBlock(ConstRowBlockAt(row));
  for (int j = kRowLanes; j < last; j += kRowLanes) top = top.max(ConstRowBlockAt(row + j));
  if (last > 0) top = top.max(last_values);
  return largest_of(top);
}

}  // namespace gpt
