// chapters/10_fast_cpu/cached_attention.h — chapter 10: attention for ONE new
// token, against the keys and values of the tokens before it.
//
// Generating token t+1 needs only the last row of the (T, T) attention of
// chapter 03: the new token's query against the keys of positions 0..t. The
// keys and values of positions 0..t-1 do not change when a token is added
// (causal attention: a position never looks ahead), so we keep them, one row
// per position, in a cache, and each step computes just one new row:
//
//   K[t], V[t] = k, v of the new token                 append: (C) each
//   w_h        = softmax(q_h · K[0..t, h]ᵀ / √hs)       (t + 1) per head h
//   out_h      = w_h · V[0..t, h]                       (hs) per head
//
// A cache is (P, C) per layer for K and for V: row s holds position s's
// keys for all heads side by side (head h in columns h·hs .. h·hs + hs - 1),
// exactly as the fused QKV projection writes them.
#pragma once

namespace gpt {

// Copies the new token's key and value (the second and third C-wide parts of
// its fused qkv) into row t of the layer's caches.
void kv_cache_append(float* k_cache,    // (P, C): rows 0..t-1 already filled
                     float* v_cache,    // (P, C)
                     const float* qkv,  // (3C): the new token's q, k, v
                     int t, int C);

// The new token's multi-head attention output (heads merged, as chapter 04's
// merge_heads leaves them) over cache rows 0..t, row t being its own.
// Throws std::invalid_argument unless t >= 0, C >= 1 and H divides C.
void cached_attention_forward(float* out,            // (C)
                              float* scores,         // (t + 1): scratch
                              const float* q,        // (C): the new token's query
                              const float* k_cache,  // (P, C), rows 0..t used
                              const float* v_cache,  // (P, C), rows 0..t used
                              int t, int C, int H);

}  // namespace gpt
