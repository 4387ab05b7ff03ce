// chapters/10_fast_cpu/peak_flops_main.cc — chapter 10: print the machine's FMA ceiling.
//   bazel run //chapters/10_fast_cpu:peak_flops [-- --json]
// Prints the measured peak GFLOP/s for 1 thread and for every core, and what
// it says about the core: FLOPs per cycle of the clock the kernel reports, and
// the clock each FMA design would need to reach it. A core does 2 FLOPs per
// lane per FMA: with AVX2, two 256-bit FMA pipes make 32 FLOP/cycle; with
// AVX-512, Zen 4 runs each 512-bit FMA on its two 256-bit pipes (32 again),
// while Intel's server cores with two 512-bit FMA units make 64 (some Xeons
// have only one, and make 32). A VM's reported clock is often the base clock,
// below what the cores run at.
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
  if (json) {
    std::printf("{\"peak_gflops_1_thread\": %.1f, \"peak_gflops_all\": %.1f, \"threads_all\": %d, "
                "\"reported_mhz\": %.0f}\n", one.gflops, all.gflops, cores, mhz);
    return 0;
  }
  std::printf("FMA peak, %d-float vectors, 12 chains per thread\n", one.vector_floats);
  std::printf("  1 thread : %7.1f GFLOP/s\n", one.gflops);
  std::printf("  %d threads: %7.1f GFLOP/s\n", cores, all.gflops);
  if (mhz > 0) {
    std::printf("one thread did %.1f FLOP per cycle of the reported %.0f MHz clock; the clock\n"
                "each FMA design would need for it:\n", one.gflops * 1000 / mhz, mhz);
    std::printf("  32 FLOP/cycle (two 256-bit FMA pipes): %.2f GHz\n", one.gflops / 32);
    if (one.vector_floats == 16) {
      std::printf("  64 FLOP/cycle (two 512-bit FMA units): %.2f GHz\n", one.gflops / 64);
    }
  }
  return 0;
}
