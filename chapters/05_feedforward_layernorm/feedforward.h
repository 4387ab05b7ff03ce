// chapters/05_feedforward_layernorm/feedforward.h — the position-wise MLP.
//
//   hidden    = linear(x, fc_weight, fc_bias)          (N, F)   widen, F = ff_dim
//   activated = gelu(hidden)                           (N, F)
//   out       = linear(activated, proj_weight, proj_bias) (N, C) narrow back
//
// "Position-wise": each of the N = B·T tokens goes through the same network
// on its own; attention mixes tokens, this thinks about each one.
#pragma once

#include "chapters/05_feedforward_layernorm/gelu.h"

namespace gpt {

struct FeedForwardParams {
  const float* fc_weight;    // (F, C)
  const float* fc_bias;      // (F)
  const float* proj_weight;  // (C, F)
  const float* proj_bias;    // (C)
};

void feedforward_forward(float* out,        // (N, C)
                         float* hidden,     // (N, F): before GELU, kept for backward
                         float* activated,  // (N, F): after GELU, kept for backward
                         const float* inp,  // (N, C)
                         const FeedForwardParams& params,
                         int N, int C, int F, GeluForm form);

}  // namespace gpt
