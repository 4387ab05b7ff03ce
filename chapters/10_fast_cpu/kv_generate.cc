// chapters/10_fast_cpu/kv_generate.cc — chapter 10: the generation loop over a KV cache.
#include "chapters/10_fast_cpu/kv_generate.h"

#include <algorithm>
#include <stdexcept>

namespace gpt {

int tokens_kept_when_full(int max_length) { return std::max(1, max_length / 2); }

// lesson: advance
const float* advance_cache(CachedDecoder& cache, const std::vector<int32_t>& tokens) {
  if (cache.length() < cache.capacity()) return cache.append(tokens.back());
  const int keep = tokens_kept_when_full(cache.capacity());  // full: slide the window
  return cache.prefill(tokens.data() + tokens.size() - keep, keep);
}
// end lesson

void check_generate_arguments(const std::vector<int32_t>& prompt, int max_new_tokens,
                              const SamplingOptions& options) {
  if (prompt.empty()) throw std::invalid_argument("generation needs a prompt of at least one token");
  if (max_new_tokens < 0) throw std::invalid_argument("max_new_tokens must be >= 0");
  options.validate();
}

// lesson: generate_with_cache
std::vector<int32_t> generate_with_cache(CachedDecoder& cache, const std::vector<int32_t>& prompt,
                                         int max_new_tokens, const SamplingOptions& options,
                                         Rng& rng, const std::function<void(int32_t)>& on_token) {
  check_generate_arguments(prompt, max_new_tokens, options);
  std::vector<int32_t> tokens = prompt;
  if (max_new_tokens == 0) return tokens;
  const int V = cache.vocab_size();
  const int T = std::min<int>(static_cast<int>(prompt.size()), cache.capacity());  // crop
  const float* logits = cache.prefill(prompt.data() + prompt.size() - T, T);        // (V)
  for (int step = 0; step < max_new_tokens; ++step) {
    const int32_t next = sample_next(logits, V, options, rng);  // chapter 07's sampling
    tokens.push_back(next);
    if (on_token) on_token(next);
    if (step + 1 < max_new_tokens) logits = advance_cache(cache, tokens);
  }
  return tokens;
}
// end lesson

std::vector<int32_t> generate_with_kv_cache(const GPTModel& model,
                                            const std::vector<int32_t>& prompt,
                                            int max_new_tokens, const SamplingOptions& options,
                                            Rng& rng, const std::function<void(int32_t)>& on_token,
                                            int threads, bool adapt) {
  check_generate_arguments(prompt, max_new_tokens, options);  // before allocating the cache
  if (max_new_tokens == 0) return prompt;
  KVCache cache(model, threads, adapt);
  return generate_with_cache(cache, prompt, max_new_tokens, options, rng, on_token);
}

}  // namespace gpt
