// chapters/02_embeddings/embeddings_exercise.cc — EXERCISE: the embedding lookups.
//
//   bazel test --define=exercise=02_embeddings //chapters/02_embeddings:embeddings_test
// The solution is embeddings.cc.
#include "chapters/02_embeddings/embeddings.h"

#include <stdexcept>

#include "common/eigen_maps.h"

namespace gpt {

void token_embedding_forward(float* out, const int32_t* tokens, const float* wte,
                             int B, int T, int C, int V) {
  // TODO(you): row b*T + t of `out` (viewed as a (B*T, C) MatrixMap) is row
  // tokens[b*T + t] of wte (a (V, C) ConstMatrixMap). Throw std::out_of_range
  // for an id outside [0, V).
  (void)out, (void)tokens, (void)wte, (void)B, (void)T, (void)C, (void)V;
}

void embedding_forward(float* out, const int32_t* tokens, const float* wte,
                       const float* positions, int B, int T, int C, int V) {
  // TODO(you): as above, plus row t of the position table.
  (void)out, (void)tokens, (void)wte, (void)positions, (void)B, (void)T, (void)C, (void)V;
}

}  // namespace gpt
