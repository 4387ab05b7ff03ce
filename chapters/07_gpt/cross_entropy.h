// chapters/07_gpt/cross_entropy.h — how wrong is the model's next-token guess?
//
// For each of the N = B·T positions, softmax turns the V logits into a
// probability for every token, and the loss is −log of the probability given
// to the true next token: 0 for a certain, correct guess; log V ≈ 4.2 for a
// uniform guess over 65 tokens. The model's loss is the mean over positions.
// Softmax subtracts each row's maximum first, so exp never overflows.
#pragma once

#include <cstdint>

namespace gpt {

// Returns the mean loss. Throws std::out_of_range on a target outside [0, V).
float cross_entropy_forward(float* losses,           // (N): −log probs[n, targets[n]]
                            float* probs,            // (N, V): softmax of logits, kept for backward
                            const float* logits,     // (N, V)
                            const int32_t* targets,  // (N)
                            int N, int V);

}  // namespace gpt
