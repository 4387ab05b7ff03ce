// chapters/05_feedforward_layernorm/feedforward_layernorm_bench.cc — chapter 05's ops at the seed size.
//   bazel run //chapters/05_feedforward_layernorm:feedforward_layernorm_bench
// GELU and LayerNorm report elements per second (items_per_second): both are
// a few float operations per element. The feed-forward network reports
// GFLOP/s (the "FLOP" counter): its two matrix products cost 2·N·C·F
// multiply-adds each, 2·2·N·C·F floating-point operations in all.
#include <benchmark/benchmark.h>

#include <vector>

#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "common/random.h"

namespace gpt {
namespace {

// The seed configuration: B=32, T=64, C=256, ff_dim=1024, so N = B*T = 2048 tokens.
constexpr int B = 32, T = 64, C = 256, F = 1024, N = B * T;

std::vector<float> normal(size_t n, float std, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.normal(0.0f, std);
  return v;
}

void BM_Gelu(benchmark::State& state) {
  const GeluForm form = state.range(0) == 0 ? GeluForm::Erf : GeluForm::Tanh;
  state.SetLabel(form == GeluForm::Erf ? "erf" : "tanh");
  const std::vector<float> x = normal(size_t(N) * F, 1.0f, 1);  // (N, F): the hidden layer
  std::vector<float> y(x.size());
  for (auto _ : state) {
    gelu_forward(y.data(), x.data(), int64_t(x.size()), form);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(x.size()));
}
BENCHMARK(BM_Gelu)->Arg(0)->Arg(1);

void BM_LayerNorm(benchmark::State& state) {
  const std::vector<float> x = normal(size_t(N) * C, 1.0f, 2);  // (N, C)
  const std::vector<float> w = normal(C, 1.0f, 3), b = normal(C, 1.0f, 4);
  std::vector<float> y(x.size()), mean(N), rstd(N);
  for (auto _ : state) {
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C,
                      1e-5f);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(N) * C);
}
BENCHMARK(BM_LayerNorm);

void BM_FeedForward(benchmark::State& state) {
  const GeluForm form = state.range(0) == 0 ? GeluForm::Erf : GeluForm::Tanh;
  state.SetLabel(form == GeluForm::Erf ? "erf" : "tanh");
  const std::vector<float> x = normal(size_t(N) * C, 1.0f, 5);  // (N, C)
  const std::vector<float> fc_w = normal(size_t(F) * C, 0.02f, 6), fc_b = normal(F, 0.02f, 7);
  const std::vector<float> proj_w = normal(size_t(C) * F, 0.02f, 8), proj_b = normal(C, 0.02f, 9);
  const FeedForwardParams params{fc_w.data(), fc_b.data(), proj_w.data(), proj_b.data()};
  std::vector<float> out(size_t(N) * C), hidden(size_t(N) * F), activated(size_t(N) * F);
  for (auto _ : state) {
    feedforward_forward(out.data(), hidden.data(), activated.data(), x.data(), params, N, C, F,
                        form);
    benchmark::ClobberMemory();
  }
  state.counters["FLOP"] = benchmark::Counter(2.0 * 2.0 * N * C * F * state.iterations(),
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FeedForward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
