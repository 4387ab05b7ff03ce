// chapters/05_feedforward_layernorm/feedforward.cc — chapter 05: the feed-forward network.
// Linear (from chapter 04) widens each token to F channels, GELU bends them, a
// second Linear narrows them back to C.
#include "chapters/05_feedforward_layernorm/feedforward.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "chapters/04_multihead_attention/linear.h"

namespace gpt {

// lesson: feedforward_forward
void feedforward_forward(float* out, float* hidden, float* activated, const float* inp,
                         const FeedForwardParams& params, int N, int C, int F, GeluForm form) {
  if (N < 0 || C < 1 || F < 1) {
    throw std::invalid_argument("feedforward_forward needs N >= 0, C >= 1 and F >= 1, got N=" +
                                std::to_string(N) + ", C=" + std::to_string(C) +
                                ", F=" + std::to_string(F));
  }
  linear_forward(hidden, inp, params.fc_weight, params.fc_bias, N, C, F);         // (N, F)
  gelu_forward(activated, hidden, int64_t(N) * F, form);                         // (N, F)
  linear_forward(out, activated, params.proj_weight, params.proj_bias, N, F, C);  // (N, C)
}
// end lesson

}  // namespace gpt
