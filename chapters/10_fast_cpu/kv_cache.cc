// chapters/10_fast_cpu/kv_cache.cc — chapter 10: new tokens through the model, with a KV cache.
#include "chapters/10_fast_cpu/kv_cache.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/model_ops.h"
#include "chapters/10_fast_cpu/cached_attention.h"
#include "chapters/10_fast_cpu/free_cores.h"
#include "chapters/10_fast_cpu/gelu_rows.h"
#include "chapters/10_fast_cpu/layernorm_rows.h"
#include "chapters/10_fast_cpu/matvec.h"

namespace gpt {
namespace {

// lesson: team_ops
// The model's steps for a team of threads: EVERY thread of the team calls
// each method. The small vector work (embeddings, LayerNorm, residual adds,
// copies) is done by thread 0 alone (`masked`), with no barrier after it:
// the same thread does the next small step, and the others wait only where
// they next read its output, at the barrier that opens the next shared step.
// The shared steps are the linear layers (team_linear) and attention, which
// splits the head groups; each ends with a barrier, as the next step reads
// all of its output. A pre-LN layer crosses 6 barriers, not 11.
class TeamOps : public PlainModelOpsFor<ModelOps> {
 public:
  TeamOps(KVCache& cache, int t0) : cache_(cache), t0_(t0) {}

  void embedding(float* out, const int32_t* tokens, const float* wte, const float* positions,
                 int B, int T, int C, int V) override {
#pragma omp masked
    embedding_forward(out, tokens, wte, positions, B, T, C, V);
  }
  void layernorm(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                 const float* bias, int N, int C, float eps) override {
#pragma omp masked
    layernorm_rows(out, mean, rstd, inp, weight, bias, N, C, eps);  // chapter 05's, unchained
  }
  // Token i of the step, at position t0 + i, attends to cache rows 0 .. t0 + i.
  // The team splits the head groups, and a thread computes the q, k and v of
  // its own groups (w rows of each of the three parts of the projection), so
  // it can attend at once: no barrier between the projection and attention.
  // Per group, token by token: gather its q, k, v (kv_cache.h), append k and
  // v to the cache, attend (token i reads the rows tokens before it appended).
  void attention(float* out, AttentionActivations& a, const float* x, const AttentionParams& p,
                 const BlockConfig& c, int layer) override {
    const int n = c.T, C = c.C, G = cache_.head_groups(), w = C / G;
    const auto [g0, g1] = team_rows(G, 1);  // this thread's head groups
#pragma omp barrier  // x: the LayerNorm thread 0 wrote
    for (int g = g0; g < g1; ++g) {
      for (int part = 0; part < 3; ++part) {  // q, k, v: rows part·C + g·w .. + w of (3C)
        const int r = part * C + g * w;
        linear_rows(a.qkv, x, p.qkv_weight, p.qkv_bias, n, C, 3 * C, r, r + w);
      }
      float* K = cache_.keys(layer, g);                // (P, w)
      float* V = K + size_t(cache_.capacity()) * w;    // (P, w)
      for (int i = 0; i < n; ++i) {
        const float* qkv = a.qkv + size_t(i) * 3 * C + size_t(g) * w;  // group g's q
        float* qkv_g = cache_.group_qkv(i, g);                          // (3w)
        for (int part = 0; part < 3; ++part) std::copy_n(qkv + part * C, w, qkv_g + part * w);
        kv_cache_append(K, V, qkv_g, t0_ + i, w);
        cached_attention_forward(a.merged + size_t(i) * C + size_t(g) * w,
                                 cache_.scores(omp_get_thread_num()), qkv_g, K, V, t0_ + i, w,
                                 c.H / G);
      }
    }
#pragma omp barrier  // the projection reads every group's output
    team_linear(out, a.merged, p.proj_weight, p.proj_bias, n, C, C);  // (n, C)
  }
  // end lesson
  // Each thread applies GELU to the hidden columns it computed itself.
  void feedforward(float* out, float* hidden, float* activated, const float* x,
                   const FeedForwardParams& p, const BlockConfig& c) override {
    const int n = c.T, C = c.C, F = c.F;
    const auto [begin, end] = team_rows(F);
#pragma omp barrier  // x: the LayerNorm thread 0 wrote
    linear_rows(hidden, x, p.fc_weight, p.fc_bias, n, C, F, begin, end);
    for (int i = 0; i < n; ++i) {  // 16 at a time
      gelu_rows(activated + size_t(i) * F + begin, hidden + size_t(i) * F + begin, end - begin,
                c.gelu);
    }
#pragma omp barrier
    team_linear(out, activated, p.proj_weight, p.proj_bias, n, F, C);  // (n, C)
  }
  void dropout_residual(float* out, const float* x, float* branch, const float* /*mask*/,
                        int64_t n) override {
#pragma omp masked
    for (int64_t j = 0; j < n; ++j) out[j] = x[j] + branch[j];  // generation: no dropout
  }
  void copy(float* dst, const float* src, int64_t n) override {
#pragma omp masked
    std::copy_n(src, n, dst);
  }
  void linear(float* out, const float* inp, const float* weight, const float* bias, int N,
              int IC, int OC) override {
#pragma omp barrier  // inp: the LayerNorm thread 0 wrote
    team_linear(out, inp, weight, bias, N, IC, OC);
  }

