// chapters/07_gpt/gpt_forward.h — the whole model, from token ids to logits.
//
//   x      = embedding(tokens)                 (B, T, C)    chapter 02
//   x      = block_l(x), l = 0 .. L-1          (B, T, C)    chapter 06
//   x      = layernorm(x, ln_f)                (B, T, C)    chapter 05
//   logits = x · lm_headᵀ                      (B, T, V)    chapter 04's linear, no bias
//
// logits[b, t, :] scores every vocabulary entry as the token after position t.
#pragma once

#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"

namespace gpt {

// Fills acts.carve(B, T)'s tensors, ending with acts.logits (B, T, V).
// Throws std::invalid_argument when T > max_length, std::out_of_range on a
// token id outside the vocabulary.
void gpt_forward(GPTActivations& acts,
                 const int32_t* tokens,  // (B, T)
                 const GPTModel& model,
                 int B, int T);

// gpt_forward, then the mean cross-entropy of acts.logits against `targets`.
float gpt_forward_loss(GPTActivations& acts,
                       const int32_t* tokens,   // (B, T)
                       const int32_t* targets,  // (B, T)
                       const GPTModel& model,
                       int B, int T);

}  // namespace gpt
