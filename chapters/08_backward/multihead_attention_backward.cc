// chapters/08_backward/multihead_attention_backward.cc — the forward's steps, reversed.
#include "chapters/08_backward/multihead_attention_backward.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/08_backward/attention_backward.h"
#include "chapters/04_multihead_attention/heads.h"
#include "chapters/08_backward/heads_backward.h"
#include "chapters/08_backward/linear_backward.h"

namespace gpt {

// lesson: multihead_attention_backward
void multihead_attention_backward(float* dinp, const AttentionGrads& grads,
                                  AttentionActivations& dacts, const float* dout,
                                  const float* inp, const AttentionActivations& acts,
                                  const AttentionParams& params, int B, int T, int C, int H) {
  const int hs = head_size(C, H), BT = B * T;  // chapter 04: throws unless H divides C
  // The scratch gradients start at zero: every step below adds into them.
  for (float* d : {dacts.merged, dacts.y, dacts.q, dacts.k, dacts.v}) {
    std::fill_n(d, int64_t(BT) * C, 0.0f);
  }
  std::fill_n(dacts.qkv, int64_t(BT) * 3 * C, 0.0f);

  linear_backward(dacts.merged, grads.proj_weight, grads.proj_bias, dout, acts.merged,
                  params.proj_weight, BT, C, C);
  merge_heads_backward(dacts.y, dacts.merged, B, T, C, H);
  attention_backward(dacts.q, dacts.k, dacts.v, dacts.y, acts.q, acts.k, acts.v, acts.weights,
                     B * H, T, hs);
  split_heads_backward(dacts.qkv, dacts.q, dacts.k, dacts.v, B, T, C, H);
  linear_backward(dinp, grads.qkv_weight, grads.qkv_bias, dacts.qkv, inp, params.qkv_weight,
                  BT, C, 3 * C);
}
// end lesson

}  // namespace gpt
