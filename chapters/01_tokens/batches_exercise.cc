// chapters/01_tokens/batches_exercise.cc — EXERCISE: sample a batch.
//
//   bazel test --define=exercise=01_tokens/batches //chapters/01_tokens/...
// Stuck? chapters/01_tokens/HINTS.md has three graded hints; the lesson's
// folded solution is the last resort.
#include "chapters/01_tokens/batches.h"

#include <stdexcept>

namespace gpt {

Batch sample_batch(const std::vector<int32_t>& tokens, int B, int T, Rng& rng) {
  // TODO(you): B rows, each a window of T + 1 consecutive tokens at a random
  // offset drawn from `rng` (every offset whose window fits must be possible):
  // inputs (B, T) holds the first T tokens of each window, targets (B, T) the
  // last T. B <= 0, T <= 0, and a text shorter than T + 1 tokens throw
  // std::invalid_argument ("fewer than one block").
  (void)tokens;
  (void)rng;
  const size_t n = B > 0 && T > 0 ? size_t(B) * T : 0;
  return Batch{B, T, std::vector<int32_t>(n), std::vector<int32_t>(n)};
}

}  // namespace gpt
