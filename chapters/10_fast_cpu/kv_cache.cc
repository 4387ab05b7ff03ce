// chapters/10_fast_cpu/kv_cache.cc — chapter 10: new tokens through the model, with a KV cache.
#include "chapters/10_fast_cpu/kv_cache.h"

#include <omp.h>

#include <unsupported/Eigen/SpecialFunctions>

#include <stdexcept>
#include <string>

#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/10_fast_cpu/cached_attention.h"
#include "chapters/10_fast_cpu/free_cores.h"
#include "chapters/10_fast_cpu/gelu_rows.h"
#include "chapters/10_fast_cpu/matvec.h"

namespace gpt {

KVCache::KVCache(const GPTModel& model, int threads, bool adapt)
    : model_(model),
      w_(model.weights()),
      capacity_(model.config.max_length),
      threads_(threads > 0 ? threads : omp_get_max_threads()),
      adapt_(adapt) {
  const GPTConfig& c = model.config;
  c.validate();
  const size_t P = capacity_, C = c.embed_size;
  cache_.assign(size_t(c.num_layers) * 2 * P * C, 0.0f);
  x_.resize(P * C), ln_.resize(P * C), qkv_.resize(P * 3 * C), y_.resize(P * C);
  branch_.resize(P * C), hidden_.resize(P * c.ff_dim), scores_.resize(P * scores_stride());
  logits_.resize(c.vocab_size);
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
  const int V = model_.config.vocab_size;
  for (int i = 0; i < n; ++i) {  // checked here: nothing may throw inside a parallel region
    if (tokens[i] < 0 || tokens[i] >= V) {
      length_ = 0;  // the cache may be half-written: start again
      throw std::out_of_range("token id " + std::to_string(tokens[i]) +
                              " is outside the vocabulary [0, " + std::to_string(V) + ")");
    }
  }
  const int threads = adapt_ ? free_core_threads(threads_) : threads_;  // same bits for any
  if (threads == 1) {
    step(tokens, n, t0);  // no parallel region: the team is this thread alone
  } else {
#pragma omp parallel num_threads(threads)
    step(tokens, n, t0);
  }
  length_ = t0 + n;
  return logits_.data();
}
// end lesson

// lesson: step
// Every thread of the team runs this. The linear layers are shared
// (team_linear); the small vector work (embeddings, LayerNorm, residual adds)
// is done by one thread while the others wait at the end of `single`.
void KVCache::step(const int32_t* tokens, int n, int t0) {
  const GPTConfig& c = model_.config;
  const int C = c.embed_size;
#pragma omp single
  for (int i = 0; i < n; ++i) {  // token embedding plus position t0 + i
    const float* wte = w_.wte + size_t(tokens[i]) * C;
    const float* pos = w_.positions + size_t(t0 + i) * C;
    for (int j = 0; j < C; ++j) x_[size_t(i) * C + j] = wte[j] + pos[j];
  }
  for (int l = 0; l < c.num_layers; ++l) block_step(l, n, t0);
  const float* last = x_.data() + size_t(n - 1) * C;  // only the last token's logits are needed
#pragma omp single
  layernorm_forward(ln_.data(), nullptr, nullptr, last, w_.ln_f_weight, w_.ln_f_bias, 1, C,
                    c.layernorm_eps);
  team_linear(logits_.data(), ln_.data(), w_.lm_head, nullptr, 1, C, c.vocab_size);  // (V)
}
// end lesson

// lesson: block_step
void KVCache::block_step(int l, int n, int t0) {
  const GPTConfig& c = model_.config;
  const BlockParams& p = w_.blocks[l];
  const int C = c.embed_size, F = c.ff_dim, P = capacity_;
  const float eps = c.layernorm_eps;
  const bool pre = c.norm == NormPlacement::Pre;
  float* K = cache_.data() + size_t(2 * l) * P * C;  // (P, C) this layer's keys
  float* V = K + size_t(P) * C;                      // (P, C) and values
  float *x = x_.data(), *ln = ln_.data(), *qkv = qkv_.data(), *y = y_.data();
  float *branch = branch_.data(), *hidden = hidden_.data();
  const size_t nC = size_t(n) * C;
  // Attention: pre-LN reads ln1(x), post-LN reads x itself.
#pragma omp single
  if (pre) layernorm_forward(ln, nullptr, nullptr, x, p.ln1_weight, p.ln1_bias, n, C, eps);
  team_linear(qkv, pre ? ln : x, p.attn.qkv_weight, p.attn.qkv_bias, n, C, 3 * C);  // (n, 3C)
#pragma omp single
  for (int i = 0; i < n; ++i) kv_cache_append(K, V, qkv + size_t(i) * 3 * C, t0 + i, C);
#pragma omp for schedule(static)
  for (int i = 0; i < n; ++i) {  // token i sees cache rows 0 .. t0 + i
    cached_attention_forward(y + size_t(i) * C, scores_.data() + size_t(i) * scores_stride(),
                             qkv + size_t(i) * 3 * C, K, V, t0 + i, C, c.heads);
  }
  team_linear(branch, y, p.attn.proj_weight, p.attn.proj_bias, n, C, C);  // (n, C)
#pragma omp single
  {
    for (size_t j = 0; j < nC; ++j) x[j] += branch[j];  // the residual add
    if (pre) {  // the MLP reads ln2(x)
      layernorm_forward(ln, nullptr, nullptr, x, p.ln2_weight, p.ln2_bias, n, C, eps);
    } else {    // x = ln1(x + attn(x)), which the MLP reads
      layernorm_forward(x, nullptr, nullptr, x, p.ln1_weight, p.ln1_bias, n, C, eps);
    }
  }
  // The MLP: each thread applies GELU to the hidden columns it computed itself.
  const auto [begin, end] = team_rows(F);
  linear_rows(hidden, pre ? ln : x, p.mlp.fc_weight, p.mlp.fc_bias, n, C, F, begin, end);
  for (int i = 0; i < n; ++i) {  // in place, 16 at a time
    float* h = hidden + size_t(i) * F + begin;
    gelu_rows(h, h, end - begin, c.gelu);
  }
#pragma omp barrier
  team_linear(branch, hidden, p.mlp.proj_weight, p.mlp.proj_bias, n, F, C);  // (n, C)
#pragma omp single
  {
    for (size_t j = 0; j < nC; ++j) x[j] += branch[j];
    if (!pre) layernorm_forward(x, nullptr, nullptr, x, p.ln2_weight, p.ln2_bias, n, C, eps);
  }
}
// end lesson

}  // namespace gpt
