// chapters/06_transformer_block/residual.cc — chapter 06: the residual connection, a + b.
// Exercise: residual_exercise.cc is this file with the body removed.
#include "chapters/06_transformer_block/residual.h"

#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: residual_forward
void residual_forward(float* out, const float* a, const float* b, int64_t N) {
  if (N < 0) {
    throw std::invalid_argument("residual_forward: N must be >= 0, got " + std::to_string(N));
  }
  VectorMap(out, N) = ConstVectorMap(a, N) + ConstVectorMap(b, N);  // (N), element by element
}
// end lesson

}  // namespace gpt
