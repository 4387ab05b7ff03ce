// chapters/04_multihead_attention/multihead_attention.cc — chapter 04: H heads of
// chapter 03's attention between two linear projections.
#include "chapters/04_multihead_attention/multihead_attention.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/03_attention/attention.h"
#include "chapters/04_multihead_attention/heads.h"
#include "chapters/04_multihead_attention/linear.h"

namespace gpt {

int head_size(int C, int H) {
  if (H < 1 || C < 1 || C % H != 0) {
    throw std::invalid_argument("heads (" + std::to_string(H) + ") must divide embed_size (" +
                                std::to_string(C) + ")");
  }
  return C / H;
}

size_t AttentionActivations::size(int B, int T, int C, int H, const AttentionLayout& layout) {
  head_size(C, H);
  const size_t BT = size_t(B) * T;
  const bool weights = layout.weights, split = layout.split_heads;
  return BT * 3 * C                                   // qkv
         + (split ? 3 * BT * C : 0)                   // q, k, v: (B, H, T, hs) holds B*T*C floats
         + (weights ? size_t(B) * H * T * T : 0)      // weights
         + (split ? BT * C : 0)                       // y
         + BT * C;                                    // merged
}

AttentionActivations AttentionActivations::carve(float* buffer, int B, int T, int C, int H,
                                                 const AttentionLayout& layout) {
  head_size(C, H);
  const size_t BT = size_t(B) * T;
  const bool weights = layout.weights, split = layout.split_heads;
  AttentionActivations a;
  float* p = buffer;
  const auto take = [&p](size_t n) { float* start = p; p += n; return start; };
  a.qkv = take(BT * 3 * C);
  a.q = split ? take(BT * C) : nullptr;
  a.k = split ? take(BT * C) : nullptr;
  a.v = split ? take(BT * C) : nullptr;
  a.weights = weights ? take(size_t(B) * H * T * T) : nullptr;
  a.y = split ? take(BT * C) : nullptr;
  a.merged = take(BT * C);
  return a;
}

// lesson: multihead_attention_forward
void multihead_attention_forward(float* out, AttentionActivations& acts, const float* inp,
                                 const AttentionParams& params, int B, int T, int C, int H) {
  const int hs = head_size(C, H);  // throws unless H divides C
  const int BT = B * T;
  linear_forward(acts.qkv, inp, params.qkv_weight, params.qkv_bias, BT, C, 3 * C);  // (B, T, 3C)
  split_heads(acts.q, acts.k, acts.v, acts.qkv, B, T, C, H);                  // (B, H, T, hs) x3
  attention_forward(acts.y, acts.weights, acts.q, acts.k, acts.v, B * H, T, hs);  // B*H sequences
  merge_heads(acts.merged, acts.y, B, T, C, H);                               // (B, T, C)
  linear_forward(out, acts.merged, params.proj_weight, params.proj_bias, BT, C, C);  // (B, T, C)
}
// end lesson

}  // namespace gpt
