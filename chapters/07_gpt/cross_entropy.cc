// chapters/07_gpt/cross_entropy.cc — softmax and negative log-likelihood.
#include "chapters/07_gpt/cross_entropy.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: cross_entropy
float cross_entropy_forward(float* losses, float* probs, const float* logits,
                            const int32_t* targets, int N, int V) {
  ConstMatrixMap z(logits, N, V);  // (N, V)
  MatrixMap p(probs, N, V);        // (N, V)
  double total = 0.0;
  for (int n = 0; n < N; ++n) {
    if (targets[n] < 0 || targets[n] >= V) {
      throw std::out_of_range("target " + std::to_string(targets[n]) + " at position " +
                              std::to_string(n) + " is outside the vocabulary [0, " +
                              std::to_string(V) + ")");
    }
    const float max = z.row(n).maxCoeff();       // subtract it: exp never overflows
    p.row(n) = (z.row(n).array() - max).exp();
    const float sum = p.row(n).sum();
    p.row(n) /= sum;
    // −log p[target] = log(sum) − (z[target] − max), without log(0) for tiny p
    losses[n] = std::log(sum) - (z(n, targets[n]) - max);
    total += losses[n];
  }
  return static_cast<float>(total / N);
}
// end lesson

}  // namespace gpt
