// chapters/09_training/train_ops.h — what a training step asks of an engine, beyond the passes.
//
// Chapter 08's BackwardOps computes the gradients; a step also draws the
// dropout masks, clips the gradients' global norm and applies AdamW. With
// these three the whole step (trainer.cc's train_step) is written once, for
// every engine.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/07_gpt/parameters.h"
#include "chapters/08_backward/backward_ops.h"
#include "chapters/09_training/adamw.h"
#include "chapters/09_training/grad_clip.h"
#include "common/random.h"

namespace gpt {

class TrainOps : public BackwardOps {
 public:
  // mask (n) = chapter 06's dropout mask of rate p. Every engine makes exactly
  // dropout_mask's calls on `rng`, so a run's random stream is the same on
  // every engine.
  virtual void dropout_mask(float* mask, int64_t n, float p, Rng& rng) = 0;

  // Scales grads (n) down to a global norm of max_norm when it is larger (no
  // clipping when max_norm <= 0); returns the norm before clipping.
  virtual double clip_grad_norm(float* grads, size_t n, float max_norm) = 0;

  // One AdamW update at step t of every slot of `layout` (chapter 09's
  // adamw_step); the five buffers hold layout.total() floats each.
  virtual void adamw_step(const ParameterLayout& layout, float* params, const float* grads,
                          float* m, float* v, int t, float lr, const AdamWConfig& config) = 0;
};

// Chapter 09's plain ops (see plain_block_ops.h for the pattern).
template <class Base>
class PlainTrainOpsFor : public PlainBackwardOpsFor<Base> {
 public:
  void dropout_mask(float* mask, int64_t n, float p, Rng& rng) override {
    gpt::dropout_mask(mask, n, p, rng);
  }
  double clip_grad_norm(float* grads, size_t n, float max_norm) override {
    return gpt::clip_grad_norm(grads, n, max_norm);
  }
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override {
    gpt::adamw_step(layout, params, grads, m, v, t, lr, config);
  }
};

using PlainTrainOps = PlainTrainOpsFor<TrainOps>;

}  // namespace gpt
