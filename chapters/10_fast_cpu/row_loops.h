// chapters/10_fast_cpu/row_loops.h — the two ways this chapter spreads work over threads.
//
// Row-wise ops (LayerNorm, GELU, softmax) hand whole rows to threads: rows are
// independent, so any split gives the same answer, and a thread that is done
// early takes rows another has not reached (shared_units.h). Sums down the rows
// (LayerNorm's weight and bias gradients) hand whole COLUMNS to threads, each
// adding its columns over all rows in order: no thread shares a sum, so the
// result is the same for 1 thread or 2, bit for bit, and no locks are needed.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "chapters/10_fast_cpu/shared_units.h"

namespace gpt {

// body(n) for n in [0, N), on `threads` threads: N cut into units of
// contiguous rows, 16 units per thread (one row per unit when N < 16 ·
// threads), each thread doing its own share of them first and then what is
// left of the others' (shared_units.h).
template <typename Body>
void parallel_rows(int N, int threads, const Body& body) {
  if (threads <= 1 || omp_in_parallel()) {
    for (int n = 0; n < N; ++n) body(n);
    return;
  }
  const int units = std::min(N, 16 * threads);
  static thread_local SharedUnits shared;  // the calling thread's; a pointer goes into the region
  shared.reset(units, threads);
  SharedUnits* const rows = &shared;
#pragma omp parallel num_threads(threads)
  {
    int first, count;  // units [first, first + count)
    while ((count = rows->next(units, &first)) > 0) {
      const int end = int(int64_t(N) * (first + count) / units);
      for (int n = int(int64_t(N) * first / units); n < end; ++n) body(n);
    }
  }
}

// body(n0, n1) for groups of `group` consecutive rows [n0, n1) covering
// [0, N) (the last group may be shorter), spread over threads as
// parallel_rows spreads rows. A row's work is often a chain of waits (a
// sum, then what needs the sum): a body that takes its rows through each
// step together, all their sums and then all their outputs, lets the core
// overlap rows that would otherwise each wait on their own chain.
template <typename Body>
void parallel_row_groups(int N, int group, int threads, const Body& body) {
  const int groups = (N + group - 1) / group;
  parallel_rows(groups, threads, [&](int g) { body(g * group, std::min(N, (g + 1) * group)); });
}

// body(j0, j1) for column ranges covering [0, C), one range per thread, each
// a multiple of 16 columns (a cache line) so threads never share one.
template <typename Body>
void parallel_columns(int C, int threads, const Body& body) {
  const int parts = std::max(1, std::min(threads, (C + 15) / 16));
  if (parts == 1 || omp_in_parallel()) {
    body(0, C);
    return;
  }
  const int width = ((C + parts - 1) / parts + 15) / 16 * 16;
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int p = 0; p < parts; ++p) {
    const int j0 = std::min(C, p * width), j1 = std::min(C, j0 + width);
    if (j0 < j1) body(j0, j1);
  }
}

}  // namespace gpt
