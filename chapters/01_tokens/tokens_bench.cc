// chapters/01_tokens/tokens_bench.cc — how fast text becomes batches.
//   bazel run //chapters/01_tokens:tokens_bench
#include <benchmark/benchmark.h>

#include "chapters/01_tokens/batches.h"
#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"

namespace gpt {
namespace {

const std::string& austen() {
  static const std::string text = read_corpus("austen");
  return text;
}

void BM_EncodeAusten(benchmark::State& state) {
  const CharTokenizer tok = CharTokenizer::from_text(austen());
  for (auto _ : state) benchmark::DoNotOptimize(tok.encode(austen()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(austen().size()));
}
BENCHMARK(BM_EncodeAusten)->Unit(benchmark::kMillisecond);

// The seed configuration's batch: B=32, T=64.
void BM_SampleBatch(benchmark::State& state) {
  const std::vector<int32_t> tokens = CharTokenizer::from_text(austen()).encode(austen());
  Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(sample_batch(tokens, 32, 64, rng));
  state.SetItemsProcessed(state.iterations() * 32 * 64);
}
BENCHMARK(BM_SampleBatch);

}  // namespace
}  // namespace gpt
