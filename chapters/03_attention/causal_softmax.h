// chapters/03_attention/causal_softmax.h — scores to attention weights.
//
// Row t of a (T, T) score matrix says how much query t matches each key. The
// causal mask lets position t look only at positions 0..t (the past and
// itself): columns t+1..T-1 get weight exactly 0. The remaining entries are
// exponentiated and normalised to sum to 1, after subtracting the row's
// maximum so that exp never overflows (softmax(x) = softmax(x - max x)).
#pragma once

namespace gpt {

// For each of the N independent (T, T) matrices, row by row:
//   weights[n, t, s] = exp(scores[n, t, s] - m) / sum_{s' <= t} exp(scores[n, t, s'] - m)
//   for s <= t, with m = max_{s' <= t} scores[n, t, s'], and 0 for s > t.
// Entries of `scores` above the diagonal are never read. `weights` may alias `scores`.
void causal_softmax_forward(float* weights,       // (N, T, T)
                            const float* scores,  // (N, T, T)
                            int N, int T);

}  // namespace gpt
