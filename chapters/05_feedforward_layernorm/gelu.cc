// chapters/05_feedforward_layernorm/gelu.cc — chapter 05: GELU, exact and tanh-approximated.
// Exercise: gelu_exercise.cc is this file with the body removed.
#include "chapters/05_feedforward_layernorm/gelu.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

// lesson: gelu_forward
void gelu_forward(float* out, const float* inp, int64_t N, GeluForm form) {
  if (N < 0) throw std::invalid_argument("gelu_forward: N must be >= 0, got " + std::to_string(N));
  constexpr float kInvSqrt2 = 0.70710678118654752f;    // 1/√2
  constexpr float kSqrt2OverPi = 0.79788456080286536f; // √(2/π)
  if (form == GeluForm::Erf) {
    for (int64_t i = 0; i < N; ++i) {
      const float x = inp[i];
      out[i] = 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));  // x · Φ(x)
    }
  } else {
    for (int64_t i = 0; i < N; ++i) {
      const float x = inp[i];
      const float inner = kSqrt2OverPi * (x + 0.044715f * x * x * x);
      out[i] = 0.5f * x * (1.0f + std::tanh(inner));  // x · (a curve close to Φ(x))
    }
  }
}
// end lesson

}  // namespace gpt
