// chapters/10_fast_cpu/generation_bench.cc — generating 200 tokens at the seed configuration.
//   bazel run //chapters/10_fast_cpu:generation_bench
// Seed: C=256, L=6, H=8, F=1024, V=65, P=64; batch 1, a 1-token prompt,
// 200 new tokens sampled at temperature 1. items_per_second is tokens/s.
//   BM_GenerateKVCache/threads:N  this chapter's KV cache, N OpenMP threads
//   BM_GenerateRecompute          chapter 07's generate(): full recompute
//   BM_AppendTokens/threads:N     filling the cache one token at a time
//   BM_Prefill32/threads:N        re-encoding 32 tokens at once (a full cache's slide)
#include <benchmark/benchmark.h>

#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/init.h"
#include "chapters/10_fast_cpu/kv_cache.h"
#include "chapters/10_fast_cpu/kv_generate.h"

namespace gpt {
namespace {

constexpr int kNewTokens = 200;

GPTModel seed_model() {
  GPTModel model{GPTConfig{}};
  Rng rng(1);
  init_gpt2(model, rng);
  return model;
}

void BM_GenerateKVCache(benchmark::State& state) {
  const GPTModel model = seed_model();
  Rng rng(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(generate_with_kv_cache(model, {0}, kNewTokens, SamplingOptions{}, rng,
                                                    nullptr, static_cast<int>(state.range(0))));
  }
  state.SetItemsProcessed(state.iterations() * kNewTokens);
}
BENCHMARK(BM_GenerateKVCache)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_GenerateRecompute(benchmark::State& state) {
  const GPTModel model = seed_model();
  Rng rng(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(generate(model, {0}, kNewTokens, SamplingOptions{}, rng));
  }
  state.SetItemsProcessed(state.iterations() * kNewTokens);
}
BENCHMARK(BM_GenerateRecompute)->Unit(benchmark::kMillisecond);

// A cache filled token by token: one prefill of 1 token, then 63 appends.
void BM_AppendTokens(benchmark::State& state) {
  const GPTModel model = seed_model();
  KVCache cache(model, static_cast<int>(state.range(0)));
  const int32_t first = 0;
  for (auto _ : state) {
    cache.prefill(&first, 1);
    while (cache.length() < cache.capacity()) benchmark::DoNotOptimize(cache.append(1));
  }
  state.SetItemsProcessed(state.iterations() * cache.capacity());
}
BENCHMARK(BM_AppendTokens)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// The 32 tokens a full cache keeps, re-encoded at once.
void BM_Prefill32(benchmark::State& state) {
  const GPTModel model = seed_model();
  KVCache cache(model, static_cast<int>(state.range(0)));
  const std::vector<int32_t> context(32, 1);
  for (auto _ : state) benchmark::DoNotOptimize(cache.prefill(context.data(), 32));
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_Prefill32)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
