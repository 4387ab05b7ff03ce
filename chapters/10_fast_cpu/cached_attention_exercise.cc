// chapters/10_fast_cpu/cached_attention_exercise.cc — YOUR TURN (chapter 10).
//
// Write the two halves of a KV cache's attention step (cached_attention.h
// states the contract; the lesson's "Generation with a KV cache" teaches it;
// HINTS.md has graded hints):
//   kv_cache_append:          store the new token's key and value (in its
//                             fused qkv) as row t of the layer's caches;
//   cached_attention_forward: the new token's multi-head attention output
//                             over cache rows 0..t, heads merged.
// Check: bazel test --define=exercise=10_fast_cpu/cached_attention //chapters/10_fast_cpu/...
#include "chapters/10_fast_cpu/cached_attention.h"

#include <stdexcept>

namespace gpt {

void kv_cache_append(float* /*k_cache*/, float* /*v_cache*/, const float* /*qkv*/, int /*t*/,
                     int /*C*/) {
  // TODO: see HINTS.md.
}

void cached_attention_forward(float* out, float* /*scores*/, const float* /*q*/,
                              const float* /*k_cache*/, const float* /*v_cache*/, int t, int C,
                              int H) {
  if (t < 0 || C < 1 || H < 1 || C % H != 0) {
    throw std::invalid_argument("cached_attention_forward needs t >= 0 and H dividing C");
  }
  // TODO: every head's attention over cache rows 0..t (HINTS.md).
  for (int c = 0; c < C; ++c) out[c] = 0.0f;
}

}  // namespace gpt
