// chapters/16_gpt2/conv1d_layout.cc — Conv1D's (in, out) to our (out, in), and back.
#include "chapters/16_gpt2/conv1d_layout.h"

#include <cstdint>

namespace gpt {

// lesson: conv1d_to_linear
void conv1d_to_linear(float* linear, const float* conv1d, int in, int out) {
  for (int i = 0; i < in; ++i) {
    const float* row = conv1d + int64_t(i) * out;  // input i's weights to every output
    for (int o = 0; o < out; ++o) linear[int64_t(o) * in + i] = row[o];
  }
}
// end lesson

void linear_to_conv1d(float* conv1d, const float* linear, int in, int out) {
  for (int o = 0; o < out; ++o) {
    const float* row = linear + int64_t(o) * in;  // output o's weights from every input
    for (int i = 0; i < in; ++i) conv1d[int64_t(i) * out + o] = row[i];
  }
}

}  // namespace gpt
