// chapters/09_training/adamw_update_exercise.cc — EXERCISE: the AdamW update.
//
//   bazel test --define=exercise=09_training //chapters/09_training:training_test
// The solution is adamw_update.cc.
#include "chapters/09_training/adamw.h"

namespace gpt {

void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                  float lr, const AdamWConfig& c, float weight_decay) {
  // TODO(you): for each i: update m[i] and v[i] (the two running means),
  // correct their bias by 1 - beta^t, and move params[i] by
  // -lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * params[i]).
  (void)params, (void)grads, (void)m, (void)v, (void)n, (void)t, (void)lr, (void)c,
      (void)weight_decay;
}

}  // namespace gpt
