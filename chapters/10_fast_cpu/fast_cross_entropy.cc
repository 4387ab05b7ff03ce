// chapters/10_fast_cpu/fast_cross_entropy.cc — softmax and cross-entropy in one pass per row.
//
// Chapter 07 computes probs = softmax(logits) and then −log probs[target]. Fused,
// each row is read once for its maximum and once for the exponentials, and the
// loss comes from the log-sum-exp directly: loss = log Σ exp(z − max) + max − z[target].
// A row goes a register at a time (row_blocks.h), its last block too: with
// V = 65 a float-at-a-time loop would call the C library's expf 65 times a row.
// Eigen's vector exp stops at about −88.7: below it, a −inf logit included,
// it gives 0 with AVX-512 and about 3e-39 with AVX2, where std::exp gives a
// denormal or 0. A probability of 1e-39 instead of 0, far inside any tolerance.
#include <cmath>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_blocks.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

// lesson: cross_entropy
float fast_cross_entropy_forward(float* losses, float* probs, const float* logits,
                                 const int32_t* targets, int N, int V, int threads) {
  constexpr int W = kRowLanes;
  const int last = last_block(V - 1), tail = V - last;  // the last block: columns [last, V)
  parallel_rows(N, threads, [&](int n) {
    const float* z = logits + int64_t(n) * V;  // (V)
    float* p = probs + int64_t(n) * V;         // (V)
    const float max = row_largest(z, V);
    RowBlock sums = RowBlock::Zero();
    for (int j = 0; j < last; j += W) {
      RowBlockAt e(p + j);
      e = (ConstRowBlockAt(z + j) - max).exp();
      sums += e;
    }
    const RowBlock z_last = partial_block(z + last, tail, z[0]);  // lanes past V: z[0]
    const RowBlock e_last = (z_last - max).exp() * ConstRowBlockAt(kKeep + 16 - tail);
    sums += e_last;
    std::copy_n(e_last.data(), tail, p + last);  // lanes past V are not the row's
    const float sum = sums.sum();
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
