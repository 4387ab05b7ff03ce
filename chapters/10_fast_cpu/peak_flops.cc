// chapters/10_fast_cpu/peak_flops.cc — chapter 10: the FMA probe.
#include "chapters/10_fast_cpu/peak_flops.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

#include <immintrin.h>

namespace gpt {
namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec splat(float v) { return _mm512_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float first_lane(Vec v) { return _mm512_cvtss_f32(v); }
#elif defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec splat(float v) { return _mm256_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float first_lane(Vec v) { return _mm256_cvtss_f32(v); }
#else
#error "the peak probe needs FMA instructions (AVX2 or AVX-512)"
#endif

constexpr int kChains = 12;  // independent FMA chains: latency (4) × pipes (2), with room

// lesson: fma_probe
// `iterations` rounds of kChains independent FMAs: 2 · kLanes · kChains FLOPs a
// round. x stays near 1 (a·x + b with a slightly below 1), so nothing
// overflows; the result is returned so the compiler cannot drop the work.
float fma_chains(long iterations, float seed) {
  const Vec a = splat(0.999999f), b = splat(1e-6f);
  Vec x[kChains];
#pragma GCC unroll 12
  for (int j = 0; j < kChains; ++j) x[j] = splat(seed + 0.001f * j);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) x[j] = fma(a, x[j], b);
  }
  float sum = 0.0f;
  for (int j = 0; j < kChains; ++j) sum += first_lane(x[j]);
  return sum;
}
// end lesson

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

PeakFlops measure_peak_flops(int threads, double seconds) {
  if (threads < 1) throw std::invalid_argument("measure_peak_flops needs threads >= 1");
  // Calibrate: rounds per second of one thread, then size each repetition.
  long iterations = 1 << 20;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    volatile float sink = fma_chains(iterations, 1.0f);
    (void)sink;
    if (seconds_since(start) > 0.02) {
      iterations = long(iterations * (seconds / 5) / seconds_since(start)) + 1;
      break;
    }
    iterations *= 4;
  }
  double best = 0.0;
  for (int repetition = 0; repetition < 5; ++repetition) {
    volatile float sink = 0.0f;
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float r = fma_chains(iterations, 1.0f + omp_get_thread_num());
#pragma omp atomic
      sink += r;
    }
    const double flops = 2.0 * kLanes * kChains * double(iterations) * threads;
    best = std::max(best, flops / seconds_since(start) / 1e9);
  }
  return {threads, best, kLanes};
}

double reported_cpu_mhz() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return std::stod(line.substr(colon + 1));
    }
  }
  return 0.0;
}

}  // namespace gpt
