// chapters/07_gpt/sampling_distribution.cc — temperature, top-k and top-p.
// Exercise: sampling_distribution_exercise.cc is this file with the body removed.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "chapters/07_gpt/sampling.h"

namespace gpt {

// lesson: distribution
std::vector<float> sampling_distribution(const float* logits, int V, const SamplingOptions& o) {
  o.validate();
  for (int i = 0; i < V; ++i) {
    if (std::isnan(logits[i])) {
      throw std::invalid_argument("logit " + std::to_string(i) + " is NaN: the model is broken");
    }
  }
  std::vector<float> probs(V, 0.0f);
  const int best = static_cast<int>(std::max_element(logits, logits + V) - logits);
  if (o.temperature == 0.0f) {  // greedy: all the probability on the argmax
    probs[best] = 1.0f;
    return probs;
  }
  // Candidates, most likely first.
  std::vector<int> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  const int k = (o.top_k > 0 && o.top_k < V) ? o.top_k : V;
  // Softmax of logits / temperature over the top k (the max first: no overflow).
  double sum = 0.0;
  for (int i = 0; i < k; ++i) {
    const int id = order[i];
    probs[id] = static_cast<float>(std::exp((logits[id] - logits[best]) / o.temperature));
    sum += probs[id];
  }
  // Keep the smallest prefix whose probability reaches top_p; drop the rest.
  double kept = 0.0;
  int survivors = 0;
  while (survivors < k && kept < o.top_p * sum) kept += probs[order[survivors++]];
  for (int i = survivors; i < k; ++i) probs[order[i]] = 0.0f;
  for (int i = 0; i < survivors; ++i) probs[order[i]] = static_cast<float>(probs[order[i]] / kept);
  return probs;
}
// end lesson

}  // namespace gpt
