// chapters/09_training/training_bench.cc — one training step at the seed configuration.
//   bazel run //chapters/09_training:training_bench
// Seed: B=32, T=64, C=256, L=6, H=8, F=1024, V=65. items_per_second of
// BM_TrainStep is training throughput in tokens/s (forward, backward, clip,
// AdamW); the other two time the optimizer's share alone.
#include <benchmark/benchmark.h>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/grad_clip.h"
#include "chapters/09_training/trainer.h"

namespace gpt {
namespace {

constexpr int B = 32, T = 64;

std::vector<int32_t> random_text(int n, int V) {
  Rng rng(7);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
  return t;
}

void BM_TrainStep(benchmark::State& state) {
  TrainingState training{GPTConfig{}};
  Rng rng(1);
  init_gpt2(training.model, rng);
  Trainer trainer(training.model.config, B, T);
  const std::vector<int32_t> text = random_text(100000, 65);
  for (auto _ : state) {
    const Batch batch = sample_batch(text, B, T, rng);
    benchmark::DoNotOptimize(trainer.step(training, batch, 1e-3f, 1.0f, AdamWConfig{}, rng));
  }
  state.SetItemsProcessed(state.iterations() * B * T);
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond)->MinTime(10.0);

void BM_AdamWStep(benchmark::State& state) {
  const GPTConfig config;
  ParameterBuffer params(config), grads(config), m(config), v(config);
  std::fill_n(grads.data(), grads.size(), 1e-3f);
  int t = 0;
  for (auto _ : state) adamw_step(params, grads, m, v, ++t, 1e-3f, AdamWConfig{});
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(params.size()));
}
BENCHMARK(BM_AdamWStep)->Unit(benchmark::kMillisecond);

void BM_ClipGradNorm(benchmark::State& state) {
  ParameterBuffer grads{GPTConfig{}};
  std::fill_n(grads.data(), grads.size(), 1e-3f);
  for (auto _ : state) benchmark::DoNotOptimize(clip_grad_norm(grads.data(), grads.size(), 1.0f));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(grads.size()));
}
BENCHMARK(BM_ClipGradNorm)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
