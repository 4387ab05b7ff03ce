// chapters/05_feedforward_layernorm/layernorm.cc — chapter 05: LayerNorm, two passes per row.
// Exercise: layernorm_exercise.cc is this file with the body removed.
#include "chapters/05_feedforward_layernorm/layernorm.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: layernorm_forward
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C, float eps) {
  if (N < 0 || C < 1) {
    throw std::invalid_argument("layernorm_forward needs N >= 0 and C >= 1, got N=" +
                                std::to_string(N) + ", C=" + std::to_string(C));
  }
  ConstMatrixMap x(inp, N, C);                       // (N, C)
  MatrixMap y(out, N, C);                            // (N, C)
  ConstVectorMap w(weight, C), b(bias, C);           // (C)
  for (int n = 0; n < N; ++n) {
    // The row's sums are kept in double: see the README on rows far from 0.
    const auto row = x.row(n).cast<double>().array();  // (C), a lazy view: nothing copied
    const double m = row.mean();                                   // pass 1: the mean
    const double var = (row - m).square().mean();                  // pass 2: deviations²
    const double r = 1.0 / std::sqrt(var + static_cast<double>(eps));
    y.row(n) = ((row - m) * r).cast<float>() * w.array() + b.array();
    if (mean != nullptr) mean[n] = static_cast<float>(m);
    if (rstd != nullptr) rstd[n] = static_cast<float>(r);
  }
}
// end lesson

}  // namespace gpt
