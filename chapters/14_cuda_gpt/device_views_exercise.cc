// chapters/14_cuda_gpt/device_views_exercise.cc — YOUR EXERCISE: views into device buffers.
//
// Write device_weights and device_block_grads (declared in device_model.h):
// every view is the device buffer's base pointer plus the parameter's offset
// in ParameterLayout(config), exactly as chapter 07's view_weights does with
// the host buffer. Mind the two special cases: sinusoidal positions (the
// table is not a parameter: use the `sinusoidal` pointer) and tied weights
// (lm_head is wte). device_views_test tells you when you have it right; it
// needs no GPU: a view is only an address.
#include "chapters/14_cuda_gpt/device_model.h"

namespace gpt::cuda {

GPTWeights device_weights(const GPTConfig& /*config*/, const float* /*params*/,
                          const float* /*sinusoidal*/) {
  return GPTWeights{};  // TODO
}

BlockGrads device_block_grads(const ParameterLayout& /*layout*/, float* /*grads*/, int /*l*/) {
  return BlockGrads{};  // TODO
}

}  // namespace gpt::cuda
