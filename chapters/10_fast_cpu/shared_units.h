// chapters/10_fast_cpu/shared_units.h — each thread its share of the work, and the rest to whoever is free.
//
// Split an op's rows evenly among the threads and each gets equal work, and
// keeps the rows (the tokens) whose activations it wrote itself in its own
// cache. But equal work is not equal time. On a learner's machine the other
// core is interrupted, or shared with another program, or a slower kind of
// core (the E-cores of Intel's hybrid CPUs), and at the end of every op the
// thread that finished first waits for the other.
//
// So the work is cut into small units, and each thread owns a contiguous
// share of them, as with an even split. It takes its own units from the front of its
// share, in runs (half of what is left, up to a limit: few takes, and long
// runs for the matrix product's cache blocking); when its share is done, it
// takes units one at a time from the BACK of another thread's share, the ones
// that thread would have reached last. Where no thread is late, each does
// exactly its own share, in order. A take is one atomic compare-and-swap on
// the share's two ends, packed in one 64-bit word.
//
// Which thread computes a unit never changes a number in it: a unit is
// computed the same way by any thread, so the results are the same bits as
// with the fixed split, for any number of threads.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace gpt {

class SharedUnits {
 public:
  // Before the parallel region: units [0, units) in `threads` contiguous
  // shares (the team may turn out smaller: the others' shares get taken).
  void reset(int units, int threads) {
    if (threads > capacity_) {
      shares_.reset(new Share[threads]);
      capacity_ = threads;
    }
    threads_ = threads;
    for (int t = 0; t < threads; ++t) {
      const uint64_t front = uint64_t(int64_t(units) * t / threads);
      const uint64_t back = uint64_t(int64_t(units) * (t + 1) / threads);
      shares_[t].ends.store(front | back << 32, std::memory_order_relaxed);
    }
  }

  // Inside the region: the calling thread's next run of units, [*first,
  // *first + count); count is 0 when every unit has been taken. From its own
  // share a thread takes half of what is left, at most `most` units (the
  // first runs are long, the last ones short); from another's, one unit.
  int next(int most, int* first) {
    const int me = omp_get_thread_num() % threads_;
    int count = take(shares_[me], most, first, /*own=*/true);
    for (int k = 1; count == 0 && k < threads_; ++k) {
      count = take(shares_[(me + k) % threads_], 1, first, /*own=*/false);
    }
    return count;
  }

  // The same takes with the share named, for work that has one owner per
  // share whatever the thread numbers (fast_matmul_pair): the owner's run
  // from the front, or another thread's one unit from the back.
  int take_own(int share, int most, int* first) { return take(shares_[share], most, first, true); }
  int take_other(int share, int* first) { return take(shares_[share], 1, first, false); }

 private:
  struct alignas(64) Share {  // a cache line each: threads taking units do not collide
    std::atomic<uint64_t> ends{0};  // [front, back): front in the low 32 bits, back in the high
  };

  // lesson: take
  // Units from the front of a share (its owner) or from its back (another thread).
  static int take(Share& share, int most, int* first, bool own) {
    uint64_t ends = share.ends.load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t front = uint32_t(ends), back = uint32_t(ends >> 32);
      if (front >= back) return 0;
      const int count = own ? std::max(1, std::min<int>(most, (back - front) / 2)) : 1;
      const uint64_t taken = own ? ends + uint64_t(count) : ends - (uint64_t(count) << 32);
      if (share.ends.compare_exchange_weak(ends, taken, std::memory_order_relaxed)) {
        *first = int(own ? front : back - count);
        return count;
      }
    }
  }
  // end lesson

  std::unique_ptr<Share[]> shares_;
  int capacity_ = 0, threads_ = 1;
};

}  // namespace gpt
