// chapters/08_backward/feedforward_backward.cc — linear, GELU, linear, reversed.
#include "chapters/08_backward/feedforward_backward.h"

#include <algorithm>
#include <cstdint>

#include "chapters/08_backward/gelu_backward.h"
#include "chapters/08_backward/linear_backward.h"

namespace gpt {

// lesson: feedforward_backward
void feedforward_backward(float* dinp, const FeedForwardGrads& grads, float* dhidden,
                          float* dactivated, const float* dout, const float* inp,
                          const float* hidden, const float* activated,
                          const FeedForwardParams& params, int N, int C, int F, GeluForm form) {
  std::fill_n(dactivated, int64_t(N) * F, 0.0f);
  std::fill_n(dhidden, int64_t(N) * F, 0.0f);
  linear_backward(dactivated, grads.proj_weight, grads.proj_bias, dout, activated,
                  params.proj_weight, N, F, C);
  gelu_backward(dhidden, dactivated, hidden, int64_t(N) * F, form);
  linear_backward(dinp, grads.fc_weight, grads.fc_bias, dhidden, inp, params.fc_weight, N, C, F);
}
// end lesson

}  // namespace gpt
