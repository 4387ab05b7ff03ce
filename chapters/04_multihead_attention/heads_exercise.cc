// chapters/04_multihead_attention/heads_exercise.cc — EXERCISE: splitting and merging heads.
//
//   bazel test --define=exercise=04_multihead_attention/heads //chapters/04_multihead_attention/...
// Stuck? chapters/04_multihead_attention/HINTS.md has three graded hints; the
// lesson's folded solution is the last resort.
#include "chapters/04_multihead_attention/heads.h"

#include <algorithm>
#include <cstdint>

namespace gpt {

void split_heads(float* q, float* k, float* v, const float* qkv, int B, int T, int C, int H) {
  // TODO(you): qkv (B, T, 3C) → q, k, v (B, H, T, hs), as heads.h says. Use
  // head_size(C, H): it throws std::invalid_argument unless H divides C.
  const int64_t n = int64_t(B) * T * C;
  std::fill(q, q + n, 0.0f), std::fill(k, k + n, 0.0f), std::fill(v, v + n, 0.0f);
  (void)qkv, (void)H;
}

void merge_heads(float* out, const float* heads, int B, int T, int C, int H) {
  // TODO(you): heads (B, H, T, hs) → out (B, T, C), the inverse of one part
  // of split_heads (heads.h).
  std::fill(out, out + int64_t(B) * T * C, 0.0f);
  (void)heads, (void)H;
}

}  // namespace gpt
