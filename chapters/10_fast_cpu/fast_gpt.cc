// chapters/10_fast_cpu/fast_gpt.cc — chapters 07 and 08's passes on FastOps.
#include "chapters/10_fast_cpu/fast_gpt.h"

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/10_fast_cpu/fast_train_ops.h"

namespace gpt {

float fast_gpt_forward(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T, int threads, Mode mode) {
  FastOps ops(threads);
  if (targets == nullptr) {
    gpt_forward(ops, acts, tokens, model.weights(), model.config, B, T, mode);
    return 0.0f;
  }
  return gpt_forward_loss(ops, acts, tokens, targets, model.weights(), model.config, B, T, mode);
}

void fast_gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch,
                       const GPTActivations& acts, const GPTModel& model, int threads) {
  FastOps ops(threads);
  gpt_backward(ops, view_grads(grads), scratch, acts, model.weights(), model.config);
}

}  // namespace gpt
