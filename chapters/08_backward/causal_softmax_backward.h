// chapters/08_backward/causal_softmax_backward.h — gradients through softmax.
//
// Forward (chapter 03), row by row: w = softmax(s) over s' <= t, 0 above the
// diagonal. Each weight depends on every score of its row (they share the
// normaliser), and ∂w_j/∂s_i = w_j (δ_ij − w_i). Summing over j:
//   ds_i = Σ_j dw_j · w_j (δ_ij − w_i) = w_i · (dw_i − Σ_j w_j dw_j)
// Each score's gradient is its weight times how much its own upstream gradient
// exceeds the weighted average of the row's. Only the forward's OUTPUT w is
// needed, not the scores: the forward keeps the weights for this.
//
// Masked entries (s > t) were never read by the forward, so they get no
// gradient: this op leaves them untouched.
//
// Convention (every backward in chapter 08): ADDS into dscores.
#pragma once

namespace gpt {

void causal_softmax_backward(float* dscores,         // (N, T, T), accumulated on s <= t
                             const float* dweights,  // (N, T, T); entries s > t are ignored
                             const float* weights,   // (N, T, T): the forward's output
                             int N, int T);

}  // namespace gpt
