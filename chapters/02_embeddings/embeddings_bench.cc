// chapters/02_embeddings/embeddings_bench.cc — embedding lookups at the seed size.
//   bazel run //chapters/02_embeddings:embeddings_bench
// An embedding is pure memory traffic: read B*T rows of wte and of the position
// table, write B*T rows of output. Bytes/s is the figure that matters.
#include <benchmark/benchmark.h>

#include <vector>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/02_embeddings/sinusoidal.h"
#include "common/random.h"

namespace gpt {
namespace {

// The seed configuration: B=32, T=64, C=256, V=65.
constexpr int B = 32, T = 64, C = 256, V = 65;

void BM_EmbeddingForward(benchmark::State& state) {
  Rng rng(1);
  std::vector<float> wte(V * C), wpe(T * C), out(size_t(B) * T * C);
  for (float& w : wte) w = rng.normal(0, 0.02f);
  for (float& w : wpe) w = rng.normal(0, 0.02f);
  std::vector<int32_t> tokens(B * T);
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.below(V));
  for (auto _ : state) {
    embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C, V);
    benchmark::ClobberMemory();
  }
  // two rows read and one written per (b, t)
  state.SetBytesProcessed(state.iterations() * int64_t(B) * T * C * 3 * sizeof(float));
}
BENCHMARK(BM_EmbeddingForward);

void BM_SinusoidalTable(benchmark::State& state) {
  const int P = static_cast<int>(state.range(0));
  std::vector<float> table(size_t(P) * C);
  for (auto _ : state) {
    sinusoidal_table(table.data(), P, C);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(P) * C);
}
BENCHMARK(BM_SinusoidalTable)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace gpt
