// chapters/04_multihead_attention/multihead_attention_bench.cc — the chapter's ops
// at the seed size: B=32, T=64, C=256, heads=8.
//   bazel run //chapters/04_multihead_attention:multihead_attention_bench
// FLOP/s counts multiply-adds as two operations: 2*N*IC*OC for a linear layer,
// 2*T*T*hs per head and sequence for each of attention's two products. The
// head moves are pure copies, so for them bytes/s (read + written) is the figure.
#include <benchmark/benchmark.h>

#include <vector>

#include "chapters/04_multihead_attention/heads.h"
#include "chapters/04_multihead_attention/linear.h"
#include "chapters/04_multihead_attention/multihead_attention.h"
#include "common/random.h"

namespace gpt {
namespace {

constexpr int B = 32, T = 64, C = 256, H = 8;

std::vector<float> random_vector(size_t n, Rng& rng, float std = 1.0f) {
  std::vector<float> x(n);
  for (float& v : x) v = rng.normal(0.0f, std);
  return x;
}

void set_flops(benchmark::State& state, double flops_per_call) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flops_per_call * state.iterations(), benchmark::Counter::kIsRate);
}

// The fused QKV projection's shape: N = B*T rows, IC = C, OC = 3C.
void BM_Linear(benchmark::State& state) {
  const int N = B * T, IC = C, OC = 3 * C;
  Rng rng(1);
  const std::vector<float> x = random_vector(size_t(N) * IC, rng);
  const std::vector<float> w = random_vector(size_t(OC) * IC, rng, 0.02f);
  const std::vector<float> b = random_vector(OC, rng, 0.02f);
  std::vector<float> out(size_t(N) * OC);
  for (auto _ : state) {
    linear_forward(out.data(), x.data(), w.data(), b.data(), N, IC, OC);
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * N * IC * OC);
}
BENCHMARK(BM_Linear);

void BM_SplitHeads(benchmark::State& state) {
  Rng rng(2);
  const std::vector<float> qkv = random_vector(size_t(B) * T * 3 * C, rng);
  std::vector<float> q(size_t(B) * T * C), k(q.size()), v(q.size());
  for (auto _ : state) {
    split_heads(q.data(), k.data(), v.data(), qkv.data(), B, T, C, H);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * int64_t(qkv.size()) * 2 * sizeof(float));
}
BENCHMARK(BM_SplitHeads);

void BM_MergeHeads(benchmark::State& state) {
  Rng rng(3);
  const std::vector<float> heads = random_vector(size_t(B) * T * C, rng);
  std::vector<float> out(heads.size());
  for (auto _ : state) {
    merge_heads(out.data(), heads.data(), B, T, C, H);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * int64_t(heads.size()) * 2 * sizeof(float));
}
BENCHMARK(BM_MergeHeads);

void BM_MultiHeadAttention(benchmark::State& state) {
  Rng rng(4);
  const std::vector<float> x = random_vector(size_t(B) * T * C, rng);
  const std::vector<float> qkv_w = random_vector(size_t(3) * C * C, rng, 0.02f);
  const std::vector<float> qkv_b = random_vector(3 * C, rng, 0.02f);
  const std::vector<float> proj_w = random_vector(size_t(C) * C, rng, 0.02f);
  const std::vector<float> proj_b = random_vector(C, rng, 0.02f);
  const AttentionParams params{qkv_w.data(), qkv_b.data(), proj_w.data(), proj_b.data()};
  std::vector<float> buffer(AttentionActivations::size(B, T, C, H)), out(x.size());
  AttentionActivations acts = AttentionActivations::carve(buffer.data(), B, T, C, H);
  for (auto _ : state) {
    multihead_attention_forward(out.data(), acts, x.data(), params, B, T, C, H);
    benchmark::ClobberMemory();
  }
  const double BT = double(B) * T, hs = C / H;
  set_flops(state, 2.0 * BT * C * 3 * C          // qkv projection
                       + 2.0 * 2.0 * B * H * T * T * hs  // q·kᵀ and weights·v
                       + 2.0 * BT * C * C);      // output projection
}
BENCHMARK(BM_MultiHeadAttention);

}  // namespace
}  // namespace gpt
