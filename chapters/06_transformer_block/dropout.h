// chapters/06_transformer_block/dropout.h — inverted dropout, for training.
//
// In training, dropout zeroes each element with probability p and scales the
// survivors by 1/(1 − p), so the expected value of every element is unchanged
// and inference (no dropout, no scaling) sees activations of the same size.
// The mask records, per element, 0 or 1/(1 − p); the trainer (chapter 09)
// draws the masks, the block multiplies by them, and the backward pass
// (chapter 08) multiplies the incoming gradient by the same masks: the
// derivative of x ⊙ mask is mask.
#pragma once

#include <cstdint>

#include "common/random.h"

namespace gpt {

// mask[i] = 0 with probability p, else 1/(1 − p). p in [0, 1).
void dropout_mask(float* mask,  // (N)
                  int64_t N, float p, Rng& rng);

// out = inp ⊙ mask; `out` may alias `inp`.
void dropout_forward(float* out,         // (N)
                     const float* inp,   // (N)
                     const float* mask,  // (N)
                     int64_t N);

}  // namespace gpt
