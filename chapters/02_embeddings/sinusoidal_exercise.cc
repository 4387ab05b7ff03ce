// chapters/02_embeddings/sinusoidal_exercise.cc — EXERCISE: the sinusoidal table.
//
//   bazel test --define=exercise=02_embeddings //chapters/02_embeddings:embeddings_test
// The solution is sinusoidal.cc.
#include "chapters/02_embeddings/sinusoidal.h"

#include <stdexcept>

namespace gpt {

void sinusoidal_table(float* table, int P, int C) {
  // TODO(you): throw std::invalid_argument if C is odd. Then for each channel
  // pair i < C/2 and position p < P:
  //   table[p*C + 2i] = sin(p * 10000^(-2i/C)),  table[p*C + 2i + 1] = cos(...)
  // Compute the angle in double: the reference rounds the exact value once.
  (void)table, (void)P, (void)C;
}

}  // namespace gpt
