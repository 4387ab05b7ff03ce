// chapters/04_multihead_attention/heads.h — one wide projection, H narrow heads.
//
// The fused QKV projection writes, for every token, [q | k | v], each C wide.
// Multi-head attention splits each of q, k, v into H heads of hs = C / H
// channels and runs attention (chapter 03) on every (batch, head) pair
// separately. split_heads lays the heads out contiguously for that; merge_heads
// puts their outputs back side by side.
#pragma once

namespace gpt {

// hs = C / H, the channels of one head. Throws std::invalid_argument
// ("heads (5) must divide embed_size (32)") unless H >= 1 divides C.
// (Defined in multihead_attention.cc; split_heads and merge_heads use it too.)
int head_size(int C, int H);

// q[b, h, t, :] = qkv[b, t, 0C + h*hs : 0C + (h+1)*hs], likewise k (1C) and v (2C).
void split_heads(float* q,            // (B, H, T, hs)
                 float* k,            // (B, H, T, hs)
                 float* v,            // (B, H, T, hs)
                 const float* qkv,    // (B, T, 3C)
                 int B, int T, int C, int H);

// out[b, t, h*hs : (h+1)*hs] = heads[b, h, t, :]
void merge_heads(float* out,          // (B, T, C)
                 const float* heads,  // (B, H, T, hs)
                 int B, int T, int C, int H);

}  // namespace gpt
