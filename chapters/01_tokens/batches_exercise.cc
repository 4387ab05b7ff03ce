// chapters/01_tokens/batches_exercise.cc — EXERCISE: sample a batch.
//
//   bazel test --define=exercise=01_tokens //chapters/01_tokens:tokens_test
// The solution is batches.cc.
#include "chapters/01_tokens/batches.h"

#include <stdexcept>

namespace gpt {

Batch sample_batch(const std::vector<int32_t>& tokens, int B, int T, Rng& rng) {
  // TODO(you): reject B <= 0, T <= 0 and texts shorter than T + 1 tokens with
  // std::invalid_argument. Then for each of the B rows draw an offset o with
  // rng.below(tokens.size() - T) and copy tokens[o .. o+T-1] into the row of
  // `inputs` and tokens[o+1 .. o+T] into the row of `targets`.
  (void)tokens;
  (void)rng;
  const size_t n = B > 0 && T > 0 ? size_t(B) * T : 0;
  return Batch{B, T, std::vector<int32_t>(n), std::vector<int32_t>(n)};
}

}  // namespace gpt
