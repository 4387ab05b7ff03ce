// chapters/17_mixed_precision/classifier_loss_bench.cc — chapter 17: the fused bf16 classifier loss against the unfused fp32 path.
//
//   bazel run //chapters/17_mixed_precision:classifier_loss_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. At GPT-2
// small's training shape, N = B·T = 8·1024 = 8192 rows of V = 50,257 logits,
// each row padded to 50,304 (the lm_head's output), bf16:
//   classifier_loss/gpt2/fused     classifier_loss_bf16: one kernel, each bf16
//                                  row read twice, its gradient written over it
//   classifier_loss/gpt2/unfused   the logits widened to an fp32 copy, chapter
//                                  11's cross-entropy forward (probs, losses;
//                                  it returns the mean, so it waits) and
//                                  backward (into zeroed fp32 dlogits), the
//                                  gradient narrowed back to bf16
// Both overwrite the logits with the gradient, as in training; the next
// iteration works on that, which costs the same (nothing depends on the
// values). Time: CUDA events around each call (chapter 11's
// time_with_events). Counters:
//   GB/s       the bytes the variant moves, counted as its kernels are
//              written (each read from memory, none from a cache), per second;
//   B/logit    that count per logit: fused 2 + 2 read, 2 written = 6;
//              unfused 2 + 4 (widen), 3·4 + 4 (forward: max, sum and write
//              passes over the fp32 row, probs written), 4 (zeroing dlogits),
//              4 + 4 + 4 (backward: probs read, dlogits read and written),
//              4 + 2 (narrow) = 44;
//   x_fused    the variant's time over the fused kernel's, measured just before.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/classifier_loss.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

constexpr int kN = 8 * 1024, kV = 50257, kVPadded = 50304;

// Logits uniform in [-4, 4), like a trained model's spread; padding 0, as
// the lm_head writes it from zero weight rows.
std::vector<Bf16> logits_host() {
  std::vector<Bf16> v(size_t(kN) * kVPadded);
  for (size_t i = 0; i < v.size(); ++i) {
    const bool padding = i % kVPadded >= size_t(kV);
    v[i] = to_bf16(padding ? 0.0f : hashed_uniform(i, 1, -4.0f, 4.0f));
  }
  return v;
}

std::vector<int32_t> targets_host() {
  std::vector<int32_t> t(kN);
  for (int n = 0; n < kN; ++n) t[n] = static_cast<int32_t>(hashed_bits(n, 2) % kV);
  return t;
}

double fused_seconds = 0.0;  // per call, from the fused run

template <typename Op>
void time_gpu(benchmark::State& state, double bytes_per_logit, bool fused, Op op) {
  const double total = cuda::time_with_events(state, op);  // chapter 11 (warms up too)
  const double per_call = total / state.iterations();
  const double logits = double(kN) * kV;
  state.counters["GB/s"] = bytes_per_logit * logits / per_call / 1e9;
  state.counters["B/logit"] = bytes_per_logit;
  if (fused) fused_seconds = per_call;
  if (fused_seconds > 0.0) state.counters["x_fused"] = per_call / fused_seconds;
}

void fused_bench(benchmark::State& state) {
  DeviceBuffer<Bf16> logits(logits_host());
  DeviceBuffer<int32_t> targets(targets_host());
  DeviceBuffer<float> losses(kN);
  // 2 bytes read in pass 1, 2 read and 2 written in pass 2 (V_padded/V ≈ 1.001).
  const double bytes = 2.0 + 4.0 * kVPadded / kV;
  time_gpu(state, bytes, true, [&] {
    cuda::classifier_loss_bf16(losses.data(), logits.data(), targets.data(), kN, kV, kVPadded,
                               1.0f / kN);
  });
}

void unfused_bench(benchmark::State& state) {
  DeviceBuffer<Bf16> logits(logits_host());
  DeviceBuffer<int32_t> targets(targets_host());
  DeviceBuffer<float> losses(kN);
  DeviceBuffer<float> scratch(3 * size_t(kN) * kV);  // fp32 logits, probs, dlogits: 4.9 GB
  const double bytes = (2 + 4) + (3 * 4 + 4) + 4 + (4 + 4 + 4) + (4 + 2.0 * kVPadded / kV);
  time_gpu(state, bytes, false, [&] {
    cuda::classifier_loss_internal::classifier_loss_unfused(
        losses.data(), logits.data(), targets.data(), kN, kV, kVPadded, 1.0f / kN, scratch.data());
  });
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  benchmark::RegisterBenchmark("classifier_loss/gpt2/fused", gpt::fused_bench)
      ->UseManualTime()
      ->MinTime(0.2)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("classifier_loss/gpt2/unfused", gpt::unfused_bench)
      ->UseManualTime()
      ->MinTime(0.2)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
