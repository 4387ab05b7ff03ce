// chapters/03_attention/attention_bench.cc — one head of attention at the seed size.
//   bazel run //chapters/03_attention:attention_bench
// The seed model runs B*heads = 32*8 = 256 independent sequences of T = 64
// positions with hs = 256/8 = 32 channels per head.
//   BM_CausalSoftmax: items/s counts attention weights written (N*T*T per call).
//   BM_Attention: FLOP/s counts the two matrix products, q·kᵀ and weights·v,
//   2*T*T*hs floating-point operations each per sequence (the softmax's few
//   operations per weight are left out).
#include <benchmark/benchmark.h>

#include <vector>

#include "chapters/03_attention/attention.h"
#include "chapters/03_attention/causal_softmax.h"
#include "common/random.h"

namespace gpt {
namespace {

constexpr int N = 32 * 8, T = 64, hs = 32;

std::vector<float> random_vector(size_t n, Rng& rng) {
  std::vector<float> x(n);
  for (float& v : x) v = rng.normal(0.0f, 1.0f);
  return x;
}

void BM_CausalSoftmax(benchmark::State& state) {
  Rng rng(1);
  const std::vector<float> scores = random_vector(size_t(N) * T * T, rng);
  std::vector<float> weights(scores.size());
  for (auto _ : state) {
    causal_softmax_forward(weights.data(), scores.data(), N, T);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(N) * T * T);
}
BENCHMARK(BM_CausalSoftmax);

void BM_Attention(benchmark::State& state) {
  Rng rng(2);
  const std::vector<float> q = random_vector(size_t(N) * T * hs, rng);
  const std::vector<float> k = random_vector(q.size(), rng), v = random_vector(q.size(), rng);
  std::vector<float> out(q.size()), weights(size_t(N) * T * T);
  for (auto _ : state) {
    attention_forward(out.data(), weights.data(), q.data(), k.data(), v.data(), N, T, hs);
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * 2.0 * N * T * T * hs;  // q·kᵀ and weights·v
  state.counters["FLOP/s"] =
      benchmark::Counter(flops * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Attention);

}  // namespace
}  // namespace gpt
