// chapters/08_backward/residual_backward.cc — dout, handed to both inputs.
#include "chapters/08_backward/residual_backward.h"

#include "common/eigen_maps.h"

namespace gpt {

void residual_backward(float* da, float* db, const float* dout, int64_t N) {
  VectorMap(da, N) += ConstVectorMap(dout, N);
  VectorMap(db, N) += ConstVectorMap(dout, N);
}

}  // namespace gpt
