// chapters/07_gpt/sampling.h — choosing the next token from the logits.
//
// The model gives a score (logit) for every token. To generate we turn the
// scores into probabilities and draw one token:
//   temperature τ: softmax(logits / τ); τ < 1 sharpens (τ → 0 is greedy
//                  argmax), τ > 1 flattens;
//   top-k:         only the k most likely tokens remain candidates;
//   top-p:         only the smallest set of most likely tokens whose
//                  probabilities add up to at least p ("nucleus" sampling).
// The survivors are renormalised and one is drawn with the seeded Rng, so the
// same seed gives the same text.
#pragma once

#include <cstdint>
#include <vector>

#include "common/random.h"

namespace gpt {

struct SamplingOptions {
  float temperature = 1.0f;  // 0 means greedy (always the most likely token)
  int top_k = 0;             // 0 means no top-k limit
  float top_p = 1.0f;        // 1 means no top-p limit
  void validate() const;     // throws std::invalid_argument
};

// The probabilities that sampling draws from: zero outside the candidates.
std::vector<float> sampling_distribution(const float* logits,  // (V)
                                         int V, const SamplingOptions& options);

// Draws one token id from sampling_distribution(logits).
int32_t sample_next(const float* logits,  // (V)
                    int V, const SamplingOptions& options, Rng& rng);

}  // namespace gpt
