// chapters/10_fast_cpu/kv_generate.h — chapter 10: generation with a KV cache.
//
// The same loop as chapter 07's generate() — same signature, same sampling
// (chapter 07's sample_next, one draw of the Rng per token) — but each new
// token is appended to a KV cache (kv_cache.h) instead of re-running the whole
// context. While the prompt and the new tokens fit in max_length the text is
// the same as chapter 07's, token for token.
//
// When the cache is full (it holds max_length = P tokens and one more is
// needed), chapter 07 would crop the context to the last P tokens, which
// shifts every token to a new position: all keys and values change, and a
// cache cannot be updated, only rebuilt. Rebuilding at every token would be
// the full recompute again, so instead we keep the last max(1, P/2) tokens
// (the new one included), re-encode them from position 0 (a prefill), and go
// on appending: one rebuild every P/2 tokens. After a rebuild the model sees
// a shorter context than chapter 07's would, so the text differs from there
// on. Chapter 14's GPU generator runs through the same loop
// (generate_with_cache, over any CachedDecoder).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "chapters/07_gpt/model.h"
#include "chapters/07_gpt/sampling.h"
#include "chapters/10_fast_cpu/cached_decoder.h"
#include "chapters/10_fast_cpu/kv_cache.h"
#include "common/random.h"

namespace gpt {

// How many tokens a full cache keeps: max(1, max_length / 2).
int tokens_kept_when_full(int max_length);

// The logits after tokens.back(), given a cache that holds the context before
// it (the tokens just before tokens.back()): appends it, or, when the cache is
// full, re-encodes the last tokens_kept_when_full(P) tokens of `tokens`.
const float* advance_cache(CachedDecoder& cache, const std::vector<int32_t>& tokens);

// Throws std::invalid_argument for an empty prompt, a negative count or bad
// sampling options: a generator checks them before it allocates anything.
void check_generate_arguments(const std::vector<int32_t>& prompt, int max_new_tokens,
                              const SamplingOptions& options);

// Chapter 07's generate() over any cache: the prompt (cropped to its last P
// tokens) prefilled, then a token sampled, appended, sampled, ...
std::vector<int32_t> generate_with_cache(CachedDecoder& cache, const std::vector<int32_t>& prompt,
                                         int max_new_tokens, const SamplingOptions& options,
                                         Rng& rng,
                                         const std::function<void(int32_t)>& on_token = nullptr);

// Chapter 07's generate(), with a KV cache. threads <= 0: all available
// OpenMP threads (OMP_NUM_THREADS, or the cores); adapt: per token, only as
// many of them as other processes leave cores free (free_cores.h).
std::vector<int32_t> generate_with_kv_cache(const GPTModel& model,
                                            const std::vector<int32_t>& prompt,
                                            int max_new_tokens, const SamplingOptions& options,
                                            Rng& rng,
                                            const std::function<void(int32_t)>& on_token = nullptr,
                                            int threads = 0, bool adapt = false);

}  // namespace gpt
