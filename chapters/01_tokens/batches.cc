// chapters/01_tokens/batches.cc — sampling a batch of next-token examples.
// Exercise: batches_exercise.cc is this file with the body removed.
#include "chapters/01_tokens/batches.h"

#include <stdexcept>
#include <string>

namespace gpt {

// lesson: sample_batch
Batch sample_batch(const std::vector<int32_t>& tokens, int B, int T, Rng& rng) {
  if (B <= 0 || T <= 0) {
    throw std::invalid_argument("batch size and block size must be positive, got B=" +
                                std::to_string(B) + ", T=" + std::to_string(T));
  }
  if (tokens.size() < static_cast<size_t>(T) + 1) {
    throw std::invalid_argument("the text has " + std::to_string(tokens.size()) +
                                " tokens, fewer than one block of T + 1 = " +
                                std::to_string(T + 1));
  }
  Batch batch{B, T, std::vector<int32_t>(size_t(B) * T), std::vector<int32_t>(size_t(B) * T)};
  const uint64_t n_offsets = tokens.size() - T;  // windows [o, o + T] fit for o < n_offsets
  for (int b = 0; b < B; ++b) {
    const size_t o = rng.below(n_offsets);
    for (int t = 0; t < T; ++t) {
      batch.inputs[size_t(b) * T + t] = tokens[o + t];
      batch.targets[size_t(b) * T + t] = tokens[o + t + 1];  // the next token
    }
  }
  return batch;
}
// end lesson

}  // namespace gpt
