// chapters/10_fast_cpu/fast_gpt.h — the whole model's forward and backward, fast.
//
// The same composition as chapter 07's gpt_forward and chapter 08's
// gpt_backward, over the same GPTActivations and GPTBackwardScratch buffers,
// with fast_ops.h in place of chapters 04–08's ops. The tests hold the two
// side by side: logits, loss and every gradient agree to float rounding.
#pragma once

#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"
#include "chapters/08_backward/gpt_backward.h"

namespace gpt {

// gpt_forward_loss, fast: fills acts (as chapter 07 does) and returns the mean
// loss. With targets == nullptr only the logits are computed (loss 0).
float fast_gpt_forward(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T, int threads);

// gpt_backward, fast: adds the loss's gradients to `grads`.
void fast_gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch,
                       const int32_t* tokens, const int32_t* targets,
                       const GPTActivations& acts, const GPTModel& model, int threads);

}  // namespace gpt
