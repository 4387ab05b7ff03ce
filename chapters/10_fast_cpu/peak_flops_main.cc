// chapters/10_fast_cpu/peak_flops_main.cc — chapter 10: print the machine's FMA ceiling.
//   bazel run //chapters/10_fast_cpu:peak_flops [-- --json]
// Prints the measured peak GFLOP/s for 1 thread and for every core, and what
// the clock the kernel reports would predict: cores × 2 FMA pipes × lanes × 2
// FLOPs × clock (AVX-512 on Zen 4 runs on two 256-bit pipes, so there it is
// 2 × 8 lanes per cycle, the same as AVX2: 32 FLOP/cycle/core).
#include <omp.h>

#include <cstdio>
#include <cstring>

#include "chapters/10_fast_cpu/peak_flops.h"

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  const int cores = omp_get_num_procs();
  const gpt::PeakFlops one = gpt::measure_peak_flops(1);
  const gpt::PeakFlops all = gpt::measure_peak_flops(cores);
  const double mhz = gpt::reported_cpu_mhz();
  constexpr double kFlopsPerCycle = 32.0;  // per core: 2 pipes × 8 fp32 lanes × 2 (FMA)
  if (json) {
    std::printf("{\"peak_gflops_1_thread\": %.1f, \"peak_gflops_all\": %.1f, \"threads_all\": %d, "
                "\"reported_mhz\": %.0f}\n", one.gflops, all.gflops, cores, mhz);
    return 0;
  }
  std::printf("FMA peak, %d-float vectors, 12 chains per thread\n", one.vector_floats);
  std::printf("  1 thread : %7.1f GFLOP/s\n", one.gflops);
  std::printf("  %d threads: %7.1f GFLOP/s\n", cores, all.gflops);
  if (mhz > 0) {
    std::printf("theoretical at the reported %.0f MHz: %d cores x 32 FLOP/cycle x %.2f GHz = "
                "%.1f GFLOP/s\n", mhz, cores, mhz / 1000, cores * kFlopsPerCycle * mhz / 1000);
    const double implied_ghz = one.gflops / kFlopsPerCycle;
    std::printf("  (the measured 1-thread peak implies %.2f GHz at 32 FLOP/cycle%s)\n", implied_ghz,
                implied_ghz > 1.05 * mhz / 1000 ? ": the cores boost above the reported clock" : "");
  }
  return 0;
}
