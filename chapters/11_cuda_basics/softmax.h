// chapters/11_cuda_basics/softmax.h — chapter 11: softmaxes on the GPU, a warp or a block per row.
//
// Chapter 03's causal softmax, chapter 07's cross-entropy (fused with its
// softmax) and their chapter 08 backwards, on DEVICE pointers. A softmax needs
// two reductions per row, the maximum and the sum of exponentials.
// Versions (softmax.cu):
//   causal_softmax  1  one thread per row;
//                   2  one warp per row, warp-shuffle max and sum (rows are
//                      at most T long: a warp covers them in a few steps).
//   cross_entropy   1  one thread per row;
//     forward       2  one BLOCK per row (V is 65, or 50257 for GPT-2): warp
//                      shuffles inside each warp, shared memory between warps.
//   cross_entropy   1  one thread per row loops over V;
//     backward      2  one thread per element (coalesced).
// Backward ops ADD into their gradient outputs (chapter 08).
#pragma once

#include <cstdint>

namespace gpt::cuda {

// weights[n, t, s] = softmax over s' <= t of scores[n, t, s'], 0 for s > t.
// `weights` may alias `scores`.
void causal_softmax_forward(float* weights,       // (N, T, T)
                            const float* scores,  // (N, T, T)
                            int N, int T, int version = 2);

// dscores[n, t, s] += w · (dw − Σ_s' w dw) for s <= t; entries s > t untouched.
void causal_softmax_backward(float* dscores,         // (N, T, T), accumulated on s <= t
                             const float* dweights,  // (N, T, T)
                             const float* weights,   // (N, T, T): the forward's output
                             int N, int T, int version = 2);

// probs = softmax(logits) row by row, losses[n] = −log probs[n, targets[n]].
// Returns the mean loss: copies the N losses to the CPU and averages them
// there (so it waits for the kernel). N >= 1. A target outside [0, V) gives
// a NaN loss.
float cross_entropy_forward(float* losses,           // (N)
                            float* probs,            // (N, V)
                            const float* logits,     // (N, V)
                            const int32_t* targets,  // (N)
                            int N, int V, int version = 2);

// dlogits[n, v] += dloss / N · (probs[n, v] − [v == targets[n]]).
void cross_entropy_backward(float* dlogits,          // (N, V), accumulated
                            float dloss,             // scalar: d(something)/d(mean loss)
                            const float* probs,      // (N, V): saved by cross_entropy_forward
                            const int32_t* targets,  // (N)
                            int N, int V, int version = 2);

}  // namespace gpt::cuda
