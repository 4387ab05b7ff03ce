// chapters/16_gpt2/conv1d_layout.h — one weight matrix, two ways to store it.
//
// Our linear layers keep their weight as (out, in): row r holds the weights
// of output r, and y = x·Wᵀ + b (PyTorch's nn.Linear does the same). GPT-2's
// original code, and Hugging Face's copy of it, calls its linear layers
// "Conv1D" and keeps the weight as (in, out): y = x·W + b. Same numbers, the
// matrix transposed. Importing GPT-2's weights means turning every Conv1D
// matrix on its side; exporting, turning it back.
#pragma once

namespace gpt {

// lesson: conv1d_declarations
// linear[o, i] = conv1d[i, o]
void conv1d_to_linear(float* linear,        // (out, in)
                      const float* conv1d,  // (in, out)
                      int in, int out);

// conv1d[i, o] = linear[o, i]: the way back.
void linear_to_conv1d(float* conv1d,        // (in, out)
                      const float* linear,  // (out, in)
                      int in, int out);
// end lesson

}  // namespace gpt
