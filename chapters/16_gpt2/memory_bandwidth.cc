// chapters/16_gpt2/memory_bandwidth.cc — chapter 16: the read-bandwidth probe.
#include "chapters/16_gpt2/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include <immintrin.h>

namespace gpt {
namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec zero() { return _mm512_setzero_ps(); }
inline Vec load(const float* p) { return _mm512_load_ps(p); }
inline Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline float lanes_sum(Vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec zero() { return _mm256_setzero_ps(); }
inline Vec load(const float* p) { return _mm256_load_ps(p); }
inline Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline float lanes_sum(Vec v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}
#else
#error "the bandwidth probe needs AVX (AVX2 or AVX-512)"
#endif

constexpr size_t kUnitFloats = 16 * 4096 / 4;  // parts are whole 64 KiB units: 16 pages
constexpr int kStreamCounts[] = {1, 4, 8, 16};

// lesson: read_streams
// Sums floats [0, n) of p (64-byte aligned; n a multiple of kUnitFloats) as
// S streams read side by side: stream s is the s-th of S equal sub-parts, and
// each round loads 8 / S whole vectors (at least 1) from each stream, each
// into a sum of its own, so at least 8 sums run independently. The result is
// returned so that the compiler cannot drop the loads.
template <int S>
float sum_streams(const float* p, size_t n) {
  constexpr int kVectors = S >= 8 ? 1 : 8 / S;  // per stream per round
  const size_t sub = n / S;                      // floats per stream: whole pages
  Vec sum[S][kVectors];
#pragma GCC unroll 16
  for (int s = 0; s < S; ++s) {
#pragma GCC unroll 8
    for (int v = 0; v < kVectors; ++v) sum[s][v] = zero();
  }
  for (size_t i = 0; i < sub; i += kVectors * kLanes) {
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s) {
#pragma GCC unroll 8
      for (int v = 0; v < kVectors; ++v) {
        sum[s][v] = add(sum[s][v], load(p + size_t(s) * sub + i + size_t(v) * kLanes));
      }
    }
  }
  float total = 0.0f;
  for (int s = 0; s < S; ++s) {
    for (int v = 0; v < kVectors; ++v) total += lanes_sum(sum[s][v]);
  }
  return total;
}
// end lesson

float sum_part(const float* p, size_t n, int streams) {
  switch (streams) {
    case 1: return sum_streams<1>(p, n);
    case 4: return sum_streams<4>(p, n);
    case 8: return sum_streams<8>(p, n);
    case 16: return sum_streams<16>(p, n);
  }
  throw std::logic_error("sum_part: no kernel for " + std::to_string(streams) + " streams");
}

// Thread `id` of `threads`: its contiguous part of n floats, in whole units.
std::pair<size_t, size_t> part(size_t n, int id, int threads) {
  const size_t units = n / kUnitFloats;
  return {units * id / threads * kUnitFloats, units * (id + 1) / threads * kUnitFloats};
}

// Seconds for `threads` threads to read the n floats at p once, `streams` per thread.
double read_once(const float* p, size_t n, int threads, int streams) {
  volatile float sink = 0.0f;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
  {
    const auto [begin, end] = part(n, omp_get_thread_num(), omp_get_num_threads());
    const float s = sum_part(p + begin, end - begin, streams);
#pragma omp atomic
    sink += s;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(size_t bytes) {
  const size_t floats = bytes / sizeof(float) / kUnitFloats * kUnitFloats;
  if (floats == 0) throw std::invalid_argument("the bandwidth probe needs at least 64 KiB");
  floats_.resize(floats);  // zeroed: every page written once
  // Small values, not zeros: the sums stay ordinary floats.
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < floats; ++i) floats_[i] = float(i % 7) * 1e-3f;
}

MemoryBandwidth ReadBandwidthProbe::measure(int threads, int passes) const {
  if (threads < 1 || passes < 1) {
    throw std::invalid_argument("the bandwidth probe needs threads >= 1 and passes >= 1");
  }
  constexpr int kCounts = sizeof(kStreamCounts) / sizeof(kStreamCounts[0]);
  double best[kCounts] = {}, worst[kCounts] = {};
  for (int pass = 0; pass < passes; ++pass) {
    for (int k = 0; k < kCounts; ++k) {
      const double seconds = read_once(floats_.data(), floats_.size(), threads, kStreamCounts[k]);
      const double gb_per_s = double(bytes()) / seconds / 1e9;
      best[k] = std::max(best[k], gb_per_s);
      worst[k] = pass == 0 ? gb_per_s : std::min(worst[k], gb_per_s);
    }
  }
  const int k = int(std::max_element(best, best + kCounts) - best);
  return {threads, best[k], kStreamCounts[k], worst[k], best[0], bytes(), passes, kLanes};
}

MemoryBandwidth measure_read_bandwidth(int threads, size_t bytes, int passes) {
  return ReadBandwidthProbe(bytes).measure(threads, passes);
}

}  // namespace gpt
