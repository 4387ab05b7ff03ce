// chapters/01_tokens/batches.h — training examples: (B, T) inputs and targets.
//
// A language model learns to predict the next token. Take any T + 1
// consecutive tokens: the first T are the input, the last T the targets, so
// targets[t] = inputs[t + 1] and each window teaches T predictions at once
// (predict token 1 from token 0, token 2 from tokens 0..1, ...). A batch is B
// such windows starting at random offsets.
#pragma once

#include <cstdint>
#include <vector>

#include "common/random.h"

namespace gpt {

struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> inputs;   // (B, T)
  std::vector<int32_t> targets;  // (B, T): inputs shifted left by one
};

// B windows of T + 1 tokens at offsets drawn from `rng`. Throws
// std::invalid_argument when B or T is not positive or `tokens` holds fewer
// than T + 1 tokens (not even one block).
Batch sample_batch(const std::vector<int32_t>& tokens, int B, int T, Rng& rng);

}  // namespace gpt
