// chapters/05_feedforward_layernorm/layernorm.h — normalise each token's vector.
//
// For each row x of C channels:
//   mean = Σx / C,  var = Σ(x − mean)² / C   (biased, as PyTorch),  rstd = 1/√(var + eps)
//   out  = (x − mean) · rstd · weight + bias
// Every token enters the next layer with mean 0 and variance 1 (before the
// learned scale and shift), whatever the layers before did to its size.
#pragma once

namespace gpt {

// `out` may alias `inp` (each row is read in full before it is written).
void layernorm_forward(float* out,           // (N, C)
                       float* mean,          // (N), saved for backward; may be nullptr
                       float* rstd,          // (N), saved for backward; may be nullptr
                       const float* inp,     // (N, C)
                       const float* weight,  // (C)
                       const float* bias,    // (C)
                       int N, int C, float eps);

}  // namespace gpt
