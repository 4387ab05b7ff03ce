// chapters/04_multihead_attention/linear.cc — chapter 04: the fully connected layer.
// Exercise: linear_exercise.cc is this file with the body removed.
#include "chapters/04_multihead_attention/linear.h"

#include "common/eigen_maps.h"

namespace gpt {

// lesson: linear_forward
void linear_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int IC, int OC) {
  MatrixMap y(out, N, OC);               // (N, OC)
  ConstMatrixMap x(inp, N, IC);          // (N, IC)
  ConstMatrixMap w(weight, OC, IC);      // (OC, IC), PyTorch's layout
  y.noalias() = x * w.transpose();       // one matrix product does every row at once
  if (bias != nullptr) {
    y.rowwise() += ConstVectorMap(bias, OC);  // (OC), added to every row
  }
}
// end lesson

}  // namespace gpt
