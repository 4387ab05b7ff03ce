// chapters/08_backward/attention_backward.h — gradients of scaled dot-product attention.
//
// Forward (chapter 03), for each of N independent sequences:
//   S = Q · Kᵀ / √hs      (T, T)
//   W = causal_softmax(S) (T, T)
//   O = W · V             (T, hs)
// Given dO, this computes dQ, dK and dV, walking the three lines above in the
// opposite order with the product rule; the forward's weights W are reused and
// the scores S are not needed. The lesson derives each step; writing them is
// the exercise (attention_backward_exercise.cc, hints in HINTS.md).
//
// Convention (every backward in chapter 08): ADDS into dq, dk and dv.
#pragma once

namespace gpt {

void attention_backward(float* dq,             // (N, T, hs), accumulated
                        float* dk,             // (N, T, hs), accumulated
                        float* dv,             // (N, T, hs), accumulated
                        const float* dout,     // (N, T, hs)
                        const float* q,        // (N, T, hs)
                        const float* k,        // (N, T, hs)
                        const float* v,        // (N, T, hs)
                        const float* weights,  // (N, T, T): saved by attention_forward
                        int N, int T, int hs);

}  // namespace gpt
