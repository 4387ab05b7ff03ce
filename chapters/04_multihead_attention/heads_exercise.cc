// chapters/04_multihead_attention/heads_exercise.cc — EXERCISE: splitting and merging heads.
//
//   bazel test --define=exercise=04_multihead_attention //chapters/04_multihead_attention:multihead_attention_test
// The solution is heads.cc.
#include "chapters/04_multihead_attention/heads.h"

#include <algorithm>
#include <cstdint>

namespace gpt {

void split_heads(float* q, float* k, float* v, const float* qkv, int B, int T, int C, int H) {
  // TODO(you): with hs = head_size(C, H) (it throws when H does not divide C),
  // copy the hs floats at qkv[b, t, part*C + h*hs] (part 0 = q, 1 = k, 2 = v)
  // to q, k or v at [b, h, t, :], that is offset ((b*H + h)*T + t)*hs.
  const int64_t n = int64_t(B) * T * C;
  std::fill(q, q + n, 0.0f), std::fill(k, k + n, 0.0f), std::fill(v, v + n, 0.0f);
  (void)qkv, (void)H;
}

void merge_heads(float* out, const float* heads, int B, int T, int C, int H) {
  // TODO(you): the inverse of one part of split_heads: heads[b, h, t, :]
  // (hs floats) goes to out[b, t, h*hs : (h+1)*hs].
  std::fill(out, out + int64_t(B) * T * C, 0.0f);
  (void)heads, (void)H;
}

}  // namespace gpt
