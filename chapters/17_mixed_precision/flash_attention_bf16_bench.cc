// chapters/17_mixed_precision/flash_attention_bf16_bench.cc — chapter 17: bf16 flash attention against chapter 13's fp32 one, forward and backward.
//
//   bazel run //chapters/17_mixed_precision:flash_attention_bf16_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. Benchmarks
// are named attention/SHAPE/PASS/KERNEL, PASS forward or backward, KERNEL
// fp32 (chapter 13's flash_attention_forward/backward) or bf16 (this
// chapter's). Shapes, q, k, v (N, T, hs):
//   seed   N = 32·8 = 256 sequences (batch 32, 8 heads), T = 64, hs = 32
//   gpt2   N = 8·12 = 96 sequences (batch 8, 12 heads), T = 1024, hs = 64 (GPT-2 small)
// Time: CUDA events around each call (GPU time only), fp32 in and out for
// both, so the bf16 kernels' time includes rounding q, k, v (and dout) to
// bf16 and the backward's D. TFLOP/s counts only the matrix products, each
// over the causal half of the (T, T) scores, per sequence:
//   forward   Q·Kᵀ and P·V:                        2 · 2·T²·hs / 2 = 2·T²·hs
//   backward  Q·Kᵀ (recomputed), dO·Vᵀ, Pᵀ·dO,
//             dSᵀ·Q, dS·K:                          5 · 2·T²·hs / 2 = 5·T²·hs
// (the backward's kernels recompute Q·Kᵀ and dO·Vᵀ a second time, for dq:
// that work is not counted). "xfp32" is the kernel's TFLOP/s over chapter
// 13's on the same shape and pass, measured just before.
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/17_mixed_precision/flash_attention_bf16.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

struct Shape {
  const char* name;
  int N, T, hs;
};
const Shape kShapes[] = {{"seed", 256, 64, 32}, {"gpt2", 96, 1024, 64}};

std::map<std::string, double> fp32_tflops;  // per shape and pass, filled by the fp32 runs

void attention_bench(benchmark::State& state, const Shape& s, bool backward, bool bf16) {
  const size_t count = size_t(s.N) * s.T * s.hs;
  DeviceBuffer<float> q(hashed_floats(count, 1)), k(hashed_floats(count, 2)),
      v(hashed_floats(count, 3)), dout(hashed_floats(count, 4));
  DeviceBuffer<float> out(count), lse(size_t(s.N) * s.T);
  const std::vector<float> zeros(count, 0.0f);
  DeviceBuffer<float> dq(zeros), dk(zeros), dv(zeros);  // added into, call after call
  // The backward reads the forward's out and lse: chapter 13's, for both.
  cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), s.N, s.T,
                                s.hs);
  const double per_sequence = double(s.T) * s.T * s.hs * (backward ? 5.0 : 2.0);
  const double total = cuda::time_with_events(state, [&] {  // chapter 11 (warms up too)
    if (!backward && bf16) {
      cuda::flash_attention_bf16_forward(out.data(), lse.data(), q.data(), k.data(), v.data(),
                                         s.N, s.T, s.hs);
    } else if (!backward) {
      cuda::flash_attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), s.N,
                                    s.T, s.hs);
    } else if (bf16) {
      cuda::flash_attention_bf16_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                          k.data(), v.data(), out.data(), lse.data(), s.N, s.T,
                                          s.hs);
    } else {
      cuda::flash_attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(),
                                     k.data(), v.data(), out.data(), lse.data(), s.N, s.T, s.hs);
    }
  });
  const double tflops = per_sequence * s.N * state.iterations() / total / 1e12;
  state.counters["TFLOP/s"] = tflops;
  const std::string key = std::string(s.name) + (backward ? "/backward" : "/forward");
  if (!bf16) fp32_tflops[key] = tflops;
  if (bf16 && fp32_tflops.count(key)) state.counters["xfp32"] = tflops / fp32_tflops[key];
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  for (const gpt::Shape& shape : gpt::kShapes) {
    for (const bool backward : {false, true}) {
      for (const bool bf16 : {false, true}) {  // fp32 first: the reference
        const std::string name = std::string("attention/") + shape.name +
                                 (backward ? "/backward/" : "/forward/") +
                                 (bf16 ? "bf16" : "fp32");
        benchmark::RegisterBenchmark(name.c_str(), [shape, backward, bf16](benchmark::State& st) {
          gpt::attention_bench(st, shape, backward, bf16);
        })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
