// chapters/02_embeddings/embeddings.cc — embedding lookups as Eigen row copies.
// Exercise: embeddings_exercise.cc is this file with the bodies removed.
#include "chapters/02_embeddings/embeddings.h"

#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {
namespace {

void check_token(int32_t id, int V, int64_t where) {
  if (id < 0 || id >= V) {
    throw std::out_of_range("token id " + std::to_string(id) + " at position " +
                            std::to_string(where) + " is outside the vocabulary [0, " +
                            std::to_string(V) + ")");
  }
}

}  // namespace

void token_embedding_forward(float* out, const int32_t* tokens, const float* wte,
                             int B, int T, int C, int V) {
  MatrixMap y(out, int64_t(B) * T, C);      // one row per (b, t)
  ConstMatrixMap table(wte, V, C);
  for (int64_t bt = 0; bt < int64_t(B) * T; ++bt) {
    check_token(tokens[bt], V, bt);
    y.row(bt) = table.row(tokens[bt]);
  }
}

// lesson: embedding_forward
void embedding_forward(float* out, const int32_t* tokens, const float* wte,
                       const float* positions, int B, int T, int C, int V) {
  MatrixMap y(out, int64_t(B) * T, C);       // (B*T, C): row b*T + t
  ConstMatrixMap token_table(wte, V, C);     // (V, C)
  ConstMatrixMap position_table(positions, T, C);  // the first T rows of (P, C)
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      const int64_t bt = int64_t(b) * T + t;
      check_token(tokens[bt], V, bt);
      y.row(bt) = token_table.row(tokens[bt]) + position_table.row(t);
    }
  }
}
// end lesson

}  // namespace gpt
