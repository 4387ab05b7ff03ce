// chapters/08_backward/heads_backward.cc — moving gradients back between layouts.
#include "chapters/08_backward/heads_backward.h"

#include <cstdint>

#include "chapters/04_multihead_attention/heads.h"
#include "common/eigen_maps.h"

namespace gpt {
namespace {

// Offset of element (b, h, t, 0) in a (B, H, T, hs) tensor, and of (b, t, 0) in (B, T, width).
int64_t head_row(int b, int h, int t, int T, int H, int hs) {
  return ((int64_t(b) * H + h) * T + t) * hs;
}
int64_t token_row(int b, int t, int T, int width) { return (int64_t(b) * T + t) * width; }

}  // namespace

void split_heads_backward(float* dqkv, const float* dq, const float* dk, const float* dv,
                          int B, int T, int C, int H) {
  const int hs = head_size(C, H);  // chapter 04: throws unless H divides C
  const float* parts[3] = {dq, dk, dv};
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int part = 0; part < 3; ++part)
        for (int h = 0; h < H; ++h) {
          VectorMap(dqkv + token_row(b, t, T, 3 * C) + part * C + h * hs, hs) +=
              ConstVectorMap(parts[part] + head_row(b, h, t, T, H, hs), hs);
        }
}

void merge_heads_backward(float* dheads, const float* dout, int B, int T, int C, int H) {
  const int hs = head_size(C, H);  // chapter 04: throws unless H divides C
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < T; ++t) {
        VectorMap(dheads + head_row(b, h, t, T, H, hs), hs) +=
            ConstVectorMap(dout + token_row(b, t, T, C) + h * hs, hs);
      }
}

}  // namespace gpt
