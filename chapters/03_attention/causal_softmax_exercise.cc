// chapters/03_attention/causal_softmax_exercise.cc — EXERCISE: the causal softmax.
//
//   bazel test --define=exercise=03_attention //chapters/03_attention:attention_test
// The solution is causal_softmax.cc.
#include "chapters/03_attention/causal_softmax.h"

#include <algorithm>
#include <cstdint>

#include "common/eigen_maps.h"

namespace gpt {

void causal_softmax_forward(float* weights, const float* scores, int N, int T) {
  // TODO(you): for each of the N (T, T) matrices and each row t:
  //   m = the largest of scores[t, 0..t];
  //   weights[t, s] = exp(scores[t, s] - m) / (sum over s' <= t of exp(scores[t, s'] - m))
  //   for s <= t, and exactly 0 for s > t. Never read scores above the diagonal.
  // weights may be the same buffer as scores, so read each entry before writing it.
  std::fill(weights, weights + int64_t(N) * T * T, 0.0f);
  (void)scores;
}

}  // namespace gpt
