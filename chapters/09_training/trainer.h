// chapters/09_training/trainer.h — one training step, and evaluation.
//
// A step: forward with the loss (chapter 07), backward (chapter 08) into the
// gradient buffer, clip the gradients' global norm, one AdamW update. The
// Trainer owns the buffers a step needs (gradients, activations, dropout
// masks), allocated once: a step allocates no tensor-sized buffer.
#pragma once

#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/09_training/adamw.h"
#include "chapters/09_training/checkpoint.h"
#include "common/random.h"

namespace gpt {

struct StepResult {
  float loss;        // mean cross-entropy of the batch, before the update
  double grad_norm;  // global gradient norm, before clipping
};

// Every dropout mask of a step, in the order they are drawn: the
// embeddings', then each block's attention and MLP masks. `Activations` is
// any engine's (host or device memory) with chapter 07's field names.
template <class Activations>
std::vector<float*> dropout_masks_in_draw_order(Activations& acts) {
  std::vector<float*> masks = {acts.embedding_dropout};
  for (auto& block : acts.blocks) {
    masks.push_back(block.attn_dropout);
    masks.push_back(block.mlp_dropout);
  }
  return masks;
}

// With acts.dropout > 0, draws a fresh dropout mask (NC floats) for each of
// those, in that order, from `rng`. Every engine draws in this order, so they
// all consume the same random numbers and a run's stream does not depend on
// the device.
void draw_dropout_masks(GPTActivations& acts, int64_t NC, Rng& rng);

class Trainer {
 public:
  // Buffers for batches of up to (B, T).
  Trainer(const GPTConfig& config, int B, int T);

  // One optimizer step on `batch`, updating state.model, state.m, state.v and
  // state.step. With config.dropout > 0 the dropout masks are drawn from `rng`.
  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng);

  // The batch's mean loss with the model as it is: no dropout, no update.
  float evaluate(const GPTModel& model, const Batch& batch);

  const ParameterBuffer& grads() const { return grads_; }  // of the last step

 private:
  ParameterBuffer grads_;
  GPTActivations acts_;   // the forward pass's tensors
  GPTBackwardScratch dacts_;  // their gradients, while the backward pass runs
};

}  // namespace gpt
