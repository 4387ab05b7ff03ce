// chapters/12_cuda_matmul/linear.h — chapter 12: the GPT's linear layer on the GPU.
//
// Chapter 04's linear_forward and chapter 08's linear_backward, same
// arguments, on DEVICE pointers. Every matrix product of the GPT is one of
// these three (matmul.h's gemm):
//   forward   out  = inp · Wᵀ + b      (N, IC)(IC, OC): B transposed, bias in the epilogue
//   backward  dinp += dout · W         (N, OC)(OC, IC): plain, accumulated
//             dW   += doutᵀ · inp      (OC, N)(N, IC):  A transposed, accumulated
//             db   += Σ_n dout[n, :]
// MatmulBackend picks chapter 12's best kernel (version 8) or cuBLAS.
#pragma once

#include "chapters/12_cuda_matmul/matmul.h"

namespace gpt::cuda {

// `out` must not alias `inp`. N >= 0, IC >= 1, OC >= 0.
void linear_forward(float* out,           // (N, OC)
                    const float* inp,     // (N, IC)
                    const float* weight,  // (OC, IC)
                    const float* bias,    // (OC), or nullptr for no bias
                    int N, int IC, int OC, MatmulBackend backend = MatmulBackend::kOurs);

// ADDS into dinp, dweight and dbias (chapter 08's convention). dinp may be
// nullptr (the first layer's input needs no gradient), dbias too (no bias).
void linear_backward(float* dinp,          // (N, IC), accumulated
                     float* dweight,       // (OC, IC), accumulated
                     float* dbias,         // (OC), accumulated, or nullptr
                     const float* dout,    // (N, OC)
                     const float* inp,     // (N, IC)
                     const float* weight,  // (OC, IC)
                     int N, int IC, int OC, MatmulBackend backend = MatmulBackend::kOurs);

}  // namespace gpt::cuda
