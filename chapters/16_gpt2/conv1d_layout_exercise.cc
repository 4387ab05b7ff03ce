// chapters/16_gpt2/conv1d_layout_exercise.cc — YOUR TURN: GPT-2's Conv1D weights into our layout.
//
// Build with --define=exercise=16_gpt2/conv1d_layout and make gpt2_weights_test pass.
// Hints: HINTS.md, "conv1d_layout".
#include "chapters/16_gpt2/conv1d_layout.h"

#include <cstdint>

namespace gpt {

// linear is (out, in) row-major, conv1d is (in, out) row-major:
// linear[o, i] = conv1d[i, o] for every input i and output o.
void conv1d_to_linear(float* linear, const float* conv1d, int in, int out) {
  (void)linear, (void)conv1d, (void)in, (void)out;
  // TODO: your code here.
}

// Given: the way back, conv1d[i, o] = linear[o, i].
void linear_to_conv1d(float* conv1d, const float* linear, int in, int out) {
  for (int o = 0; o < out; ++o) {
    const float* row = linear + int64_t(o) * in;
    for (int i = 0; i < in; ++i) conv1d[int64_t(i) * out + o] = row[i];
  }
}

}  // namespace gpt
