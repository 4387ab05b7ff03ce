// chapters/10_fast_cpu/cached_decoder.h — what the generation loop needs of a model with a KV cache.
//
// Generation with a cache is one loop (kv_generate.h): prefill the prompt,
// sample, append the sampled token, sample again, and re-encode the last
// half when the cache is full. The loop does not care where the model runs:
// this CPU's cache (kv_cache.h) and chapter 14's GPU generator both offer
// these five calls, and the same loop drives both.
#pragma once

#include <cstdint>

namespace gpt {

class CachedDecoder {
 public:
  virtual ~CachedDecoder() = default;
  virtual int capacity() const = 0;    // P: the most tokens the cache holds (max_length)
  virtual int length() const = 0;      // the tokens it holds now
  virtual int vocab_size() const = 0;  // V: the length of a row of logits
  // Empties the cache and encodes tokens[0..n) at positions 0..n-1, 1 <= n <= P.
  // Returns the logits after the last one (V), in host memory, valid until
  // the next call.
  virtual const float* prefill(const int32_t* tokens, int n) = 0;
  // Encodes `token` at position length() < P; returns the logits after it (V).
  virtual const float* append(int32_t token) = 0;
};

}  // namespace gpt
