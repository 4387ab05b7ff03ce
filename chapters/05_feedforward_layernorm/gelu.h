// chapters/05_feedforward_layernorm/gelu.h — the feed-forward network's nonlinearity.
//
// GELU(x) = x · Φ(x), Φ the standard normal CDF: smooth, near x for large x,
// near 0 for very negative x. Two forms, as in PyTorch's nn.GELU:
//   Erf:  x · ½ (1 + erf(x / √2))                                  exact
//   Tanh: x · ½ (1 + tanh(√(2/π) (x + 0.044715 x³)))               GPT-2's approximation
#pragma once

#include <cstdint>

namespace gpt {

enum class GeluForm { Erf, Tanh };

// Elementwise; `out` may alias `inp`.
void gelu_forward(float* out,        // (N)
                  const float* inp,  // (N)
                  int64_t N, GeluForm form);

}  // namespace gpt
