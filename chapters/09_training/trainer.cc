// chapters/09_training/trainer.cc — forward, backward, clip, update.
#include "chapters/09_training/trainer.h"

#include <algorithm>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/09_training/grad_clip.h"

namespace gpt {

void draw_dropout_masks(GPTActivations& acts, int64_t NC, Rng& rng) {
  if (acts.dropout <= 0) return;
  for (float* mask : dropout_masks_in_draw_order(acts)) dropout_mask(mask, NC, acts.dropout, rng);
}

Trainer::Trainer(const GPTConfig& config, int B, int T)
    : grads_(config), acts_(config, B, T), dacts_(config, B, T) {}

// lesson: step
StepResult Trainer::step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                         const AdamWConfig& adamw, Rng& rng) {
  const GPTModel& model = state.model;
  const int64_t NC = int64_t(batch.B) * batch.T * model.config.embed_size;
  acts_.carve(batch.B, batch.T);
  acts_.dropout = model.config.dropout;       // training mode: draw fresh masks
  draw_dropout_masks(acts_, NC, rng);
  const float loss = gpt_forward_loss(acts_, batch.inputs.data(), batch.targets.data(), model,
                                      batch.B, batch.T);
  std::fill_n(grads_.data(), grads_.size(), 0.0f);
  gpt_backward(grads_, dacts_, batch.inputs.data(), batch.targets.data(), acts_, model);
  const double norm = clip_grad_norm(grads_.data(), grads_.size(), grad_clip);
  state.step += 1;
  adamw_step(state.model.params, grads_, state.m, state.v, state.step, lr, adamw);
  return {loss, norm};
}
// end lesson

float Trainer::evaluate(const GPTModel& model, const Batch& batch) {
  acts_.dropout = 0.0f;  // inference mode
  return gpt_forward_loss(acts_, batch.inputs.data(), batch.targets.data(), model, batch.B,
                          batch.T);
}

}  // namespace gpt
