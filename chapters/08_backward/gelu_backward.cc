// chapters/08_backward/gelu_backward.cc — the chain rule, one element at a time.
//
// A numerical note: for x below about −4 the tanh form's slope is a tiny
// difference, 1 − tanh²(u) with tanh(u) within a few float steps of −1. In
// float that difference is mostly rounding (PyTorch's float kernel returns
// exactly 0 at x = −5.1, where the true gradient is −5.6e-7). The slope is
// therefore computed in double and rounded once, like chapter 02's sinusoids.
#include "chapters/08_backward/gelu_backward.h"

#include <cmath>

namespace gpt {

// lesson: gelu_backward
void gelu_backward(float* dinp, const float* dout, const float* inp, int64_t N, GeluForm form) {
  const double inv_sqrt2 = 0.70710678118654752;       // 1/√2
  const double inv_sqrt_2pi = 0.39894228040143268;    // 1/√(2π)
  const double sqrt_2_over_pi = 0.79788456080286536;  // √(2/π)
  const double kappa = 0.044715;
  for (int64_t i = 0; i < N; ++i) {
    const double x = inp[i];  // double: see the note above
    double slope;             // gelu'(x)
    if (form == GeluForm::Erf) {
      const double cdf = 0.5 * (1.0 + std::erf(x * inv_sqrt2));  // Φ(x)
      const double pdf = inv_sqrt_2pi * std::exp(-0.5 * x * x);   // φ(x)
      slope = cdf + x * pdf;
    } else {
      const double th = std::tanh(sqrt_2_over_pi * (x + kappa * x * x * x));
      slope = 0.5 * (1.0 + th) +
              0.5 * x * (1.0 - th * th) * sqrt_2_over_pi * (1.0 + 3.0 * kappa * x * x);
    }
    dinp[i] += static_cast<float>(dout[i] * slope);
  }
}
// end lesson

}  // namespace gpt
