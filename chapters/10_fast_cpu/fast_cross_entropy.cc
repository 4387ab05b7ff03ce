// chapters/10_fast_cpu/fast_cross_entropy.cc — softmax and cross-entropy in one pass per row.
//
// Chapter 07 computes probs = softmax(logits) and then −log probs[target]. Fused,
// each row is read once for its maximum and once for the exponentials, and the
// loss comes from the log-sum-exp directly: loss = log Σ exp(z − max) + max − z[target].
#include <cmath>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

// lesson: cross_entropy
float fast_cross_entropy_forward(float* losses, float* probs, const float* logits,
                                 const int32_t* targets, int N, int V, int threads) {
  parallel_rows(N, threads, [&](int n) {
    const float* z = logits + int64_t(n) * V;  // (V)
    float* p = probs + int64_t(n) * V;         // (V)
    float max = z[0];
    for (int j = 1; j < V; ++j) max = std::max(max, z[j]);
    float sum = 0.0f;
    for (int j = 0; j < V; ++j) sum += (p[j] = std::exp(z[j] - max));
    const float inv = 1.0f / sum;
    for (int j = 0; j < V; ++j) p[j] *= inv;
    losses[n] = std::log(sum) + max - z[targets[n]];
  });
  double total = 0;  // in row order: the same mean for any number of threads
  for (int n = 0; n < N; ++n) total += losses[n];
  return static_cast<float>(total / N);
}
// end lesson

void fast_cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                                 const int32_t* targets, int N, int V, int threads,
                                 bool overwrite) {
  const float scale = dloss * (1.0f / N);  // d(mean loss)/d(loss of one row), times dloss
  parallel_rows(N, threads, [&](int n) {
    const float* p = probs + int64_t(n) * V;  // (V)
    float* d = dlogits + int64_t(n) * V;      // (V)
    if (overwrite) {  // adding to zeros, without reading them
      for (int j = 0; j < V; ++j) d[j] = 0.0f + p[j] * scale;
    } else {
      for (int j = 0; j < V; ++j) d[j] += p[j] * scale;
    }
    d[targets[n]] -= scale;
  });
}

}  // namespace gpt
