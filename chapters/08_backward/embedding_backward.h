// chapters/08_backward/embedding_backward.h — gradients of the embedding tables.
//
// Chapter 08 turns every forward op of chapters 02-07 around: given dout, the
// gradient of the loss with respect to an op's output, it computes the
// gradients with respect to the op's inputs and parameters (the chain rule).
//
// THE CONVENTION of every *_backward function in this chapter: it ADDS (+=)
// into all of its gradient outputs and never overwrites them. The caller zeroes
// the gradient buffers once, before the backward pass. A tensor used in two
// places then collects both contributions with no extra code: a residual
// stream, the token table shared with the output layer (tied weights), and
// here, a token id that occurs at several positions.
//
// Forward (chapter 02): out[b, t, :] = wte[tokens[b, t], :] + positions[t, :].
// A lookup copies a row, so its backward routes dout[b, t, :] back to the row
// it came from: into row tokens[b, t] of dwte, and into row t of dwpe.
#pragma once

#include <cstdint>

namespace gpt {

// dwte[tokens[b, t], :] += dout[b, t, :] and dwpe[t, :] += dout[b, t, :].
// dwpe is nullptr for sinusoidal positions, which are fixed, not learned.
// Throws std::out_of_range on a token id outside [0, V).
void embedding_backward(float* dwte,            // (V, C), accumulated
                        float* dwpe,            // (P, C), accumulated (rows < T); or nullptr
                        const float* dout,      // (B, T, C)
                        const int32_t* tokens,  // (B, T)
                        int B, int T, int C, int V);

}  // namespace gpt
