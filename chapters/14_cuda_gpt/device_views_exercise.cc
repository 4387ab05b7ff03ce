// chapters/14_cuda_gpt/device_views_exercise.cc — YOUR EXERCISE: views into device buffers.
//
// Write device_weights and device_block_grads (declared in device_model.h):
//   device_weights: chapter 07's GPTWeights, every pointer a view into the
//     DEVICE buffer `params`, laid out by ParameterLayout(config) exactly as
//     the host buffer is; with sinusoidal positions, `positions` is the
//     `sinusoidal` table (not a parameter); with tied weights, lm_head is wte.
//   device_block_grads: block l's BlockGrads, views into the DEVICE buffer
//     `grads`, laid out like the parameters.
// Nothing is read or written through the pointers.
// Test it (no GPU needed: a view is only an address) with
//   bazel test --define=exercise=14_cuda_gpt/device_views //chapters/14_cuda_gpt/...
// The lesson (README.md, sections 1-2) explains the layout; HINTS.md has
// graded hints.
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
