// chapters/02_embeddings/embeddings_exercise.cc — EXERCISE: the embedding lookups.
//
//   bazel test --define=exercise=02_embeddings/embeddings //chapters/02_embeddings/...
// Stuck? chapters/02_embeddings/HINTS.md has three graded hints; the lesson's
// folded solution is the last resort.
#include "chapters/02_embeddings/embeddings.h"

#include <stdexcept>

#include "common/eigen_maps.h"

namespace gpt {

void token_embedding_forward(float* out, const int32_t* tokens, const float* wte,
                             int B, int T, int C, int V) {
  // TODO(you): out (B, T, C): each token's row of wte (V, C), for tokens
  // (B, T) (see embeddings.h). An id outside [0, V) throws std::out_of_range
  // whose message contains "token id <id>".
  (void)out, (void)tokens, (void)wte, (void)B, (void)T, (void)C, (void)V;
}

void embedding_forward(float* out, const int32_t* tokens, const float* wte,
                       const float* positions, int B, int T, int C, int V) {
  // TODO(you): as token_embedding_forward, plus each token's position row
  // from positions (P, C), T <= P. Same error for a bad id.
  (void)out, (void)tokens, (void)wte, (void)positions, (void)B, (void)T, (void)C, (void)V;
}

}  // namespace gpt
