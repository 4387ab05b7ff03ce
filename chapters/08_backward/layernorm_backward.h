// chapters/08_backward/layernorm_backward.h — gradients of LayerNorm.
//
// Forward (chapter 05), for each row x of C channels:
//   x̂ = (x − mean) · rstd,   out = x̂ · weight + bias
// The scale and shift are elementwise, so their gradients sum over rows:
//   dbias   = Σ_n dout[n, :]
//   dweight = Σ_n dout[n, :] · x̂[n, :]
// The input gradient is the instructive part: mean and rstd depend on every
// channel of the row, so each input affects every output. With g = dout · weight
// (the gradient reaching x̂), the chain rule through mean and rstd collapses to
//   dinp = rstd · (g − mean(g) − x̂ · mean(g · x̂))
// (the README derives it): remove from g its average, and its component along
// x̂; what changes only the mean or only the scale of x has no effect on x̂.
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
