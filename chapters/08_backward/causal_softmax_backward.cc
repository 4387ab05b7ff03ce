// chapters/08_backward/causal_softmax_backward.cc — softmax's Jacobian, never built.
#include "chapters/08_backward/causal_softmax_backward.h"

#include <cstdint>

namespace gpt {

// lesson: causal_softmax_backward
void causal_softmax_backward(float* dscores, const float* dweights, const float* weights,
                             int N, int T) {
  for (int64_t row = 0; row < int64_t(N) * T; ++row) {  // row n*T + t of (N*T, T)
    const int t = static_cast<int>(row % T);
    const float* w = weights + row * T;
    const float* dw = dweights + row * T;
    float* ds = dscores + row * T;
    float weighted = 0.0f;  // Σ_j w_j dw_j over the visible columns
    for (int s = 0; s <= t; ++s) weighted += w[s] * dw[s];
    for (int s = 0; s <= t; ++s) ds[s] += w[s] * (dw[s] - weighted);
  }
}
// end lesson

}  // namespace gpt
