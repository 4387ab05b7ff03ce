// chapters/08_backward/layernorm_backward_exercise.cc — EXERCISE: LayerNorm's backward.
//
//   bazel test --define=exercise=08_backward //chapters/08_backward/...
// The solution is layernorm_backward.cc; the README derives the formula.
#include "chapters/08_backward/layernorm_backward.h"

#include "common/eigen_maps.h"

namespace gpt {

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* mean, const float* rstd,
                        const float* weight, int N, int C) {
  // TODO(you): for each row n, rebuild x̂ = (inp[n] − mean[n]) · rstd[n] and
  // g = dout[n] · weight (elementwise). Then ADD (never overwrite):
  //   dbias   += dout[n]
  //   dweight += dout[n] · x̂
  //   dinp[n] += rstd[n] · (g − mean(g) − x̂ · mean(g · x̂))
  (void)dinp, (void)dweight, (void)dbias, (void)dout, (void)inp, (void)mean, (void)rstd;
  (void)weight, (void)N, (void)C;
}

}  // namespace gpt
