// chapters/08_backward/linear_backward.h — gradients of the fully connected layer.
//
// Forward (chapter 04): out = inp · Wᵀ + b, with inp (N, IC), W (OC, IC).
// Each output element is out[n, o] = Σ_i inp[n, i] W[o, i] + b[o], so
//   dinp = dout · W          (N, OC)(OC, IC)   every output o feeds back through W[o, :]
//   dW   = doutᵀ · inp       (OC, N)(N, IC)    summed over the N rows that used W
//   db   = Σ_n dout[n, :]    (OC)
// Two matrix products, each as large as the forward one: a linear layer's
// backward costs about twice its forward.
//
// Convention (every backward in chapter 08): ADDS into dinp, dweight and dbias.
#pragma once

namespace gpt {

void linear_backward(float* dinp,          // (N, IC), accumulated
                     float* dweight,       // (OC, IC), accumulated
                     float* dbias,         // (OC), accumulated; nullptr for a layer without bias
                     const float* dout,    // (N, OC)
                     const float* inp,     // (N, IC)
                     const float* weight,  // (OC, IC)
                     int N, int IC, int OC);

}  // namespace gpt
