// chapters/08_backward/layernorm_backward.cc — LayerNorm's backward, row by row.
// Exercise: layernorm_backward_exercise.cc is this file with the body removed.
#include "chapters/08_backward/layernorm_backward.h"

#include "common/eigen_maps.h"

namespace gpt {

// lesson: layernorm_backward
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* mean, const float* rstd,
                        const float* weight, int N, int C) {
  ConstMatrixMap dy(dout, N, C), x(inp, N, C);
  MatrixMap dx(dinp, N, C);
  VectorMap dw(dweight, C), db(dbias, C);
  ConstVectorMap w(weight, C);
  Eigen::RowVectorXf xhat(C), g(C);
  for (int n = 0; n < N; ++n) {
    xhat = (x.row(n).array() - mean[n]) * rstd[n];  // the normalised row, (C)
    g = dy.row(n).cwiseProduct(w);                  // the gradient reaching x̂, (C)
    const float g_mean = g.mean();
    const float gx_mean = g.cwiseProduct(xhat).mean();
    dx.row(n).array() += rstd[n] * (g.array() - g_mean - xhat.array() * gx_mean);
    dw += dy.row(n).cwiseProduct(xhat);
    db += dy.row(n);
  }
}
// end lesson

}  // namespace gpt
