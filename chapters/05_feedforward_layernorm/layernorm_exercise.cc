// chapters/05_feedforward_layernorm/layernorm_exercise.cc — EXERCISE: LayerNorm.
//
//   bazel test --define=exercise=05_feedforward_layernorm/layernorm //chapters/05_feedforward_layernorm/...
// The lesson (README.md, section 3) teaches the math; HINTS.md has graded hints.
#include "chapters/05_feedforward_layernorm/layernorm.h"

#include <cmath>
#include <stdexcept>

#include "common/eigen_maps.h"

namespace gpt {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C, float eps) {
  // TODO(you): throw std::invalid_argument unless N >= 0 and C >= 1. Then
  // normalise each of the N rows of `inp` (N, C) to mean 0 and variance 1, apply
  // the per-channel weight and bias (C), and write the row to `out` (N, C).
  // Store each row's mean and rstd in mean[n] and rstd[n] when those pointers
  // are not null. Rows far from zero are the trap: README.md section 3 ("Rows far
  // from zero"), and HINTS.md "layernorm".
  for (int64_t i = 0; i < int64_t(N) * C; ++i) out[i] = 0.0f;
  for (int n = 0; n < N; ++n) {
    if (mean != nullptr) mean[n] = 0.0f;
    if (rstd != nullptr) rstd[n] = 0.0f;
  }
  (void)inp, (void)weight, (void)bias, (void)eps;
}

}  // namespace gpt
