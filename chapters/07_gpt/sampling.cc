// chapters/07_gpt/sampling.cc — checking the options, and drawing one token.
// (The distribution itself, the part you write, is in sampling_distribution.cc.)
#include "chapters/07_gpt/sampling.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

void SamplingOptions::validate() const {
  if (!(temperature >= 0.0f) || std::isinf(temperature)) {
    throw std::invalid_argument("temperature must be >= 0, got " + std::to_string(temperature));
  }
  if (top_k < 0) throw std::invalid_argument("top_k must be >= 0, got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    throw std::invalid_argument("top_p must be in (0, 1], got " + std::to_string(top_p));
  }
}

int32_t sample_next(const float* logits, int V, const SamplingOptions& options, Rng& rng) {
  const std::vector<float> probs = sampling_distribution(logits, V, options);
  const double u = rng.uniform();  // in [0, 1)
  double cumulative = 0.0;
  int32_t likeliest = -1;
  for (int32_t id = 0; id < V; ++id) {
    if (probs[id] == 0.0f) continue;
    cumulative += probs[id];
    if (u < cumulative) return id;
    if (likeliest < 0 || probs[id] > probs[likeliest]) likeliest = id;
  }
  return likeliest;  // rounding left u just above the total: take the likeliest candidate
}

}  // namespace gpt
