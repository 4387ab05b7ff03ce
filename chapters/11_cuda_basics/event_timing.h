// chapters/11_cuda_basics/event_timing.h — chapter 11: timing kernels with CUDA events.
//
// A kernel launch returns before the GPU has done anything, so a CPU clock
// around it measures the launch, not the work. CUDA events are timestamps the
// GPU itself records when its queue reaches them: record one before and one
// after the kernels, wait for the second, and ask for the time between.
// Every GPU benchmark of the course (chapters 11–13) times its ops this way,
// with Google Benchmark's manual time (->UseManualTime()).
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdio>

#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"

namespace gpt::cuda {

// lesson: time_with_events
// Times op() once per benchmark iteration on the GPU; returns the total
// seconds of the timed calls (for throughput counters).
template <typename Op>
double time_with_events(benchmark::State& state, Op op) {
  op();  // warm-up: the first launch also loads the kernels onto the GPU
  CUDA_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  double total = 0.0;
  for (auto _ : state) {
    CUDA_CHECK(cudaEventRecord(start));
    op();
    CUDA_CHECK(cudaEventRecord(stop));
    CUDA_CHECK(cudaEventSynchronize(stop));  // wait until the GPU has passed `stop`
    float ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
    total += ms / 1e3;
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  return total;
}
// end lesson

// Prints which GPU the benchmarks run on and returns true, or prints why there
// is none ("No GPU, nothing to time: ...") and returns false: a benchmark
// binary then exits 0, since having no GPU is a fact, not a failure. The CPU
// emulator counts as none: its timings would mean nothing.
inline bool announce_gpu() {
  const GpuStatus gpu = gpu_status();
  if (!gpu.present || gpu.emulated) {
    std::printf("No GPU, nothing to time: %s\n",
                gpu.present ? "this build runs CUDA on the CPU emulator (--config=nvcc builds "
                              "for a GPU)"
                            : gpu.reason.c_str());
    return false;
  }
  std::printf("GPU: %s\n", gpu.describe().c_str());
  return true;
}

}  // namespace gpt::cuda
