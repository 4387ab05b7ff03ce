// chapters/08_backward/attention_backward.cc — attention's backward, one sequence at a time.
// Exercise: attention_backward_exercise.cc is this file with the body removed.
#include "chapters/08_backward/attention_backward.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "chapters/08_backward/causal_softmax_backward.h"
#include "common/eigen_maps.h"

namespace gpt {

// lesson: attention_backward
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* weights, int N, int T,
                        int hs) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  RowMatrix dW(T, T), dS(T, T);  // scratch for one sequence
  for (int n = 0; n < N; ++n) {
    const int64_t x = int64_t(n) * T * hs, w = int64_t(n) * T * T;  // offsets of sequence n
    ConstMatrixMap Q(q + x, T, hs), K(k + x, T, hs), V(v + x, T, hs), dO(dout + x, T, hs);
    ConstMatrixMap W(weights + w, T, T);
    MatrixMap(dv + x, T, hs).noalias() += W.transpose() * dO;
    dW.noalias() = dO * V.transpose();
    dS.setZero();  // causal_softmax_backward adds, and leaves s > t at zero
    causal_softmax_backward(dS.data(), dW.data(), W.data(), 1, T);
    MatrixMap(dq + x, T, hs).noalias() += scale * (dS * K);
    MatrixMap(dk + x, T, hs).noalias() += scale * (dS.transpose() * Q);
  }
}
// end lesson

}  // namespace gpt
