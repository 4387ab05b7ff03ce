// chapters/03_attention/attention.cc — chapter 03: scaled dot-product attention, one head.
// Exercise: attention_exercise.cc is this file with the body removed.
#include "chapters/03_attention/attention.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/03_attention/causal_softmax.h"
#include "common/eigen_maps.h"

namespace gpt {
namespace {

void check_attention_sizes(int N, int T, int hs) {
  if (N < 0 || T < 1 || hs < 1) {
    throw std::invalid_argument("attention needs N >= 0, T >= 1 and hs >= 1, got N=" +
                                std::to_string(N) + ", T=" + std::to_string(T) +
                                ", hs=" + std::to_string(hs));
  }
}

}  // namespace

// lesson: attention_forward
void attention_forward(float* out, float* weights, const float* q, const float* k,
                       const float* v, int N, int T, int hs) {
  check_attention_sizes(N, T, hs);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  for (int n = 0; n < N; ++n) {
    const int64_t seq = int64_t(n) * T * hs;  // start of sequence n in q, k, v, out
    ConstMatrixMap Q(q + seq, T, hs), K(k + seq, T, hs), V(v + seq, T, hs);  // (T, hs)
    MatrixMap W(weights + int64_t(n) * T * T, T, T);                        // (T, T)
    MatrixMap Y(out + seq, T, hs);                                          // (T, hs)
    W.noalias() = (Q * K.transpose()) * scale;  // scores: query t · key s, for all t, s
    causal_softmax_forward(W.data(), W.data(), 1, T);  // in place: scores become weights
    Y.noalias() = W * V;  // row t: the weighted average of the values of 0..t
  }
}
// end lesson

}  // namespace gpt
