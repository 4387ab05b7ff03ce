// chapters/08_backward/layernorm_backward.h — gradients of LayerNorm.
//
// Forward (chapter 05), for each row x of C channels:
//   x̂ = (x − mean) · rstd,   out = x̂ · weight + bias
// Given dout, the gradient of the loss with respect to out, this computes the
// gradients with respect to the input, the weight and the bias. The scale and
// shift act channel by channel; mean and rstd depend on every channel of the
// row, so each input affects every output of its row. The lesson derives the
// formulas (README, section 3, "LayerNorm: the instructive one"); writing
// them is the exercise (layernorm_backward_exercise.cc, hints in HINTS.md).
//
// Convention (every backward in chapter 08): ADDS into dinp, dweight and dbias.
#pragma once

namespace gpt {

void layernorm_backward(float* dinp,          // (N, C), accumulated
                        float* dweight,       // (C), accumulated
                        float* dbias,         // (C), accumulated
                        const float* dout,    // (N, C)
                        const float* inp,     // (N, C): the forward's input
                        const float* mean,    // (N): saved by layernorm_forward
                        const float* rstd,    // (N): saved by layernorm_forward
                        const float* weight,  // (C)
                        int N, int C);

}  // namespace gpt
