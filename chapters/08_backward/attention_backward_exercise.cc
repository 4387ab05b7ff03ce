// chapters/08_backward/attention_backward_exercise.cc — EXERCISE: attention's backward.
//
//   bazel test --define=exercise=08_backward //chapters/08_backward/...
// The solution is attention_backward.cc; the README derives each line.
#include "chapters/08_backward/attention_backward.h"

#include <cmath>
#include <cstdint>

#include "chapters/08_backward/causal_softmax_backward.h"
#include "common/eigen_maps.h"

namespace gpt {

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* weights, int N, int T,
                        int hs) {
  // TODO(you): for each sequence n (offsets n*T*hs and n*T*T), with maps
  // Q, K, V, dO (T, hs) and W (T, T), and scale = 1/√hs, ADD:
  //   dV += Wᵀ · dO
  //   dW  = dO · Vᵀ                          (a (T, T) scratch matrix)
  //   dS  = causal_softmax_backward(dW, W)   (into a zeroed (T, T) scratch)
  //   dQ += scale · dS · K
  //   dK += scale · dSᵀ · Q
  (void)dq, (void)dk, (void)dv, (void)dout, (void)q, (void)k, (void)v, (void)weights;
  (void)N, (void)T, (void)hs;
}

}  // namespace gpt
