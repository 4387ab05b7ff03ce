// chapters/02_embeddings/sinusoidal_exercise.cc — EXERCISE: the sinusoidal table.
//
//   bazel test --define=exercise=02_embeddings/sinusoidal //chapters/02_embeddings/...
// Stuck? chapters/02_embeddings/HINTS.md has three graded hints; the lesson's
// folded solution is the last resort.
#include "chapters/02_embeddings/sinusoidal.h"

#include <stdexcept>

namespace gpt {

void sinusoidal_table(float* table, int P, int C) {
  // TODO(you): fill table (P, C) with the sinusoidal encodings of positions
  // 0..P-1 (sinusoidal.h; the lesson's section 3). C odd throws
  // std::invalid_argument. Match the reference: compute in double, round to
  // float once.
  (void)table, (void)P, (void)C;
}

}  // namespace gpt
