// chapters/07_gpt/gpt_bench.cc — the whole forward pass at the seed configuration.
//   bazel run //chapters/07_gpt:gpt_bench
// Seed: B=32, T=64, C=256, L=6, H=8, F=1024, V=65. "items" are tokens, so
// items_per_second is forward-pass throughput in tokens/s. FLOPs per token:
// about 2·(parameters) for the matmuls plus 2·2·T·C per layer for attention.
#include <benchmark/benchmark.h>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"

namespace gpt {
namespace {

constexpr int B = 32, T = 64;

GPTModel seed_model() {
  GPTModel model{GPTConfig{}};
  Rng rng(1);
  init_gpt2(model, rng);
  return model;
}

std::vector<int32_t> random_tokens(int n, int V, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
  return t;
}

void BM_GPTForward(benchmark::State& state) {
  const GPTModel model = seed_model();
  const std::vector<int32_t> tokens = random_tokens(B * T, 65, 2), targets = random_tokens(B * T, 65, 3);
  GPTActivations acts(model.config, B, T);
  for (auto _ : state) {
    benchmark::DoNotOptimize(gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T));
  }
  const double flops_per_token = 2.0 * model.num_parameters() + 4.0 * model.config.num_layers * T * 256;
  state.SetItemsProcessed(state.iterations() * B * T);
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_token * B * T * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GPTForward)->Unit(benchmark::kMillisecond);

void BM_CrossEntropy(benchmark::State& state) {
  const int N = B * T, V = 65;
  std::vector<float> logits(size_t(N) * V), probs(size_t(N) * V), losses(N);
  Rng rng(4);
  for (float& x : logits) x = rng.normal(0, 1);
  const std::vector<int32_t> targets = random_tokens(N, V, 5);
  for (auto _ : state) {
    benchmark::DoNotOptimize(cross_entropy_forward(losses.data(), probs.data(), logits.data(),
                                                   targets.data(), N, V));
  }
  state.SetItemsProcessed(state.iterations() * N);
}
BENCHMARK(BM_CrossEntropy);

// Batch-1 generation of 200 tokens, recomputing the cropped context each step.
void BM_Generate200(benchmark::State& state) {
  const GPTModel model = seed_model();
  for (auto _ : state) {
    Rng rng(6);
    benchmark::DoNotOptimize(generate(model, {1}, 200, SamplingOptions{}, rng));
  }
  state.SetItemsProcessed(state.iterations() * 200);
}
BENCHMARK(BM_Generate200)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
