// chapters/04_multihead_attention/heads.cc — chapter 04: splitting and merging heads.
// Exercise: heads_exercise.cc is this file with the bodies removed.
#include "chapters/04_multihead_attention/heads.h"

#include <algorithm>
#include <cstdint>

namespace gpt {

// lesson: split_heads
void split_heads(float* q, float* k, float* v, const float* qkv, int B, int T, int C, int H) {
  const int hs = head_size(C, H);
  float* const parts[3] = {q, k, v};  // qkv's three C-wide thirds, in order
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      const float* row = qkv + (int64_t(b) * T + t) * 3 * C;  // token (b, t): [q | k | v]
      for (int part = 0; part < 3; ++part) {
        for (int h = 0; h < H; ++h) {
          const float* from = row + part * C + h * hs;                     // hs floats
          float* to = parts[part] + ((int64_t(b) * H + h) * T + t) * hs;  // [b, h, t, :]
          std::copy(from, from + hs, to);
        }
      }
    }
  }
}
// end lesson

// lesson: merge_heads
void merge_heads(float* out, const float* heads, int B, int T, int C, int H) {
  const int hs = head_size(C, H);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      for (int t = 0; t < T; ++t) {
        const float* from = heads + ((int64_t(b) * H + h) * T + t) * hs;  // [b, h, t, :]
        float* to = out + (int64_t(b) * T + t) * C + h * hs;             // [b, t, h*hs :]
        std::copy(from, from + hs, to);
      }
    }
  }
}
// end lesson

}  // namespace gpt
