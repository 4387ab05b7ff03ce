// chapters/10_fast_cpu/fast_layernorm.cc — chapter 05's LayerNorm and chapter 08's
// backward: rows on threads, the weight gradients by columns (row_loops.h).
#include <cmath>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"
#include "common/eigen_maps.h"

namespace gpt {

using RowArray = Eigen::Map<Eigen::ArrayXf>;
using ConstRowArray = Eigen::Map<const Eigen::ArrayXf>;

// Rows that go through each step together (row_loops.h's parallel_row_groups):
// 8 rows of C = 256 floats are 8 KB, in L1 from one step to the next.
constexpr int kRowGroup = 8;

// lesson: layernorm
void fast_layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int N, int C, float eps,
                            int threads) {
  const ConstRowArray w(weight, C), b(bias, C);
  parallel_row_groups(N, kRowGroup, threads, [&](int n0, int n1) {
    float m[kRowGroup], s[kRowGroup];  // each row's mean and 1/std
    const auto row = [&](int n) { return ConstRowArray(inp + int64_t(n) * C, C); };  // (C)
    for (int n = n0; n < n1; ++n) m[n - n0] = row(n).mean();
    for (int n = n0; n < n1; ++n) {  // two passes over x: no cancellation
      const float var = (row(n) - m[n - n0]).square().mean();
      s[n - n0] = 1.0f / std::sqrt(var + eps);
    }
    for (int n = n0; n < n1; ++n) {
      RowArray(out + int64_t(n) * C, C) = (row(n) - m[n - n0]) * s[n - n0] * w + b;
      if (mean) mean[n] = m[n - n0];
      if (rstd) rstd[n] = s[n - n0];
    }
  });
}
// end lesson

void fast_layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                             const float* inp, const float* mean, const float* rstd,
                             const float* weight, int N, int C, int threads,
                             bool overwrite_dinp) {
  const ConstRowArray w(weight, C);
  parallel_rows(N, threads, [&](int n) {
    const ConstRowArray x(inp + int64_t(n) * C, C), dy(dout + int64_t(n) * C, C);
    const float s = rstd[n];
    // x̂ = (x − mean)·rstd; dx̂ = dy ⊙ w; dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))
    const auto xhat = (x - mean[n]) * s;
    const auto dxhat = dy * w;
    const float mean_dxhat = dxhat.mean();
    const float mean_dxhat_xhat = (dxhat * xhat).mean();
    RowArray dx(dinp + int64_t(n) * C, C);
    if (overwrite_dinp) {  // written as adding to zeros: the same bits, without reading dinp
      dx = 0.0f + s * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat);
    } else {
      dx += s * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat);
    }
  });
  parallel_columns(C, threads, [&](int j0, int j1) {  // Σ_n over rows, by columns
    for (int n = 0; n < N; ++n) {
      const float* x = inp + int64_t(n) * C;
      const float* dy = dout + int64_t(n) * C;
      const float m = mean[n], s = rstd[n];
#pragma omp simd  // columns are independent: 8 at a time (fast_train_ops.cc's simd_loops)
      for (int j = j0; j < j1; ++j) {
        dweight[j] += dy[j] * (x[j] - m) * s;
        dbias[j] += dy[j];
      }
    }
  });
}

}  // namespace gpt
