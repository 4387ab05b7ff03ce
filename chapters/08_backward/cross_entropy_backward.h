// chapters/08_backward/cross_entropy_backward.h — where the backward pass starts.
//
// Forward (chapter 07): probs = softmax(logits) row by row; the loss is the
// MEAN over the N = B·T positions of −log probs[n, targets[n]]. Softmax and
// −log combine into the simplest gradient of the course:
//   ∂loss_n / ∂logits[n, v] = probs[n, v] − [v == targets[n]]
// — push the true token's logit up by (1 − its probability), every other logit
// down by its probability. The mean divides each position's share by N.
//
// dloss is the gradient arriving at the mean loss: 1 when the loss itself is
// what we differentiate (the usual case); another value scales every gradient,
// as loss.backward(torch.tensor(dloss)) does in PyTorch.
//
// Convention (every backward in chapter 08): ADDS into dlogits.
#pragma once

#include <cstdint>

namespace gpt {

// dlogits[n, v] += dloss / N · (probs[n, v] − [v == targets[n]]).
// Throws std::out_of_range on a target outside [0, V).
void cross_entropy_backward(float* dlogits,          // (N, V), accumulated
                            float dloss,             // scalar: d(something)/d(mean loss)
                            const float* probs,      // (N, V): saved by cross_entropy_forward
                            const int32_t* targets,  // (N)
                            int N, int V);

}  // namespace gpt
