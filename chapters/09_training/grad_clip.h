// chapters/09_training/grad_clip.h — gradient clipping by global norm.
//
// A rare batch can produce a huge gradient and throw the weights far off in
// one step. Clipping measures the norm of ALL gradients together, as one long
// vector, and if it exceeds max_norm scales every gradient by
// max_norm / (norm + 1e-6): the direction is kept, only the length is capped.
// (The same rule as PyTorch's torch.nn.utils.clip_grad_norm_.)
#pragma once

#include <cstddef>

namespace gpt {

// The 2-norm of g, accumulated in double.
double global_norm(const float* g, size_t n);

// What clipping multiplies gradients of global norm `norm` by: max_norm /
// (norm + 1e-6) where that is below 1, else exactly 1 (no clipping); always 1
// when max_norm <= 0. Every engine's clip uses it (on its own memory).
double clip_scale(double norm, float max_norm);

// Scales g in place if its norm exceeds max_norm; returns the norm before clipping.
// max_norm <= 0 disables clipping.
double clip_grad_norm(float* g, size_t n, float max_norm);

}  // namespace gpt
