// chapters/13_cuda_attention/cuda_attention_bench.cc — chapter 13: naive against fused attention, time and memory.
//
//   bazel run //chapters/13_cuda_attention:cuda_attention_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. Benchmarks are named
// attention_{forward,backward}/{naive,fused}/MODEL/T:
//   seed  N = B·H = 32·8 = 256 sequences, hs = 32 (the course's model)
//   gpt2  N = 8·12 = 96 sequences, hs = 64 (GPT-2 small)
// for T = 64, 128, 256, 512, 1024. The backward is timed alone (the forward's
// saved outputs are computed once before). Time: CUDA events (GPU time).
// Counters:
//   score_MiB  the memory each version needs for its scores, in MiB: naive
//              forward N·T² floats (the weights), naive backward two more
//              N·T² scratch matrices; fused forward N·T (the logsumexp),
//              fused backward N·T more (D).
//   GFLOP/s    4·N·T²·hs/2 forward (two products, half of them masked),
//              twice that backward; the same count for both versions.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/13_cuda_attention/attention.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

struct Model {
  const char* name;
  int N, hs;
};
const Model kModels[] = {{"seed", 256, 32}, {"gpt2", 96, 64}};
const int kLengths[] = {64, 128, 256, 512, 1024};

void attention_bench(benchmark::State& state, const Model& m, int T, bool fused, bool backward) {
  const int N = m.N, hs = m.hs;
  const size_t n = size_t(N) * T * hs;
  DeviceBuffer<float> q(hashed_floats(n, 1)), k(hashed_floats(n, 2)), v(hashed_floats(n, 3)),
      dout(hashed_floats(n, 4));
  DeviceBuffer<float> out(n), dq(n), dk(n), dv(n);
  dq.zero(), dk.zero(), dv.zero();
  DeviceBuffer<float> weights(fused ? 0 : size_t(N) * T * T), lse(fused ? size_t(N) * T : 0);
  auto forward = [&] {
    if (fused) {
      cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), N, T, hs);
    } else {
      cuda::attention_forward(out.data(), weights.data(), q.data(), k.data(), v.data(), N, T, hs);
    }
  };
  if (backward) forward();
  const double seconds = cuda::time_with_events(state, [&] {
    if (!backward) {
      forward();
    } else if (fused) {
      cuda::flash_attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                     k.data(), v.data(), out.data(), lse.data(), N, T, hs);
    } else {
      cuda::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(),
                               v.data(), weights.data(), N, T, hs);
    }
  });
  const double per_matrix = fused ? double(N) * T : double(N) * T * T;  // floats
  const double matrices = backward ? (fused ? 2 : 3) : 1;  // + D, or + dweights and dscores
  state.counters["score_MiB"] = per_matrix * matrices * sizeof(float) / (1 << 20);
  const double flops = 2.0 * N * double(T) * T * hs * (backward ? 2 : 1);
  state.counters["GFLOP/s"] = flops * state.iterations() / seconds / 1e9;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  for (const bool backward : {false, true}) {
    for (const gpt::Model& model : gpt::kModels) {
      for (const int T : gpt::kLengths) {
        for (const bool fused : {false, true}) {
          const std::string name = std::string(backward ? "attention_backward/" : "attention_forward/") +
                                   (fused ? "fused/" : "naive/") + model.name + "/" +
                                   std::to_string(T);
          benchmark::RegisterBenchmark(name.c_str(),
                                       [model, T, fused, backward](benchmark::State& state) {
                                         gpt::attention_bench(state, model, T, fused, backward);
                                       })
              ->UseManualTime()
              ->MinTime(0.2)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
