// chapters/09_training/grad_clip.cc — one norm over one buffer, one scale.
#include "chapters/09_training/grad_clip.h"

#include <cmath>

namespace gpt {

double global_norm(const float* g, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(g[i]) * g[i];
  return std::sqrt(sum);
}

// lesson: clip
double clip_scale(double norm, float max_norm) {
  if (max_norm <= 0.0f) return 1.0;
  const double scale = max_norm / (norm + 1e-6);
  return scale < 1.0 ? scale : 1.0;
}

double clip_grad_norm(float* g, size_t n, float max_norm) {
  const double norm = global_norm(g, n);
  const double scale = clip_scale(norm, max_norm);
  if (scale < 1.0) {
    for (size_t i = 0; i < n; ++i) g[i] = static_cast<float>(g[i] * scale);
  }
  return norm;
}
// end lesson

}  // namespace gpt