 private:
  KVCache& cache_;
  int t0_;  // the position of the step's first token
};

}  // namespace

DecodeActivations::DecodeActivations(const GPTConfig& c, int capacity)
    : config_(c), capacity_(capacity) {
  const size_t P = capacity, C = c.embed_size;
  for (auto& s : stream_) s.resize(P * C);
  ln_.resize(P * C), residual_.resize(P * C), branch_.resize(P * C), qkv_.resize(P * 3 * C);
  y_.resize(P * C), hidden_.resize(P * c.ff_dim), logits_.resize(c.vocab_size);
  ids_.resize(P);
}

void DecodeActivations::carve(int B_, int T_) {
  B = B_, T = T_;  // B = 1 and T <= capacity: the cache checks
  tokens = ids_.data();
  embeddings = stream_[0].data();
  BlockActivations a{};  // one set of views for every layer
  a.ln1 = a.ln2 = ln_.data();
  a.attn.qkv = qkv_.data();
  a.attn.merged = y_.data();
  a.attn_out = a.mlp_out = branch_.data();
  a.residual1 = a.residual2 = residual_.data();
  a.mlp_hidden = a.mlp_activated = hidden_.data();  // GELU in place
  blocks.assign(config_.num_layers, a);
  block_out.clear();
  for (int l = 0; l < config_.num_layers; ++l) block_out.push_back(stream_[(l + 1) % 2].data());
  ln_f = ln_.data();
  logits = logits_.data();
}

namespace {

// The smallest divisor of H above 1: heads per group (H itself when H is prime or 1).
int heads_per_group(int H) {
  for (int d = 2; d < H; ++d) {
    if (H % d == 0) return d;
  }
  return H;
}

}  // namespace

KVCache::KVCache(const GPTModel& model, int threads, bool adapt)
    : model_(model),
      w_(model.weights()),
      capacity_(model.config.max_length),
      threads_(threads > 0 ? threads : omp_get_max_threads()),
      adapt_(adapt),
      head_groups_(model.config.heads / heads_per_group(model.config.heads)),
      acts_(model.config, model.config.max_length) {
  const GPTConfig& c = model.config;
  c.validate();
  cache_.assign(size_t(c.num_layers) * 2 * capacity_ * c.embed_size, 0.0f);
  group_qkv_.resize(size_t(capacity_) * 3 * c.embed_size);
  scores_.resize(size_t(threads_) * scores_stride());
}

const float* KVCache::prefill(const int32_t* tokens, int n) {
  if (n < 1 || n > capacity_) {
    throw std::invalid_argument("prefill of " + std::to_string(n) + " tokens: needs 1 to " +
                                "max_length (" + std::to_string(capacity_) + ")");
  }
  length_ = 0;
  return encode(tokens, n, 0);
}

const float* KVCache::append(int32_t token) {
  if (length_ >= capacity_) {
    throw std::length_error("the KV cache is full (" + std::to_string(capacity_) + " positions)");
  }
  return encode(&token, 1, length_);
}

// lesson: encode
const float* KVCache::encode(const int32_t* tokens, int n, int t0) {
  const GPTConfig& c = model_.config;
  for (int i = 0; i < n; ++i) {  // checked here: nothing may throw inside a parallel region
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      length_ = 0;  // the cache may be half-written: start again
      throw std::out_of_range("token id " + std::to_string(tokens[i]) +
                              " is outside the vocabulary [0, " + std::to_string(c.vocab_size) +
                              ")");
    }
  }
  acts_.carve(1, n);
  std::copy_n(tokens, n, acts_.tokens);
  TeamOps ops(*this, t0);
  const auto forward = [&] {  // chapter 07's model; only the last token's logits are needed
    gpt_forward_tokens(ops, acts_, w_, c, 1, n, t0, Mode::Eval, LogitRows::Last);
  };
  const int threads = adapt_ ? free_core_threads(threads_) : threads_;  // same bits for any
  if (threads == 1) {
    forward();  // no parallel region: the team is this thread alone
  } else {
#pragma omp parallel num_threads(threads)
    forward();
  }
  length_ = t0 + n;
  return acts_.logits;
}
// end lesson

}  // namespace gpt
