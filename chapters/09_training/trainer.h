// chapters/09_training/trainer.h — one training step, and evaluation.
//
// A step: draw the dropout masks, forward with the loss (chapter 07),
// backward (chapter 08) into the gradient buffer, clip the gradients' global
// norm, one AdamW update. train_step writes that sequence once, over any
// engine's TrainOps (train_ops.h) and memory (TrainingMemory). The Trainer is
// chapter 09's engine: the plain ops, host memory, and the buffers a step
// needs (gradients, activations, dropout masks), allocated once: a step
// allocates no tensor-sized buffer.
#pragma once

#include <optional>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/09_training/adamw.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/train_ops.h"
#include "common/random.h"

namespace gpt {

struct StepResult {
  float loss;        // mean cross-entropy of the batch, before the update
  double grad_norm;  // global gradient norm, before clipping
};

// Every dropout mask of a step, in the order they are drawn: the
// embeddings', then each block's attention and MLP masks.
std::vector<float*> dropout_masks_in_draw_order(ActivationViews& acts);

// With p > 0, draws a fresh dropout mask (NC floats) for each of those, in
// that order, from `rng`. Every engine draws in this order, so they all
// consume the same random numbers and a run's stream does not depend on the
// engine.
void draw_dropout_masks(TrainOps& ops, ActivationViews& acts, int64_t NC, float p, Rng& rng);

// One engine's memory for training: the four parameter-shaped buffers, views
// into them, and the passes' tensors.
struct TrainingMemory {
  const GPTConfig& config;
  const ParameterLayout& layout;
  float* params;          // (layout.total()) each
  float* grads;
  float* m;               // AdamW's moments
  float* v;
  GPTWeights weights;     // views into params
  GPTGrads grad_views;    // views into grads
  ActivationViews& acts;
  BackwardViews& scratch;
};

// A host engine's TrainingMemory: `state`'s parameters and moments, the
// engine's own gradients (and views of them) and tensors.
TrainingMemory host_training_memory(TrainingState& state, ParameterBuffer& grads,
                                    const GPTGrads& grad_views, ActivationViews& acts,
                                    BackwardViews& scratch);

// One optimizer step on `batch`: increments `step` and updates params, m and
// v. With config.dropout > 0 the dropout masks are drawn from `rng` and the
// passes run in Mode::Train.
StepResult train_step(TrainOps& ops, TrainingMemory& memory, int& step, const Batch& batch,
                      float lr, float grad_clip, const AdamWConfig& adamw, Rng& rng);

// The batch's mean loss with the parameters as they are: Mode::Eval, no update.
float evaluate_batch(ModelOps& ops, TrainingMemory& memory, const Batch& batch);

// What an engine's step runs on: its ops and its memory. A wrapper that runs
// train_step itself around an engine (chapter 18's data parallelism, which
// intercepts the clip and the update) takes these instead of step().
struct StepParts {
  TrainOps& ops;
  TrainingMemory memory;
};

// Trains one TrainingState. An engine may keep its own copy of the state (a
// GPU engine keeps parameters and moments in device memory): from the first
// step() or evaluate() on, it owns the state's model, m and v, and sync()
// writes them back. The program calls sync() before each checkpoint and
// before generating. The batch (B, T) never exceeds the engine's size.
class TrainingEngine {
 public:
  virtual ~TrainingEngine() = default;
  // One optimizer step on `batch`; increments state.step. Dropout masks, when
  // config.dropout > 0, are drawn from `rng`.
  virtual StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                          const AdamWConfig& adamw, Rng& rng) = 0;
  // The batch's mean loss with the model as it is: no dropout, no update.
  virtual float evaluate(TrainingState& state, const Batch& batch) = 0;
  // A run of evaluations of one model whose weights stay as they are (a
  // validation pass, a benchmark's forward passes): between these two calls
  // an engine may prepare the weights once for all the batches, instead of
  // once per batch (chapter 10 packs them for its products). Nothing may
  // change the weights in between, except step() and a step through
  // step_parts(), either of which ends the run. EvaluationRun (below) makes
  // the two calls. By default: nothing to prepare.
  virtual void begin_evaluations() {}
  virtual void end_evaluations() {}
  // Makes state.model, state.m and state.v current. CPU engines: nothing to do.
  virtual void sync(TrainingState& /*state*/) {}
  // The ops and memory step() would run train_step on, holding `state` (an
  // engine that keeps its own copy takes the state first, as step() does).
  // nullopt: this engine does not lend them, and cannot be wrapped.
  virtual std::optional<StepParts> step_parts(TrainingState& /*state*/) { return std::nullopt; }
};

// begin_evaluations() when made, end_evaluations() when it goes out of scope,
// however the scope is left.
class EvaluationRun {
 public:
  explicit EvaluationRun(TrainingEngine& engine) : engine_(engine) { engine_.begin_evaluations(); }
  ~EvaluationRun() { engine_.end_evaluations(); }
  EvaluationRun(const EvaluationRun&) = delete;
  EvaluationRun& operator=(const EvaluationRun&) = delete;

 private:
  TrainingEngine& engine_;
};

// Chapter 09's engine: train_step on the plain ops, in host memory.
class Trainer : public TrainingEngine {
 public:
  // Buffers for batches of up to (B, T).
  Trainer(const GPTConfig& config, int B, int T);

  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng) override;
  float evaluate(TrainingState& state, const Batch& batch) override;
  float evaluate(const GPTModel& model, const Batch& batch);
  std::optional<StepParts> step_parts(TrainingState& state) override;

  const ParameterBuffer& grads() const { return grads_; }  // of the last step

 private:
  PlainTrainOps ops_;
  ParameterBuffer grads_;
  GPTGrads grad_views_;   // into grads_
  GPTActivations acts_;   // the forward pass's tensors
  GPTBackwardScratch dacts_;  // their gradients, while the backward pass runs
};

}  // namespace gpt
