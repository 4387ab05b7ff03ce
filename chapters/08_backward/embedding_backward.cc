// chapters/08_backward/embedding_backward.cc — a lookup's gradient is a scatter-add.
#include "chapters/08_backward/embedding_backward.h"

#include <stdexcept>
#include <string>

#include "common/eigen_maps.h"

namespace gpt {

// lesson: embedding_backward
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                        int B, int T, int C, int V) {
  for (int64_t bt = 0; bt < int64_t(B) * T; ++bt) {  // check every id before adding anything
    if (tokens[bt] < 0 || tokens[bt] >= V) {
      throw std::out_of_range("token id " + std::to_string(tokens[bt]) + " at position " +
                              std::to_string(bt) + " is outside the vocabulary [0, " +
                              std::to_string(V) + ")");
    }
  }
  MatrixMap dtoken_table(dwte, V, C);                        // (V, C)
  MatrixMap dposition_table(dwpe, dwpe ? T : 0, C);          // rows < T of (P, C), if learned
  ConstMatrixMap dy(dout, int64_t(B) * T, C);                // (B*T, C): row b*T + t
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      const int64_t bt = int64_t(b) * T + t;
      const int32_t id = tokens[bt];
      dtoken_table.row(id) += dy.row(bt);  // +=: the same id may occur many times
      if (dwpe != nullptr) dposition_table.row(t) += dy.row(bt);
    }
  }
}
// end lesson

}  // namespace gpt
