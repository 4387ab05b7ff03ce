// chapters/04_multihead_attention/multihead_attention.h — H heads, side by side.
//
//   qkv     = linear(x, qkv_weight, qkv_bias)       (B, T, 3C)  one fused projection
//   q, k, v = split_heads(qkv)                      (B, H, T, hs) each
//   y       = attention(q, k, v)                    (B, H, T, hs), weights (B, H, T, T)
//   merged  = merge_heads(y)                        (B, T, C)
//   out     = linear(merged, proj_weight, proj_bias) (B, T, C)
//
// Each head attends with its own hs = C / H channels, so different heads can
// look for different things (the previous word, the subject of the sentence)
// at the cost of one head's worth of compute in total.
#pragma once

#include <cstddef>

namespace gpt {

struct AttentionParams {
  const float* qkv_weight;   // (3C, C)
  const float* qkv_bias;     // (3C)
  const float* proj_weight;  // (C, C)
  const float* proj_bias;    // (C)
};

// What an engine's attention activations leave out (chapters 14 and 17):
// by default, nothing.
struct AttentionLayout {
  // false: no (B, H, T, T) weights, for an engine whose fused attention
  // keeps only a logsumexp (chapter 14).
  bool weights = true;
  // false: no q, k, v and y, for one whose attention reads the heads inside
  // qkv and writes them into merged (chapter 17).
  bool split_heads = true;
};

// The intermediate tensors, kept for inspection and for the backward pass.
struct AttentionActivations {
  float* qkv;      // (B, T, 3C)
  float* q;        // (B, H, T, hs)
  float* k;        // (B, H, T, hs)
  float* v;        // (B, H, T, hs)
  float* weights;  // (B, H, T, T)
  float* y;        // (B, H, T, hs)
  float* merged;   // (B, T, C)
  // (B, H, T) each row's softmax logsumexp, for engines whose fused attention
  // keeps it instead of `weights` (chapter 13); not carved here: nullptr.
  float* lse = nullptr;

  // Floats needed by all of the above, and how to carve them out of one buffer:
  // the tensors lie one after another in the order listed, but for those
  // `layout` leaves out (nullptr). Both throw std::invalid_argument when H
  // does not divide C.
  static size_t size(int B, int T, int C, int H, const AttentionLayout& layout = {});
  static AttentionActivations carve(float* buffer, int B, int T, int C, int H,
                                    const AttentionLayout& layout = {});
};

// Throws std::invalid_argument when H does not divide C.
void multihead_attention_forward(float* out,                  // (B, T, C)
                                 AttentionActivations& acts,
                                 const float* inp,            // (B, T, C)
                                 const AttentionParams& params,
                                 int B, int T, int C, int H);

}  // namespace gpt
