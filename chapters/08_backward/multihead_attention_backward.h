// chapters/08_backward/multihead_attention_backward.h — gradients of multi-head attention.
//
// The forward (chapter 04) is five steps; the backward runs their backwards in
// the opposite order, each step's input gradient becoming the previous step's
// dout:
//   linear_backward(proj)  → dmerged
//   merge_heads_backward   → dy        (B, H, T, hs)
//   attention_backward     → dq, dk, dv
//   split_heads_backward   → dqkv      (B, T, 3C)
//   linear_backward(qkv)   → dinp, and the four parameter gradients
//
// The intermediate gradients have exactly the shapes of the activations, so
// they live in a second AttentionActivations (`dacts`, carved like the
// forward's) that serves as scratch. Its `weights` field is not used: the
// attention backward keeps its (T, T) gradients per sequence.
//
// Convention (every backward in chapter 08): ADDS into dinp and into every
// gradient of `grads`. `dacts` is scratch: this function overwrites it.
#pragma once

#include "chapters/04_multihead_attention/multihead_attention.h"

namespace gpt {

// Gradients of AttentionParams, field by field (float*: they are written).
struct AttentionGrads {
  float* qkv_weight;   // (3C, C)
  float* qkv_bias;     // (3C)
  float* proj_weight;  // (C, C)
  float* proj_bias;    // (C)
};

// Throws std::invalid_argument when H does not divide C.
void multihead_attention_backward(float* dinp,                        // (B, T, C), accumulated
                                  const AttentionGrads& grads,        // accumulated
                                  AttentionActivations& dacts,        // scratch, overwritten
                                  const float* dout,                  // (B, T, C)
                                  const float* inp,                   // (B, T, C)
                                  const AttentionActivations& acts,   // saved by the forward
                                  const AttentionParams& params,
                                  int B, int T, int C, int H);

}  // namespace gpt
