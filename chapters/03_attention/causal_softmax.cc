// chapters/03_attention/causal_softmax.cc — chapter 03: masked, numerically stable softmax.
// Exercise: causal_softmax_exercise.cc is this file with the body removed.
#include "chapters/03_attention/causal_softmax.h"

#include <cstdint>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: causal_softmax_forward
void causal_softmax_forward(float* weights, const float* scores, int N, int T) {
  for (int n = 0; n < N; ++n) {
    const int64_t offset = int64_t(n) * T * T;
    ConstMatrixMap s(scores + offset, T, T);  // (T, T)
    MatrixMap w(weights + offset, T, T);      // (T, T), may be the same memory as s
    for (int t = 0; t < T; ++t) {
      // Row t may look at columns 0..t only: the past and itself.
      const float m = s.row(t).head(t + 1).maxCoeff();
      // Every exponent is <= 0, so exp never overflows; the largest term is exactly 1.
      w.row(t).head(t + 1) = (s.row(t).head(t + 1).array() - m).exp().matrix();
      w.row(t).head(t + 1) /= w.row(t).head(t + 1).sum();
      w.row(t).tail(T - t - 1).setZero();  // the future gets weight exactly 0
    }
  }
}
// end lesson

}  // namespace gpt
