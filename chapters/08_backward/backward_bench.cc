// chapters/08_backward/backward_bench.cc — each backward op beside its forward op.
//   bazel run //chapters/08_backward:backward_bench
//
// At the seed size (B=32, T=64, C=256, H=8, F=1024, V=65), every op runs its
// forward (the function from chapters 02-07) and its backward (this chapter)
// on the same buffers. items_per_second counts tokens (B·T per call) for
// every op, so the backward/forward time ratio is the ratio of the two times.
// For a matrix product it should be about 2: the backward does two products
// of the forward's size (dinp and dweight).
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <vector>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/03_attention/attention.h"
#include "chapters/03_attention/causal_softmax.h"
#include "chapters/04_multihead_attention/heads.h"
#include "chapters/04_multihead_attention/linear.h"
#include "chapters/04_multihead_attention/multihead_attention.h"
#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/block.h"
#include "chapters/06_transformer_block/residual.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/08_backward/attention_backward.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/08_backward/causal_softmax_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/feedforward_backward.h"
#include "chapters/08_backward/gelu_backward.h"
#include "chapters/08_backward/heads_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/linear_backward.h"
#include "chapters/08_backward/multihead_attention_backward.h"
#include "chapters/08_backward/residual_backward.h"
#include "common/random.h"

namespace gpt {
namespace {

constexpr int B = 32, T = 64, C = 256, H = 8, F = 1024, V = 65;
constexpr int N = B * T, hs = C / H;

using Tensor = std::vector<float>;

// A buffer of n floats, N(0, std). Gradients start as randn too: the backward
// only adds to them, and the timing does not depend on their values.
Tensor randn(size_t n, float std = 1.0f) {
  static Rng rng(1);
  Tensor t(n);
  for (float& x : t) x = rng.normal(0.0f, std);
  return t;
}

// One op at the seed size: its buffers, and a forward and a backward call on them.
struct OpBench {
  std::shared_ptr<void> buffers;
  std::function<void()> forward, backward;
};

template <OpBench (*Make)()>
void BM_Forward(benchmark::State& state) {
  OpBench op = Make();
  for (auto _ : state) {
    op.forward();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(N));
}

template <OpBench (*Make)()>
void BM_Backward(benchmark::State& state) {
  OpBench op = Make();
  for (auto _ : state) {
    op.backward();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(N));
}

#define BENCHMARK_OP(make) \
  BENCHMARK_TEMPLATE(BM_Forward, make); \
  BENCHMARK_TEMPLATE(BM_Backward, make)

OpBench embedding() {
  struct D {
    Tensor wte = randn(V * C), wpe = randn(T * C), out = Tensor(N * C), dout = randn(N * C);
    Tensor dwte = randn(V * C), dwpe = randn(T * C);
    std::vector<int32_t> tokens = std::vector<int32_t>(N, 3);
  };
  auto d = std::make_shared<D>();
  return {d,
          [d] { embedding_forward(d->out.data(), d->tokens.data(), d->wte.data(), d->wpe.data(),
                                  B, T, C, V); },
          [d] { embedding_backward(d->dwte.data(), d->dwpe.data(), d->dout.data(),
                                   d->tokens.data(), B, T, C, V); }};
}
BENCHMARK_OP(embedding);

OpBench linear_qkv() {  // the fused QKV projection: (N, C) -> (N, 3C)
  struct D {
    Tensor inp = randn(N * C), w = randn(3 * C * C, 0.02f), b = randn(3 * C), out = Tensor(N * 3 * C);
    Tensor dout = randn(N * 3 * C), dinp = randn(N * C), dw = randn(3 * C * C), db = randn(3 * C);
  };
  auto d = std::make_shared<D>();
  return {d,
          [d] { linear_forward(d->out.data(), d->inp.data(), d->w.data(), d->b.data(), N, C, 3 * C); },
          [d] { linear_backward(d->dinp.data(), d->dw.data(), d->db.data(), d->dout.data(),
                                d->inp.data(), d->w.data(), N, C, 3 * C); }};
}
BENCHMARK_OP(linear_qkv);

OpBench gelu() {
  struct D {
    Tensor inp = randn(N * F), out = Tensor(N * F), dout = randn(N * F), dinp = randn(N * F);
  };
  auto d = std::make_shared<D>();
  return {d, [d] { gelu_forward(d->out.data(), d->inp.data(), int64_t(N) * F, GeluForm::Erf); },
          [d] { gelu_backward(d->dinp.data(), d->dout.data(), d->inp.data(), int64_t(N) * F,
                              GeluForm::Erf); }};
}
BENCHMARK_OP(gelu);

OpBench layernorm() {
  struct D {
    Tensor inp = randn(N * C), w = randn(C), b = randn(C), out = Tensor(N * C);
    Tensor mean = Tensor(N), rstd = Tensor(N), dout = randn(N * C), dinp = randn(N * C);
    Tensor dw = randn(C), db = randn(C);
  };
  auto d = std::make_shared<D>();
  layernorm_forward(d->out.data(), d->mean.data(), d->rstd.data(), d->inp.data(), d->w.data(),
                    d->b.data(), N, C, 1e-5f);
  return {d,
          [d] { layernorm_forward(d->out.data(), d->mean.data(), d->rstd.data(), d->inp.data(),
                                  d->w.data(), d->b.data(), N, C, 1e-5f); },
          [d] { layernorm_backward(d->dinp.data(), d->dw.data(), d->db.data(), d->dout.data(),
                                   d->inp.data(), d->mean.data(), d->rstd.data(), d->w.data(), N,
                                   C); }};
}
BENCHMARK_OP(layernorm);

OpBench causal_softmax() {
  struct D {
    Tensor scores = randn(B * H * T * T), weights = Tensor(B * H * T * T);
    Tensor dweights = randn(B * H * T * T), dscores = randn(B * H * T * T);
  };
  auto d = std::make_shared<D>();
  causal_softmax_forward(d->weights.data(), d->scores.data(), B * H, T);
  return {d, [d] { causal_softmax_forward(d->weights.data(), d->scores.data(), B * H, T); },
          [d] { causal_softmax_backward(d->dscores.data(), d->dweights.data(),
                                        d->weights.data(), B * H, T); }};
}
BENCHMARK_OP(causal_softmax);

OpBench attention() {  // B*H sequences of T tokens, hs channels
  struct D {
    Tensor q = randn(N * C), k = randn(N * C), v = randn(N * C), out = Tensor(N * C);
    Tensor weights = Tensor(B * H * T * T), dout = randn(N * C);
    Tensor dq = randn(N * C), dk = randn(N * C), dv = randn(N * C);
  };
  auto d = std::make_shared<D>();
  attention_forward(d->out.data(), d->weights.data(), d->q.data(), d->k.data(), d->v.data(),
                    B * H, T, hs);
  return {d,
          [d] { attention_forward(d->out.data(), d->weights.data(), d->q.data(), d->k.data(),
                                  d->v.data(), B * H, T, hs); },
          [d] { attention_backward(d->dq.data(), d->dk.data(), d->dv.data(), d->dout.data(),
                                   d->q.data(), d->k.data(), d->v.data(), d->weights.data(),
                                   B * H, T, hs); }};
}
BENCHMARK_OP(attention);

OpBench split_heads_op() {
  struct D {
    Tensor qkv = randn(N * 3 * C), q = randn(N * C), k = randn(N * C), v = randn(N * C);
    Tensor dqkv = randn(N * 3 * C);
  };
  auto d = std::make_shared<D>();
  return {d, [d] { split_heads(d->q.data(), d->k.data(), d->v.data(), d->qkv.data(), B, T, C, H); },
          [d] { split_heads_backward(d->dqkv.data(), d->q.data(), d->k.data(), d->v.data(), B, T,
                                     C, H); }};
}
BENCHMARK_OP(split_heads_op);

OpBench multihead_attention() {
  struct D {
    Tensor qkv_w = randn(3 * C * C, 0.02f), qkv_b = randn(3 * C), proj_w = randn(C * C, 0.02f);
    Tensor proj_b = randn(C), inp = randn(N * C), out = Tensor(N * C), dout = randn(N * C);
    Tensor dinp = randn(N * C), dqkv_w = randn(3 * C * C), dqkv_b = randn(3 * C);
    Tensor dproj_w = randn(C * C), dproj_b = randn(C);
    Tensor buffer = Tensor(AttentionActivations::size(B, T, C, H));
    Tensor scratch = Tensor(AttentionActivations::size(B, T, C, H));
    AttentionActivations acts = AttentionActivations::carve(buffer.data(), B, T, C, H);
    AttentionActivations dacts = AttentionActivations::carve(scratch.data(), B, T, C, H);
    AttentionParams params() const {
      return {qkv_w.data(), qkv_b.data(), proj_w.data(), proj_b.data()};
    }
    AttentionGrads grads() { return {dqkv_w.data(), dqkv_b.data(), dproj_w.data(), dproj_b.data()}; }
  };
  auto d = std::make_shared<D>();
  multihead_attention_forward(d->out.data(), d->acts, d->inp.data(), d->params(), B, T, C, H);
  return {d,
          [d] { multihead_attention_forward(d->out.data(), d->acts, d->inp.data(), d->params(),
                                            B, T, C, H); },
          [d] { multihead_attention_backward(d->dinp.data(), d->grads(), d->dacts,
                                             d->dout.data(), d->inp.data(), d->acts,
                                             d->params(), B, T, C, H); }};
}
BENCHMARK_OP(multihead_attention);

OpBench residual() {
  struct D {
    Tensor a = randn(N * C), b = randn(N * C), out = Tensor(N * C), dout = randn(N * C);
    Tensor da = randn(N * C), db = randn(N * C);
  };
  auto d = std::make_shared<D>();
  return {d, [d] { residual_forward(d->out.data(), d->a.data(), d->b.data(), int64_t(N) * C); },
          [d] { residual_backward(d->da.data(), d->db.data(), d->dout.data(), int64_t(N) * C); }};
}
BENCHMARK_OP(residual);

OpBench feedforward() {
  struct D {
    Tensor fc_w = randn(F * C, 0.02f), fc_b = randn(F), proj_w = randn(C * F, 0.02f);
    Tensor proj_b = randn(C), inp = randn(N * C), out = Tensor(N * C), dout = randn(N * C);
    Tensor hidden = Tensor(N * F), activated = Tensor(N * F);
    Tensor dhidden = Tensor(N * F), dactivated = Tensor(N * F), dinp = randn(N * C);
    Tensor dfc_w = randn(F * C), dfc_b = randn(F), dproj_w = randn(C * F), dproj_b = randn(C);
    FeedForwardParams params() const {
      return {fc_w.data(), fc_b.data(), proj_w.data(), proj_b.data()};
    }
    FeedForwardGrads grads() { return {dfc_w.data(), dfc_b.data(), dproj_w.data(), dproj_b.data()}; }
  };
  auto d = std::make_shared<D>();
  feedforward_forward(d->out.data(), d->hidden.data(), d->activated.data(), d->inp.data(),
                      d->params(), N, C, F, GeluForm::Erf);
  return {d,
          [d] { feedforward_forward(d->out.data(), d->hidden.data(), d->activated.data(),
                                    d->inp.data(), d->params(), N, C, F, GeluForm::Erf); },
          [d] { feedforward_backward(d->dinp.data(), d->grads(), d->dhidden.data(),
                                     d->dactivated.data(), d->dout.data(), d->inp.data(),
                                     d->hidden.data(), d->activated.data(), d->params(), N, C,
                                     F, GeluForm::Erf); }};
}
BENCHMARK_OP(feedforward);

OpBench block() {  // pre-LN, erf GELU: GPT-2's block
  struct D {
    BlockConfig config{B, T, C, H, F};
    Tensor ln1_w = randn(C), ln1_b = randn(C), ln2_w = randn(C), ln2_b = randn(C);
    Tensor qkv_w = randn(3 * C * C, 0.02f), qkv_b = randn(3 * C), proj_w = randn(C * C, 0.02f);
    Tensor proj_b = randn(C), fc_w = randn(F * C, 0.02f), fc_b = randn(F);
    Tensor mlp_proj_w = randn(C * F, 0.02f), mlp_proj_b = randn(C);
    Tensor grads_buffer = randn(4 * C + 4 * C * C + 4 * C + 2 * C * F + F + C);
    Tensor inp = randn(N * C), out = Tensor(N * C), dout = randn(N * C), dinp = randn(N * C);
    Tensor buffer = Tensor(BlockActivations::size(config));
    Tensor scratch = Tensor(BlockActivations::size(config));
    BlockActivations acts = BlockActivations::carve(buffer.data(), config);
    BlockActivations dacts = BlockActivations::carve(scratch.data(), config);
    BlockParams params() const {
      return {ln1_w.data(), ln1_b.data(),
              {qkv_w.data(), qkv_b.data(), proj_w.data(), proj_b.data()},
              ln2_w.data(), ln2_b.data(),
              {fc_w.data(), fc_b.data(), mlp_proj_w.data(), mlp_proj_b.data()}};
    }
    BlockGrads grads() {  // consecutive slices of one buffer
      float* p = grads_buffer.data();
      const auto take = [&p](size_t n) { float* start = p; p += n; return start; };
      BlockGrads g;
      g.ln1_weight = take(C);
      g.ln1_bias = take(C);
      g.attn = {take(3 * C * C), take(3 * C), take(C * C), take(C)};
      g.ln2_weight = take(C);
      g.ln2_bias = take(C);
      g.mlp = {take(F * C), take(F), take(C * F), take(C)};
      return g;
    }
  };
  auto d = std::make_shared<D>();
  block_forward(d->out.data(), d->acts, d->inp.data(), d->params(), d->config);
  return {d, [d] { block_forward(d->out.data(), d->acts, d->inp.data(), d->params(), d->config); },
          [d] { block_backward(d->dinp.data(), d->grads(), d->dacts, d->dout.data(),
                               d->inp.data(), d->acts, d->params(), d->config); }};
}
BENCHMARK_OP(block);

OpBench cross_entropy() {
  struct D {
    Tensor logits = randn(N * V), probs = Tensor(N * V), losses = Tensor(N), dlogits = randn(N * V);
    std::vector<int32_t> targets = std::vector<int32_t>(N, 5);
  };
  auto d = std::make_shared<D>();
  cross_entropy_forward(d->losses.data(), d->probs.data(), d->logits.data(), d->targets.data(), N,
                        V);
  return {d,
          [d] { cross_entropy_forward(d->losses.data(), d->probs.data(), d->logits.data(),
                                      d->targets.data(), N, V); },
          [d] { cross_entropy_backward(d->dlogits.data(), 1.0f, d->probs.data(),
                                       d->targets.data(), N, V); }};
}
BENCHMARK_OP(cross_entropy);

}  // namespace
}  // namespace gpt
