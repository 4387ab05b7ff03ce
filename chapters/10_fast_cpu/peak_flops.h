// chapters/10_fast_cpu/peak_flops.h — chapter 10: how many FLOP/s can this CPU do at all?
//
// "Our training step runs at 60 GFLOP/s" means little until it is compared
// with what the machine can do. The probe measures that ceiling: each thread
// runs 12 independent chains of fused multiply-adds (a·x + b, 2 FLOPs per
// lane) on whole vector registers, from registers only — no memory traffic,
// enough independent chains to hide the FMA latency on every pipe. No real
// program gets there; the probe says how far from it we are.
#pragma once

namespace gpt {

struct PeakFlops {
  int threads;
  double gflops;          // measured, all threads together
  int vector_floats;      // floats per FMA instruction: 16 with AVX-512, 8 with AVX2
};

// Runs the probe on `threads` OpenMP threads for about `seconds` seconds and
// returns the best of a few repetitions.
PeakFlops measure_peak_flops(int threads, double seconds = 0.5);

// The clock the kernel reports (MHz in /proc/cpuinfo), or 0 if unknown. In a
// virtual machine this is often the base clock, not the boost clock the
// cores run at.
double reported_cpu_mhz();

}  // namespace gpt
