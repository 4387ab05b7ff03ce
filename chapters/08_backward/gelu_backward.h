// chapters/08_backward/gelu_backward.h — the derivative of GELU.
//
// Elementwise ops have elementwise backwards: dinp[i] = dout[i] · gelu'(inp[i]).
//   Erf:  gelu(x) = x Φ(x)               gelu'(x) = Φ(x) + x φ(x),  φ(x) = exp(−x²/2) / √(2π)
//   Tanh: gelu(x) = ½ x (1 + tanh u),    u = √(2/π) (x + 0.044715 x³)
//         gelu'(x) = ½ (1 + tanh u) + ½ x (1 − tanh² u) · √(2/π) (1 + 3 · 0.044715 x²)
// The backward reads the forward's INPUT (the hidden layer before GELU), which
// is why feedforward_forward keeps it.
//
// Convention (every backward in chapter 08): ADDS into dinp.
#pragma once

#include <cstdint>

#include "chapters/05_feedforward_layernorm/gelu.h"

namespace gpt {

void gelu_backward(float* dinp,        // (N), accumulated
                   const float* dout,  // (N)
                   const float* inp,   // (N): GELU's input
                   int64_t N, GeluForm form);

}  // namespace gpt
