// chapters/10_fast_cpu/cached_attention_exercise.cc — YOUR TURN (chapter 10).
//
// Write the two halves of a KV cache's attention step (cached_attention.h):
//   kv_cache_append:          copy the new token's k and v (parts 2 and 3 of its
//                             fused qkv, C floats each) into row t of the caches;
//   cached_attention_forward: for each head, the scores of the query against
//                             cache rows 0..t (scaled by 1/√hs), their softmax,
//                             and the weighted sum of the value rows.
// Check: bazel test --define=exercise=10_fast_cpu //chapters/10_fast_cpu:generation_test
#include "chapters/10_fast_cpu/cached_attention.h"

#include <stdexcept>

namespace gpt {

void kv_cache_append(float* /*k_cache*/, float* /*v_cache*/, const float* /*qkv*/, int /*t*/,
                     int /*C*/) {
  // TODO: k_cache row t = qkv[C .. 2C), v_cache row t = qkv[2C .. 3C).
}

void cached_attention_forward(float* out, float* /*scores*/, const float* /*q*/,
                              const float* /*k_cache*/, const float* /*v_cache*/, int t, int C,
                              int H) {
  if (t < 0 || C < 1 || H < 1 || C % H != 0) {
    throw std::invalid_argument("cached_attention_forward needs t >= 0 and H dividing C");
  }
  // TODO: per head h (hs = C / H channels): scores over rows 0..t, softmax, weighted values.
  for (int c = 0; c < C; ++c) out[c] = 0.0f;
}

}  // namespace gpt
