// chapters/10_fast_cpu/cached_attention.cc — chapter 10: one query against the cache.
// Exercise: cached_attention_exercise.cc is this file with the bodies removed.
#include "chapters/10_fast_cpu/cached_attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: kv_cache_append
void kv_cache_append(float* k_cache, float* v_cache, const float* qkv, int t, int C) {
  std::copy(qkv + C, qkv + 2 * C, k_cache + size_t(t) * C);      // k: row t of K
  std::copy(qkv + 2 * C, qkv + 3 * C, v_cache + size_t(t) * C);  // v: row t of V
}
// end lesson

// lesson: cached_attention_forward
void cached_attention_forward(float* out, float* scores, const float* q, const float* k_cache,
                              const float* v_cache, int t, int C, int H) {
  if (t < 0 || C < 1 || H < 1 || C % H != 0) {
    throw std::invalid_argument("cached_attention_forward needs t >= 0 and H dividing C, got t=" +
                                std::to_string(t) + ", C=" + std::to_string(C) +
                                ", H=" + std::to_string(H));
  }
  const int hs = C / H, S = t + 1;  // S positions to attend to: 0..t
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // Head h of the cache: an (S, hs) block with row stride C.
  using HeadMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
  Eigen::Map<Eigen::VectorXf> w(scores, S);  // (S)
  for (int h = 0; h < H; ++h) {
    const HeadMap K(k_cache + h * hs, S, hs, Eigen::OuterStride<>(C));  // (S, hs)
    const HeadMap V(v_cache + h * hs, S, hs, Eigen::OuterStride<>(C));  // (S, hs)
    const Eigen::Map<const Eigen::VectorXf> q_h(q + h * hs, hs);        // (hs)
    w.noalias() = (K * q_h) * scale;            // (S): scores, as in chapter 03
    w = (w.array() - w.maxCoeff()).exp();       // stable softmax, no mask needed:
    w /= w.sum();                               // the cache holds only the past
    Eigen::Map<Eigen::RowVectorXf>(out + h * hs, hs).noalias() = w.transpose() * V;  // (hs)
  }
}
// end lesson

}  // namespace gpt
