// chapters/08_backward/layernorm_backward_exercise.cc — EXERCISE: LayerNorm's backward.
//
//   bazel test --define=exercise=08_backward/layernorm_backward //chapters/08_backward/...
// The lesson (README.md, "LayerNorm") derives the gradient; HINTS.md has three
// graded hints; the solution is layernorm_backward.cc.
#include "chapters/08_backward/layernorm_backward.h"

#include "common/eigen_maps.h"

namespace gpt {

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* mean, const float* rstd,
                        const float* weight, int N, int C) {
  // TODO(you): LayerNorm's gradients, row by row. Shapes: dout, inp, dinp are
  // (N, C) row-major; mean and rstd (N), saved by layernorm_forward; weight,
  // dweight, dbias (C). ADD into dinp, dweight and dbias (never overwrite:
  // the caller zeroed them). dweight and dbias sum over the N rows.
  // Stuck? HINTS.md, one hint at a time.
  (void)dinp, (void)dweight, (void)dbias, (void)dout, (void)inp, (void)mean, (void)rstd;
  (void)weight, (void)N, (void)C;
}

}  // namespace gpt
