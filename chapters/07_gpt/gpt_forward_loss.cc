// chapters/07_gpt/gpt_forward_loss.cc — the forward pass with its loss.
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/gpt_forward.h"

namespace gpt {

float gpt_forward_loss(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T) {
  gpt_forward(acts, tokens, model, B, T);
  return cross_entropy_forward(acts.losses, acts.probs, acts.logits, targets, B * T,
                               model.config.vocab_size);
}

}  // namespace gpt
