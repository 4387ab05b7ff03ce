// chapters/10_fast_cpu/generation_bench.cc — generating 200 tokens at the seed configuration.
//   bazel run //chapters/10_fast_cpu:generation_bench
// Seed: C=256, L=6, H=8, F=1024, V=65, P=64; batch 1, a 1-token prompt,
// 200 new tokens sampled at temperature 1. items_per_second is tokens/s, on
// the wall clock (UseRealTime: the CPU time of the main thread alone would
// miss the other threads, and the time a busy machine takes our cores away).
//   BM_GenerateKVCache/threads:N  this chapter's KV cache, N OpenMP threads
//   BM_GenerateRecompute          chapter 07's generate(): full recompute
//   BM_AppendTokens/threads:N     filling the cache one token at a time;
//                                 GB/s: the bytes a token must read (below) × tokens/s
//   BM_Prefill32/threads:N        re-encoding 32 tokens at once (a full cache's slide)
#include <benchmark/benchmark.h>

#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/init.h"
#include "chapters/10_fast_cpu/kv_cache.h"
#include "chapters/10_fast_cpu/kv_generate.h"

namespace gpt {
namespace {

constexpr int kNewTokens = 200;

// lesson: bytes_per_token
// What appending the token at `position` must read (chapter 16's
// decode_traffic.h counts the same for GPT-2): every weight once — per block
// two LayerNorms and four linear layers with their biases; the final
// LayerNorm; lm_head; one row of wte and of wpe — and the cached keys and
// values of positions 0..position in every layer. 4 bytes a number.
double bytes_per_token(const GPTConfig& c, int position) {
  const double C = c.embed_size, F = c.ff_dim;
  const double block = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (F * C + F) + (C * F + C);
  const double weights = c.num_layers * block + 2 * C + c.vocab_size * C + 2 * C;
  const double kv = c.num_layers * 2.0 * (position + 1) * C;
  return 4 * (weights + kv);
}
// end lesson

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
BENCHMARK(BM_GenerateKVCache)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_GenerateRecompute(benchmark::State& state) {
  const GPTModel model = seed_model();
  Rng rng(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(generate(model, {0}, kNewTokens, SamplingOptions{}, rng));
  }
  state.SetItemsProcessed(state.iterations() * kNewTokens);
}
BENCHMARK(BM_GenerateRecompute)->UseRealTime()->Unit(benchmark::kMillisecond);

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
  double bytes = 0;  // per pass: the prefill of 1 token reads what an append at 0 does
  for (int t = 0; t < cache.capacity(); ++t) bytes += bytes_per_token(model.config, t);
  state.counters["GB/s"] = benchmark::Counter(double(state.iterations()) * bytes / 1e9,
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AppendTokens)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The 32 tokens a full cache keeps, re-encoded at once.
void BM_Prefill32(benchmark::State& state) {
  const GPTModel model = seed_model();
  KVCache cache(model, static_cast<int>(state.range(0)));
  const std::vector<int32_t> context(32, 1);
  for (auto _ : state) benchmark::DoNotOptimize(cache.prefill(context.data(), 32));
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_Prefill32)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
