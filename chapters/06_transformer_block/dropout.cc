// chapters/06_transformer_block/dropout.cc — masks drawn from the seeded Rng.
#include "chapters/06_transformer_block/dropout.h"

#include <stdexcept>
#include <string>

namespace gpt {

void dropout_mask(float* mask, int64_t N, float p, Rng& rng) {
  if (!(p >= 0.0f && p < 1.0f)) {
    throw std::invalid_argument("dropout must be in [0, 1), got " + std::to_string(p));
  }
  const float keep_scale = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < N; ++i) mask[i] = rng.uniform() < p ? 0.0f : keep_scale;
}

void dropout_forward(float* out, const float* inp, const float* mask, int64_t N) {
  for (int64_t i = 0; i < N; ++i) out[i] = inp[i] * mask[i];
}

}  // namespace gpt
