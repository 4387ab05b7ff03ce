// chapters/05_feedforward_layernorm/layernorm_exercise.cc — EXERCISE: LayerNorm.
//
//   bazel test --define=exercise=05_feedforward_layernorm //chapters/05_feedforward_layernorm:feedforward_layernorm_test
// The solution is layernorm.cc.
#include "chapters/05_feedforward_layernorm/layernorm.h"

#include <cmath>
#include <stdexcept>

#include "common/eigen_maps.h"

namespace gpt {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C, float eps) {
  // TODO(you): throw std::invalid_argument unless N >= 0 and C >= 1. Then, for
  // each row x of `inp` (an (N, C) ConstMatrixMap):
  //   m = mean of x;  var = mean of (x - m)²  (a second pass: not E[x²] - m²);
  //   r = 1 / sqrt(var + eps);  out row = (x - m) * r * weight + bias.
  // Store m and r in mean[n] and rstd[n] when those pointers are not null.
  // Sum in double (.cast<double>()): a row of values near 1000 needs it.
  for (int64_t i = 0; i < int64_t(N) * C; ++i) out[i] = 0.0f;
  for (int n = 0; n < N; ++n) {
    if (mean != nullptr) mean[n] = 0.0f;
    if (rstd != nullptr) rstd[n] = 0.0f;
  }
  (void)inp, (void)weight, (void)bias, (void)eps;
}

}  // namespace gpt
