// chapters/13_cuda_attention/attention.h — chapter 13: causal attention on the GPU, two ways.
//
// Chapter 03's attention_forward and chapter 08's attention_backward, same
// arguments and layout, on DEVICE pointers: N independent sequences (N = B·H
// in a multi-head layer), each with queries, keys and values of shape (T, hs).
//
// The naive way (naive_attention.cu) does what the CPU did: it materialises
// the (T, T) score matrix of every sequence in memory — three kernels forward
// (scores = Q·Kᵀ/√hs, causal softmax rows, out = P·V), the standard steps
// backward. Memory grows as N·T².
//
// The fused way (flash_attention.h) never writes the scores.
#pragma once

namespace gpt::cuda {

// weights (N, T, T) must be device memory of N·T·T floats: the scores are
// computed there and turned into the attention weights in place. N >= 0,
// T >= 1, hs >= 1.
void attention_forward(float* out,        // (N, T, hs)
                       float* weights,    // (N, T, T): the attention weights, for the backward
                       const float* q,    // (N, T, hs)
                       const float* k,    // (N, T, hs)
                       const float* v,    // (N, T, hs)
                       int N, int T, int hs);

// ADDS into dq, dk, dv (chapter 08's convention). Allocates two (N, T, T)
// scratch matrices (dweights and dscores) for the duration of the call.
void attention_backward(float* dq,             // (N, T, hs), accumulated
                        float* dk,             // (N, T, hs), accumulated
                        float* dv,             // (N, T, hs), accumulated
                        const float* dout,     // (N, T, hs)
                        const float* q,        // (N, T, hs)
                        const float* k,        // (N, T, hs)
                        const float* v,        // (N, T, hs)
                        const float* weights,  // (N, T, T): saved by attention_forward
                        int N, int T, int hs);

}  // namespace gpt::cuda
