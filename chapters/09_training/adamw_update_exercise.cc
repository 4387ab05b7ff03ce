// chapters/09_training/adamw_update_exercise.cc — EXERCISE: the AdamW update.
//
//   bazel test --define=exercise=09_training/adamw_update //chapters/09_training:training_test
// The lesson (README.md, "AdamW") explains the update; HINTS.md has three
// graded hints; the solution is adamw_update.cc.
#include "chapters/09_training/adamw.h"

namespace gpt {

void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                  float lr, const AdamWConfig& c, float weight_decay) {
  // TODO(you): one AdamW step (adamw.h), in place, for n weights. params,
  // grads, m (first moment) and v (second moment) are n floats each; m and v
  // are read and updated. t is the step number, starting at 1. Take beta1,
  // beta2 and eps from c, the decay from weight_decay (0 for biases and
  // LayerNorm parameters). Stuck? HINTS.md, one hint at a time.
  (void)params, (void)grads, (void)m, (void)v, (void)n, (void)t, (void)lr, (void)c,
      (void)weight_decay;
}

}  // namespace gpt
