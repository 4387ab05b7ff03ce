// chapters/10_fast_cpu/fast_trainer.cc — chapter 09's training step on FastOps.
#include "chapters/10_fast_cpu/fast_trainer.h"

#include <omp.h>

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/10_fast_cpu/free_cores.h"

namespace gpt {

FastTrainer::FastTrainer(const GPTConfig& config, int B, int T, int threads, bool adapt)
    : threads_(threads > 0 ? threads : omp_get_max_threads()),
      adapt_(adapt),
      ops_(threads_),
      grads_(config),
      grad_views_(view_grads(grads_)),
      acts_(config, B, T),
      eval_acts_(config, B, T, acts_),  // in acts_'s memory: evaluations come between steps
      dacts_(config, B, T) {}

int FastTrainer::threads_now() { return adapt_ ? free_core_threads(threads_) : threads_; }

// lesson: step
StepResult FastTrainer::step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                             const AdamWConfig& adamw, Rng& rng) {
  ops_.set_threads(threads_now());  // the same bits for any count: free_cores.h
  ops_.packed_weights().release();  // the weights are about to change
  TrainingMemory memory = host_training_memory(state, grads_, grad_views_, acts_, dacts_);
  return train_step(ops_, memory, state.step, batch, lr, grad_clip, adamw, rng);  // chapter 09's
}
// end lesson

std::optional<StepParts> FastTrainer::step_parts(TrainingState& state) {
  ops_.set_threads(threads_now());
  ops_.packed_weights().release();  // a step follows
  return StepParts{ops_, host_training_memory(state, grads_, grad_views_, acts_, dacts_)};
}

float FastTrainer::evaluate(TrainingState& state, const Batch& batch) {
  return evaluate(state.model, batch);
}

// lesson: evaluate
// No backward pass follows, so the forward pass keeps no layer's tensors
// (eval_activations.h): the same loss, with one layer's buffers.
float FastTrainer::evaluate(const GPTModel& model, const Batch& batch) {
  ops_.set_threads(threads_now());
  forget_other_models(model);
  return gpt_forward_loss(ops_, eval_acts_, batch.inputs.data(), batch.targets.data(),
                          model.weights(), model.config, batch.B, batch.T, Mode::Eval);
}
// end lesson

// lesson: evaluation_run
// Until the run ends (or a step begins), a weight's first forward product
// packs it for all the batches that follow.
void FastTrainer::begin_evaluations() { ops_.packed_weights().hold(); }
void FastTrainer::end_evaluations() { ops_.packed_weights().release(); }
// end lesson

// Panels are found by a weight's address, so another live model's weights
// get panels of their own; but only one model's are kept: a run whose
// evaluations move on to another model drops the first's. (A run is one
// model's: a model freed and another made at the same address inside a run
// would not be noticed.)
void FastTrainer::forget_other_models(const GPTModel& model) {
  PackedWeights& packed = ops_.packed_weights();
  if (packed.holding() && run_model_ != nullptr && run_model_ != model.params.data()) {
    packed.release();
    packed.hold();
  }
  run_model_ = model.params.data();
}

}  // namespace gpt
