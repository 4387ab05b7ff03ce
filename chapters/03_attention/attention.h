// chapters/03_attention/attention.h — scaled dot-product attention, one head.
//
// Every position t asks a question (its query q[t]), every position s offers
// an answer key k[s] and a value v[s]. Position t's output is the average of
// the values of positions 0..t, weighted by how well each key answers its query:
//
//   scores  = q · kᵀ / sqrt(hs)                 (T, T)
//   weights = causal_softmax(scores)            (T, T), row t sums to 1 over s <= t
//   out     = weights · v                       (T, hs)
//
// N independent sequences (a batch, or a batch times heads in chapter 04) are
// processed one after another. Throws std::invalid_argument unless T >= 1 and
// hs >= 1.
#pragma once

namespace gpt {

void attention_forward(float* out,        // (N, T, hs)
                       float* weights,    // (N, T, T): the attention weights, kept for
                                          // inspection and for the backward pass
                       const float* q,    // (N, T, hs)
                       const float* k,    // (N, T, hs)
                       const float* v,    // (N, T, hs)
                       int N, int T, int hs);

}  // namespace gpt
