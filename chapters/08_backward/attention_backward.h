// chapters/08_backward/attention_backward.h — gradients of scaled dot-product attention.
//
// Forward (chapter 03), for each of N independent sequences:
//   S = Q · Kᵀ / √hs      (T, T)
//   W = causal_softmax(S) (T, T)
//   O = W · V             (T, hs)
// Backward, in the opposite order, one product rule per line:
//   dV = Wᵀ · dO                   O = W V: V's rows are mixed by W
//   dW = dO · Vᵀ
//   dS = causal_softmax_backward(dW, W)
//   dQ = dS · K / √hs              S = Q Kᵀ / √hs
//   dK = dSᵀ · Q / √hs
// The forward's weights W are reused; the scores S are not needed.
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
