// chapters/08_backward/gpt_backward.h — gradients of the loss for every parameter.
//
// The forward pass of chapter 07 read backwards, one op at a time:
//   loss ─► logits ─► lm_head ─► ln_f ─► block L-1 ─► … ─► block 0 ─► embeddings
// Each step hands the gradient of its input to the step before it. The
// gradients land in a ParameterBuffer with the parameters' own layout, so
// chapter 09's clipping and AdamW are loops over two buffers of equal shape.
#pragma once

#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"

namespace gpt {

// Adds the gradient of the mean cross-entropy loss to `grads` (zero it first
// for a fresh step). `acts` is what gpt_forward_loss saved for this batch
// (including acts.probs); `dacts` is scratch with the same shape, overwritten.
// With acts.dropout > 0 the same masks are applied on the way back.
void gpt_backward(ParameterBuffer& grads,
                  GPTActivations& dacts,
                  const int32_t* tokens,   // (B, T)
                  const int32_t* targets,  // (B, T)
                  const GPTActivations& acts,
                  const GPTModel& model);

}  // namespace gpt
