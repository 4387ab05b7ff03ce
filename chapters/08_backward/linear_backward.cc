// chapters/08_backward/linear_backward.cc — the linear layer's two matrix products.
#include "chapters/08_backward/linear_backward.h"

#include "common/eigen_maps.h"

namespace gpt {

// lesson: linear_backward
void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC) {
  ConstMatrixMap dy(dout, N, OC);
  ConstMatrixMap x(inp, N, IC);
  ConstMatrixMap W(weight, OC, IC);
  MatrixMap(dinp, N, IC).noalias() += dy * W;                 // (N, OC)(OC, IC)
  MatrixMap(dweight, OC, IC).noalias() += dy.transpose() * x;  // (OC, N)(N, IC)
  if (dbias != nullptr) VectorMap(dbias, OC) += dy.colwise().sum();
}
// end lesson

}  // namespace gpt
