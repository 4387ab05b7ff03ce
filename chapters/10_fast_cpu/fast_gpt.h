// chapters/10_fast_cpu/fast_gpt.h — the whole model's forward and backward, fast.
//
// Chapter 07's gpt_forward and chapter 08's gpt_backward themselves, over the
// same GPTActivations and GPTBackwardScratch buffers, run on FastOps
// (fast_train_ops.h) instead of the plain ops. The tests hold the two
// side by side: logits, loss and every gradient agree to float rounding.
#pragma once

#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"
#include "chapters/08_backward/gpt_backward.h"

namespace gpt {

// gpt_forward_loss on FastOps: fills acts (as chapter 07 does) and returns the
// mean loss. With targets == nullptr only the logits are computed (loss 0).
float fast_gpt_forward(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T, int threads,
                       Mode mode = Mode::Eval);

// gpt_backward on FastOps: adds the loss's gradients to `grads`.
void fast_gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch,
                       const GPTActivations& acts, const GPTModel& model, int threads);

}  // namespace gpt
