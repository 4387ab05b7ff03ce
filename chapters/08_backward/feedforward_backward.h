// chapters/08_backward/feedforward_backward.h — gradients of the position-wise MLP.
//
// Forward (chapter 05): hidden = linear(x, fc); activated = gelu(hidden);
// out = linear(activated, proj). Backward, reversed:
//   linear_backward(proj) → dactivated (N, F)
//   gelu_backward         → dhidden    (N, F)
//   linear_backward(fc)   → dinp, and the fc gradients
// The two (N, F) gradients are scratch buffers the caller provides.
//
// Convention (every backward in chapter 08): ADDS into dinp and into every
// gradient of `grads`. dhidden and dactivated are scratch: overwritten.
#pragma once

#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"

namespace gpt {

// Gradients of FeedForwardParams, field by field.
struct FeedForwardGrads {
  float* fc_weight;    // (F, C)
  float* fc_bias;      // (F)
  float* proj_weight;  // (C, F)
  float* proj_bias;    // (C)
};

void feedforward_backward(float* dinp,              // (N, C), accumulated
                          const FeedForwardGrads& grads,  // accumulated
                          float* dhidden,           // (N, F), scratch, overwritten
                          float* dactivated,        // (N, F), scratch, overwritten
                          const float* dout,        // (N, C)
                          const float* inp,         // (N, C)
                          const float* hidden,      // (N, F): saved by the forward
                          const float* activated,   // (N, F): saved by the forward
                          const FeedForwardParams& params,
                          int N, int C, int F, GeluForm form);

}  // namespace gpt
