// chapters/10_fast_cpu/fast_trainer.h — chapter 09's training step on the fast forward and backward.
#pragma once

#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/09_training/device.h"
#include "chapters/10_fast_cpu/eval_activations.h"
#include "chapters/10_fast_cpu/fast_train_ops.h"

namespace gpt {

// Chapter 09's train_step on FastOps (fast_train_ops.h): the same step, the
// same random draws (dropout masks), the same clipping and update, so a run's
// losses follow chapter 09's to float rounding.
class FastTrainer : public TrainingEngine {
 public:
  // Buffers for batches of up to (B, T); threads <= 0: OpenMP's default
  // (OMP_NUM_THREADS, else every core). adapt: before each step, run only as
  // many of them as other processes leave cores free (free_cores.h).
  FastTrainer(const GPTConfig& config, int B, int T, int threads = 0, bool adapt = false);
  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng) override;
  float evaluate(TrainingState& state, const Batch& batch) override;
  float evaluate(const GPTModel& model, const Batch& batch);
  // Each forward product's weight packed once for the run (packed_weights.h).
  void begin_evaluations() override;
  void end_evaluations() override;
  int64_t weight_packs() const { return ops_.packed_weights().packs(); }  // for tests
  std::optional<StepParts> step_parts(TrainingState& state) override;  // for wrappers (chapter 18)
  const ParameterBuffer& grads() const { return grads_; }  // of the last step
  int threads() const { return threads_; }  // at most

 private:
  int threads_now();  // threads_, or fewer on a busy machine when adapting
  void forget_other_models(const GPTModel& model);  // keeps one model's panels

  int threads_;
  bool adapt_;
  FastOps ops_;
  ParameterBuffer grads_;
  GPTGrads grad_views_;  // into grads_
  GPTActivations acts_;       // a training step's: every layer's tensors, for the backward
  EvalActivations eval_acts_;  // an evaluation's: one layer's views for every layer, in acts_
  const float* run_model_ = nullptr;  // the parameters a run's held panels were packed from
  GPTBackwardScratch dacts_;
};

}  // namespace gpt
