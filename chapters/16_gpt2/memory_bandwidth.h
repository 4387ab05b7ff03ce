// chapters/16_gpt2/memory_bandwidth.h — chapter 16: how fast can this machine READ memory?
//
// Generating one token with a KV cache reads every weight of the model once
// and does 2 FLOPs with each (chapter 10's matvec.h): at GPT-2's 124M
// parameters that is half a gigabyte per token, far more than any cache
// holds, so the speed of generation is the speed at which DRAM delivers
// bytes. Chapter 10's peak_flops is the wrong ceiling for it; this is the
// right one: each thread sums its own contiguous part of a buffer much larger
// than the last-level cache (1 GiB by default) with whole-vector loads into
// independent sums (so the adds never wait on each other: only the loads
// limit), and the best pass counts. Nothing is written, as a matrix-vector
// product writes almost nothing.
//
// How a thread walks its part matters. One sequential stream per core stops
// at what the core's prefetchers keep in flight; split into several streams
// read side by side (stream s at s/S of the part), the same bytes arrive
// faster, up to the memory's limit. The probe tries 1, 4, 8 and 16 streams
// per thread, alternating them pass by pass so that a change in the
// machine's load hits all alike, and reports the best as the bandwidth (and
// the single stream's best, for comparison).
//
// The buffer is an AlignedVector, as the model's parameters are: 2 MiB pages
// where Linux grants them (aligned_vector.h), so the probe and generation pay
// the same page-table walks.
#pragma once

#include <cstddef>

#include "common/aligned_vector.h"

namespace gpt {

struct MemoryBandwidth {
  int threads;
  double gb_per_s;        // the best pass: bytes read / seconds / 1e9, all threads together
  int streams;            // streams per thread in that pass
  double worst_gb_per_s;  // the slowest pass with that many streams: how noisy the machine was
  double one_stream_gb_per_s;  // the best pass with one stream per thread
  size_t bytes;           // the buffer, read once per pass
  int passes;             // per stream count
  int vector_floats;      // floats per load: 16 with AVX-512, 8 with AVX2
};

class ReadBandwidthProbe {
 public:
  // Allocates `bytes` (rounded down to a multiple of 64 KiB) and writes every
  // page of it, so that no pass pays a page fault.
  explicit ReadBandwidthProbe(size_t bytes = size_t(1) << 30);

  // Reads the whole buffer `passes` times with `threads` OpenMP threads, for
  // each number of streams per thread.
  MemoryBandwidth measure(int threads, int passes = 5) const;

  size_t bytes() const { return floats_.size() * sizeof(float); }

 private:
  AlignedVector<float> floats_;
};

// One probe, one thread count: allocates, measures, frees.
MemoryBandwidth measure_read_bandwidth(int threads, size_t bytes = size_t(1) << 30,
                                       int passes = 5);

}  // namespace gpt
