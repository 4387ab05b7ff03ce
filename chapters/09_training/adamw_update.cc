// chapters/09_training/adamw_update.cc — the AdamW update of one slice of parameters.
// Exercise: adamw_update_exercise.cc is this file with the body removed.
#include <cmath>

#include "chapters/09_training/adamw.h"

namespace gpt {

// lesson: adamw_update
void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                  float lr, const AdamWConfig& c, float weight_decay) {
  const float correction1 = 1.0f - std::pow(c.beta1, static_cast<float>(t));
  const float correction2 = 1.0f - std::pow(c.beta2, static_cast<float>(t));
  for (size_t i = 0; i < n; ++i) {
    m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * grads[i];
    v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * grads[i] * grads[i];
    const float m_hat = m[i] / correction1;
    const float v_hat = v[i] / correction2;
    params[i] -= lr * (m_hat / (std::sqrt(v_hat) + c.eps) + weight_decay * params[i]);
  }
}
// end lesson

}  // namespace gpt
