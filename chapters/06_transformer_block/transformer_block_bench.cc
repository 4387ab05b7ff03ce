// chapters/06_transformer_block/transformer_block_bench.cc — one block at the seed size.
//   bazel run //chapters/06_transformer_block:transformer_block_bench
// Reports tokens per second (items_per_second): B·T tokens through one block,
// pre-LN and post-LN. The two do the same work in a different order, so they
// should run at the same speed; the matrix products of attention and the MLP
// dominate, LayerNorm and the residual additions are a few percent.
// activations_MiB is the size of the one buffer that BlockActivations carves.
#include <benchmark/benchmark.h>

#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "common/random.h"

namespace gpt {
namespace {

// The seed configuration: B=32, T=64, C=256, heads=8, ff_dim=1024.
constexpr int B = 32, T = 64, C = 256, H = 8, F = 1024;

void BM_BlockForward(benchmark::State& state) {
  BlockConfig config{B, T, C, H, F};
  config.norm = state.range(0) == 0 ? NormPlacement::Pre : NormPlacement::Post;
  state.SetLabel(state.range(0) == 0 ? "pre-LN" : "post-LN");
  Rng rng(1);
  const auto normal = [&rng](size_t n, float mean, float std) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.normal(mean, std);
    return v;
  };
  const std::vector<float> x = normal(size_t(B) * T * C, 0.0f, 1.0f);  // (B, T, C)
  const std::vector<float> ln1_w = normal(C, 1.0f, 0.1f), ln1_b = normal(C, 0.0f, 0.1f);
  const std::vector<float> ln2_w = normal(C, 1.0f, 0.1f), ln2_b = normal(C, 0.0f, 0.1f);
  const std::vector<float> qkv_w = normal(size_t(3) * C * C, 0, 0.02f), qkv_b = normal(3 * C, 0, 0.02f);
  const std::vector<float> attn_w = normal(size_t(C) * C, 0, 0.02f), attn_b = normal(C, 0, 0.02f);
  const std::vector<float> fc_w = normal(size_t(F) * C, 0, 0.02f), fc_b = normal(F, 0, 0.02f);
  const std::vector<float> proj_w = normal(size_t(C) * F, 0, 0.02f), proj_b = normal(C, 0, 0.02f);
  const BlockParams params{ln1_w.data(), ln1_b.data(),
                           AttentionParams{qkv_w.data(), qkv_b.data(), attn_w.data(), attn_b.data()},
                           ln2_w.data(), ln2_b.data(),
                           FeedForwardParams{fc_w.data(), fc_b.data(), proj_w.data(), proj_b.data()}};
  std::vector<float> buffer(BlockActivations::size(config)), out(x.size());
  BlockActivations acts = BlockActivations::carve(buffer.data(), config);
  for (auto _ : state) {
    block_forward(out.data(), acts, x.data(), params, config);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(B) * T);
  state.counters["activations_MiB"] = double(buffer.size() * sizeof(float)) / (1 << 20);
}
BENCHMARK(BM_BlockForward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpt
