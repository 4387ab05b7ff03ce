// chapters/10_fast_cpu/kv_cache.h — chapter 10: a GPT that reads one token at a time.
//
// Chapter 07's generate() runs the whole context through the model for every
// new token, although only the new token's row of each layer is new: for a
// context of T tokens it does T times the work it needs. A KV cache keeps
// every layer's keys and values of the tokens seen so far, so a step pushes
// ONE token through the model: its embedding, per layer a LayerNorm, the
// QKV projection (whose k and v join the cache), attention of its query over
// the cache (cached_attention.h), the output projection and the MLP, then the
// final LayerNorm and lm_head. Each linear layer is then a matrix-vector
// product (matvec.h), shared by OpenMP threads.
//
// A prefill (the prompt, or a context re-encoded after the cache filled up)
// is the same computation for n tokens at once: the linear layers become
// small matrix products that read each weight once for all n tokens, and
// token i attends to cache rows 0..i. It gives the same bits as n appends.
//
// The model is chapter 07's gpt_forward_tokens, unchanged: what is new is
// the ops it runs on (TeamOps, kv_cache.cc), whose attention reads and
// extends the cache, and whose every step is shared by a team of threads.
//
// The cache keeps each GROUP of heads apart: per layer and group, the keys
// (P, w) then the values (P, w), w = C / G columns, G = head_groups(): to
// cached_attention_forward a group's cache is a cache of its own, of H / G
// heads side by side. So a team of threads can split the attention of ONE
// token (an append) by groups, not only the tokens of a prefill; and a
// group's past keys are one contiguous block, which streams from memory
// faster than H / G heads' columns picked out of every C-wide row. The groups
// are fixed by H alone (never by the thread count): every number is computed
// the same way with 1 thread or 2, in a prefill or in appends.
//
// Everything a step touches is allocated once, here: the cache
// (L, G, 2, P, w) and scratch tensors for up to P tokens. A step allocates
// nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"
#include "chapters/10_fast_cpu/cached_decoder.h"
#include "common/aligned_vector.h"

namespace gpt {

// The activations of a step of n <= P new tokens, as chapter 07's
// gpt_forward_tokens writes them: views into the cache's scratch. Nothing is
// kept for a backward pass, so every layer shares one set of buffers, the
// residual stream alternates between two, and there are no LayerNorm
// statistics or dropout masks.
struct DecodeActivations : ActivationViews {
  DecodeActivations(const GPTConfig& config, int capacity);
  void carve(int B, int T) override;  // B = 1, T = n <= capacity

 private:
  GPTConfig config_;
  int capacity_;
  AlignedVector<float> stream_[2];  // (n, C) the residual stream, before and after a block
  AlignedVector<float> ln_;         // (n, C) a LayerNorm's output
  AlignedVector<float> residual_;   // (n, C) the stream after a residual add
  AlignedVector<float> branch_;     // (n, C) a sub-layer's output, before its residual add
  AlignedVector<float> qkv_;        // (n, 3C)
  AlignedVector<float> y_;          // (n, C) attention output, heads merged
  AlignedVector<float> hidden_;     // (n, F) the MLP's hidden layer, GELU in place
  AlignedVector<float> logits_;     // (V) after the last token only
  std::vector<int32_t> ids_;        // (n) the tokens
};

class KVCache : public CachedDecoder {
 public:
  // A cache for `model`, which must outlive it. threads <= 0: all the OpenMP
  // threads available (omp_get_max_threads(), i.e. OMP_NUM_THREADS or the cores).
  // adapt: each token runs only as many of them as other processes leave
  // cores free (free_cores.h).
  explicit KVCache(const GPTModel& model, int threads = 0, bool adapt = false);

  int length() const override { return length_; }      // positions filled
  int capacity() const override { return capacity_; }  // max_length: P
  int vocab_size() const override { return model_.config.vocab_size; }
  int threads() const { return threads_; }  // at most

  // Empties the cache and encodes tokens[0..n) at positions 0..n-1 (a
  // "prefill"); returns the logits after the last one (V). 1 <= n <= P.
  const float* prefill(const int32_t* tokens, int n) override;

  // Encodes `token` at position length() < P; returns its logits (V), the
  // scores of the token after it. The pointer stays valid until the next call.
  const float* append(int32_t token) override;

  // G: heads are cached in groups of the smallest divisor of H above 1 (H
  // prime: all H in one group). 12 heads: 6 groups of 2.
  int head_groups() const { return head_groups_; }
  // Layer l's cached keys of head group g, (P, w) with w = C / G; its values follow them.
  float* keys(int l, int g) {
    const size_t block = size_t(2) * capacity_ * group_width();  // (2, P, w)
    return cache_.data() + (size_t(l) * head_groups_ + g) * block;
  }
  // The q, k and v of head group g for token i of a step, side by side:
  // (3w), laid out as cached_attention.h's functions read a token's qkv.
  float* group_qkv(int i, int g) {
    return group_qkv_.data() + size_t(i) * 3 * model_.config.embed_size + size_t(g) * 3 * group_width();
  }
  // Attention scores for the calling thread of the team, (scores_stride()) floats.
  float* scores(int thread) { return scores_.data() + size_t(thread) * scores_stride(); }

 private:
  // Encodes tokens[0..n) at positions t0..t0+n-1 behind cache rows 0..t0-1.
  const float* encode(const int32_t* tokens, int n, int t0);

  const GPTModel& model_;
  GPTWeights w_;
  int capacity_, threads_;
  bool adapt_;
  int head_groups_;
  int length_ = 0;
  AlignedVector<float> cache_;      // (L, G, 2, P, w)
  DecodeActivations acts_;          // a step's tensors
  AlignedVector<float> group_qkv_;  // (n, G, 3w) a step's qkv, by head group
  AlignedVector<float> scores_;     // (threads, scores_stride()) attention scores, a row per thread
  int group_width() const { return model_.config.embed_size / head_groups_; }  // w
  // Rows start 64-byte aligned, as the first one does: Eigen's vectorised sums
  // begin at the first aligned element, so an aligned start keeps a prefill's
  // sums in the same order as an append's (the same bits).
  int scores_stride() const { return (capacity_ + 15) / 16 * 16; }
};

}  // namespace gpt
