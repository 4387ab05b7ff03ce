// chapters/09_training/trainer.cc — forward, backward, clip, update: one step, for every engine.
#include "chapters/09_training/trainer.h"

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/08_backward/gpt_backward.h"

namespace gpt {

std::vector<float*> dropout_masks_in_draw_order(ActivationViews& acts) {
  std::vector<float*> masks = {acts.embedding_dropout};
  for (BlockActivations& block : acts.blocks) {
    masks.push_back(block.attn_dropout);
    masks.push_back(block.mlp_dropout);
  }
  return masks;
}

void draw_dropout_masks(TrainOps& ops, ActivationViews& acts, int64_t NC, float p, Rng& rng) {
  if (p <= 0) return;
  for (float* mask : dropout_masks_in_draw_order(acts)) ops.dropout_mask(mask, NC, p, rng);
}

// lesson: step
StepResult train_step(TrainOps& ops, TrainingMemory& mem, int& step, const Batch& batch,
                      float lr, float grad_clip, const AdamWConfig& adamw, Rng& rng) {
  const GPTConfig& c = mem.config;
  const int64_t NC = int64_t(batch.B) * batch.T * c.embed_size;
  const Mode mode = c.dropout > 0 ? Mode::Train : Mode::Eval;  // dropout on, or nothing to drop
  mem.acts.carve(batch.B, batch.T);
  draw_dropout_masks(ops, mem.acts, NC, c.dropout, rng);       // fresh masks each step
  const float loss = gpt_forward_loss(ops, mem.acts, batch.inputs.data(), batch.targets.data(),
                                      mem.weights, c, batch.B, batch.T, mode);
  ops.zero(mem.grads, int64_t(mem.layout.total()));
  gpt_backward(ops, mem.grad_views, mem.scratch, mem.acts, mem.weights, c);
  const double norm = ops.clip_grad_norm(mem.grads, mem.layout.total(), grad_clip);
  step += 1;
  ops.adamw_step(mem.layout, mem.params, mem.grads, mem.m, mem.v, step, lr, adamw);
  return {loss, norm};
}
// end lesson

float evaluate_batch(ModelOps& ops, TrainingMemory& mem, const Batch& batch) {
  return gpt_forward_loss(ops, mem.acts, batch.inputs.data(), batch.targets.data(), mem.weights,
                          mem.config, batch.B, batch.T, Mode::Eval);
}

TrainingMemory host_training_memory(TrainingState& s, ParameterBuffer& grads,
                                    const GPTGrads& grad_views, ActivationViews& acts,
                                    BackwardViews& scratch) {
  return TrainingMemory{s.model.config, s.model.params.layout(), s.model.params.data(),
                        grads.data(),   s.m.data(),              s.v.data(),
                        s.model.weights(), grad_views,           acts, scratch};
}

Trainer::Trainer(const GPTConfig& config, int B, int T)
    : grads_(config), grad_views_(view_grads(grads_)), acts_(config, B, T), dacts_(config, B, T) {}

StepResult Trainer::step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                         const AdamWConfig& adamw, Rng& rng) {
  TrainingMemory mem = host_training_memory(state, grads_, grad_views_, acts_, dacts_);
  return train_step(ops_, mem, state.step, batch, lr, grad_clip, adamw, rng);
}

std::optional<StepParts> Trainer::step_parts(TrainingState& state) {
  return StepParts{ops_, host_training_memory(state, grads_, grad_views_, acts_, dacts_)};
}

float Trainer::evaluate(TrainingState& state, const Batch& batch) {
  return evaluate(state.model, batch);
}

float Trainer::evaluate(const GPTModel& model, const Batch& batch) {
  return gpt_forward_loss(ops_, acts_, batch.inputs.data(), batch.targets.data(),
                          model.weights(), model.config, batch.B, batch.T, Mode::Eval);
}

}  // namespace gpt
