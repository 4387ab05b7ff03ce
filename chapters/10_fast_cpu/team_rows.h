// chapters/10_fast_cpu/team_rows.h — which rows the calling thread of an OpenMP team owns.
//
// Generation's linear layers (matvec.cc: the output rows) and the matrix
// product's packing (fast_matmul.cc: the panels of B each thread packs) split
// rows among the threads of a team the same way: in blocks of `align` rows
// (a kernel's tile, a cache line), each thread an equal share of the blocks,
// contiguous, so that no thread waits long for the other at the next barrier.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace gpt {

// The rows [begin, end) of `rows` that the calling thread of the current
// OpenMP team owns: contiguous blocks of `align` rows, split evenly. Outside a
// parallel region (one thread): all of them.
inline std::pair<int, int> team_rows(int rows, int align = 16) {
  const int threads = omp_get_num_threads(), id = omp_get_thread_num();
  const int blocks = (rows + align - 1) / align;
  const int first = int(int64_t(blocks) * id / threads);
  const int last = int(int64_t(blocks) * (id + 1) / threads);
  return {std::min(rows, first * align), std::min(rows, last * align)};
}

}  // namespace gpt
