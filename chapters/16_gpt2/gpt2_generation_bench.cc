// chapters/16_gpt2/gpt2_generation_bench.cc — GPT-2 124M, batch 1, against the memory's speed.
//   bazel run //chapters/16_gpt2:gpt2_generation_bench
// The 124M shape (L=12 H=12 C=768 F=3072 V=50257 P=1024) on random weights
// (init_gpt2), chapter 10's KV cache. Before the benchmarks the process
// measures its own DRAM read bandwidth (memory_bandwidth.h: 1 GiB, 1 thread
// and every core, best of 5 passes each), written into the JSON's context.
//   BM_Gpt2Generate/threads:N         generate_with_kv_cache, greedy: a 1-token
//                                     prompt and 64 new tokens, the cache
//                                     allocated inside the timing, as the call does
//   BM_Gpt2GenerateSampled/threads:N  the same sampled at temperature 1 by
//                                     chapter 07's sampler, which sorts the
//                                     50,257 logits on one thread every token
//   BM_Gpt2DecodeAt1000/threads:N     the tokens at positions 1000..1023
//                                     appended one by one after a 1,000-token
//                                     prefill (not timed): the long context,
//                                     where attention reads 74 MB of keys and
//                                     values per token
// Counters, per generated token, on wall-clock time:
//   tokens_per_s     (items_per_second says the same)
//   bytes_per_token  decode_traffic.h: every weight once (the tied wte once, as
//                    the output layer; one row of wpe) plus the keys and values
//                    attention reads at that position
//   GB_per_s         bytes_per_token · tokens_per_s / 1e9
//   bw_share         GB_per_s / the probe's bandwidth at the same thread count
//                    (1 thread: the 1-thread probe; more: the all-cores probe)
//   bw_share_all     GB_per_s / the probe's bandwidth with every core
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/07_gpt/init.h"
#include "chapters/07_gpt/model.h"
#include "chapters/10_fast_cpu/kv_cache.h"
#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/16_gpt2/decode_traffic.h"
#include "chapters/16_gpt2/gpt2_presets.h"
#include "chapters/16_gpt2/memory_bandwidth.h"

namespace gpt {
namespace {

constexpr int kNewTokens = 64;
constexpr int kLongPrompt = 1000;

// The probe's GB/s for 1 thread and for every core, measured in main().
double g_bandwidth_1_thread = 0, g_bandwidth_all = 0;

const GPTModel& gpt2_124m() {
  static const GPTModel model = [] {
    GPTModel m(gpt2_preset("gpt2").config);
    Rng rng(1);
    init_gpt2(m, rng);
    return m;
  }();
  return model;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `tokens` generated in `seconds` of wall-clock time, each reading `bytes_per_token`.
void set_counters(benchmark::State& state, int threads, double bytes_per_token, int64_t tokens,
                  double seconds) {
  const double bandwidth = threads == 1 ? g_bandwidth_1_thread : g_bandwidth_all;
  const double gb_per_s = tokens * bytes_per_token / seconds / 1e9;
  state.SetItemsProcessed(tokens);
  state.counters["tokens_per_s"] = tokens / seconds;
  state.counters["bytes_per_token"] = bytes_per_token;
  state.counters["GB_per_s"] = gb_per_s;
  state.counters["bw_share"] = gb_per_s / bandwidth;
  state.counters["bw_share_all"] = gb_per_s / g_bandwidth_all;
}

// generate_with_kv_cache: a 1-token prompt, then kNewTokens new tokens.
void generate(benchmark::State& state, const SamplingOptions& sampling) {
  const GPTModel& model = gpt2_124m();
  const int threads = static_cast<int>(state.range(0));
  const std::vector<int32_t> prompt = {0};
  Rng rng(2);
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(
        generate_with_kv_cache(model, prompt, kNewTokens, sampling, rng, nullptr, threads));
    seconds += seconds_since(start);
  }
  set_counters(state, threads, bytes_per_generated_token(model.config, 1, kNewTokens),
               state.iterations() * kNewTokens, seconds);
}

void BM_Gpt2Generate(benchmark::State& state) {
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  generate(state, greedy);
}
BENCHMARK(BM_Gpt2Generate)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Gpt2GenerateSampled(benchmark::State& state) { generate(state, SamplingOptions{}); }
BENCHMARK(BM_Gpt2GenerateSampled)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Gpt2DecodeAt1000(benchmark::State& state) {
  const GPTModel& model = gpt2_124m();
  const int threads = static_cast<int>(state.range(0));
  KVCache cache(model, threads);
  const std::vector<int32_t> context(kLongPrompt, 464);
  const int appends = cache.capacity() - kLongPrompt;  // positions 1000 .. 1023
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    cache.prefill(context.data(), kLongPrompt);
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < appends; ++i) benchmark::DoNotOptimize(cache.append(11));
    seconds += seconds_since(start);
  }
  double kv_bytes = 0;  // attention's reads, averaged over the appends
  for (int t = kLongPrompt; t < cache.capacity(); ++t) kv_bytes += kv_cache_bytes_at(model.config, t);
  set_counters(state, threads, weight_bytes_per_step(model.config) + kv_bytes / appends,
               state.iterations() * appends, seconds);
}
BENCHMARK(BM_Gpt2DecodeAt1000)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int cores = omp_get_num_procs();
  {
    const gpt::ReadBandwidthProbe probe;  // 1 GiB, freed before the model is built
    gpt::g_bandwidth_1_thread = probe.measure(1).gb_per_s;
    gpt::g_bandwidth_all = probe.measure(cores).gb_per_s;
  }
  std::fprintf(stderr, "DRAM read bandwidth (memory_bandwidth.h, 1 GiB, best of 5): %.2f GB/s "
               "on 1 thread, %.2f GB/s on %d\n",
               gpt::g_bandwidth_1_thread, gpt::g_bandwidth_all, cores);
  benchmark::AddCustomContext("read_gb_per_s_1_thread", std::to_string(gpt::g_bandwidth_1_thread));
  benchmark::AddCustomContext("read_gb_per_s_all", std::to_string(gpt::g_bandwidth_all));
  benchmark::AddCustomContext("threads_all", std::to_string(cores));
  benchmark::AddCustomContext(
      "weight_bytes_per_step",
      std::to_string(gpt::weight_bytes_per_step(gpt::gpt2_preset("gpt2").config)));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
