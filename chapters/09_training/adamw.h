// chapters/09_training/adamw.h — the optimizer: Adam with decoupled weight decay.
//
// For every parameter θ with gradient g, at step t = 1, 2, ...:
//   m = β1·m + (1 − β1)·g          running mean of gradients (momentum)
//   v = β2·v + (1 − β2)·g²         running mean of squared gradients
//   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)   bias correction: m, v start at 0
//   θ = θ − lr·(m̂ / (√v̂ + ε) + λ·θ)
// Each parameter gets its own step size (large where gradients are small and
// consistent), and the weight decay λ·θ is applied to θ directly rather than
// folded into g (Loshchilov & Hutter, 2019) — that is the "W".
// The moments m and v are buffers with the parameters' layout (chapter 07).
#pragma once

#include <cstddef>

#include "chapters/07_gpt/parameters.h"

namespace gpt {

struct AdamWConfig {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

// One update of n parameters, in place. `t` is the 1-based step number.
void adamw_update(float* params,       // (n)
                  const float* grads,  // (n)
                  float* m,            // (n) first moment
                  float* v,            // (n) second moment
                  size_t n, int t, float lr, const AdamWConfig& config, float weight_decay);

// Decays only matrices (weights of Linear layers and the embedding tables),
// not biases or LayerNorm parameters, as GPT-2 does. Returns nothing; updates
// params, m and v slot by slot at step t with learning rate lr.
void adamw_step(ParameterBuffer& params, const ParameterBuffer& grads, ParameterBuffer& m,
                ParameterBuffer& v, int t, float lr, const AdamWConfig& config);

// The same on raw buffers of layout.total() floats each, laid out by `layout`.
void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                float* v, int t, float lr, const AdamWConfig& config);

// Whether the parameter `slot` is weight-decayed.
bool decays(const ParameterSlot& slot);

}  // namespace gpt
