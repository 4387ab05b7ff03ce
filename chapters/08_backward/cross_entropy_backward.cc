// chapters/08_backward/cross_entropy_backward.cc — probabilities minus the answer.
#include "chapters/08_backward/cross_entropy_backward.h"

#include <stdexcept>
#include <string>

namespace gpt {

// lesson: cross_entropy_backward
void cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                            const int32_t* targets, int N, int V) {
  const float scale = dloss / static_cast<float>(N);  // the loss is a mean over N positions
  for (int n = 0; n < N; ++n) {
    const int32_t target = targets[n];
    if (target < 0 || target >= V) {
      throw std::out_of_range("target " + std::to_string(target) + " at position " +
                              std::to_string(n) + " is outside the vocabulary [0, " +
                              std::to_string(V) + ")");
    }
    const float* p = probs + int64_t(n) * V;
    float* d = dlogits + int64_t(n) * V;
    for (int v = 0; v < V; ++v) {
      d[v] += scale * (p[v] - (v == target ? 1.0f : 0.0f));
    }
  }
}
// end lesson

}  // namespace gpt
