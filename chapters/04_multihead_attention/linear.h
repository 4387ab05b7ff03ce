// chapters/04_multihead_attention/linear.h — the fully connected layer.
//
// out = inp · Wᵀ + b, row by row: each of the N rows of IC input features
// becomes OC output features. W is stored (OC, IC), as PyTorch's nn.Linear
// stores it, so a checkpoint's matrices are used as they are. This chapter
// needs it for the Q, K, V and output projections; chapter 05's feed-forward
// network and chapter 07's output layer use it too.
#pragma once

namespace gpt {

// `out` must not alias `inp` (each output row reads a whole input row).
void linear_forward(float* out,           // (N, OC)
                    const float* inp,     // (N, IC)
                    const float* weight,  // (OC, IC)
                    const float* bias,    // (OC), or nullptr for no bias
                    int N, int IC, int OC);

}  // namespace gpt
