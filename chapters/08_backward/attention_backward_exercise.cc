// chapters/08_backward/attention_backward_exercise.cc — EXERCISE: attention's backward.
//
//   bazel test --define=exercise=08_backward/attention_backward //chapters/08_backward/...
// The lesson (README.md, "Attention") derives each line; HINTS.md has three
// graded hints; the solution is attention_backward.cc.
#include "chapters/08_backward/attention_backward.h"

#include <cmath>
#include <cstdint>

#include "chapters/08_backward/causal_softmax_backward.h"
#include "common/eigen_maps.h"

namespace gpt {

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* weights, int N, int T,
                        int hs) {
  // TODO(you): the gradients of one attention head, for N independent
  // sequences. Shapes: q, k, v, dout, dq, dk, dv are (N, T, hs) row-major;
  // weights (N, T, T), the causal softmax weights saved by attention_forward
  // (zero above the diagonal). ADD into dq, dk and dv (never overwrite: the
  // caller zeroed them). causal_softmax_backward (included above) is yours to
  // call. Stuck? HINTS.md, one hint at a time.
  (void)dq, (void)dk, (void)dv, (void)dout, (void)q, (void)k, (void)v, (void)weights;
  (void)N, (void)T, (void)hs;
}

}  // namespace gpt
