// chapters/15_bpe/merge_by_rank_exercise.cc — YOUR TURN: merge a piece's tokens by rank.
//
// Build with --define=exercise=15_bpe/merge_by_rank and make bpe_test pass.
// Hints: HINTS.md, "merge_by_rank".
#include "chapters/15_bpe/pair_table.h"

namespace gpt {

// `ids` holds one piece's tokens, one per byte to begin with. Merge them in
// place until no adjacent pair has a merge in `pairs` (pairs.find(a, b)
// returns its rank and result, or nullptr). Among the pairs that merge,
// always take the lowest rank first, and of equal ones the leftmost.
void merge_by_rank(std::vector<int32_t>& ids, const PairTable& pairs) {
  (void)ids;
  (void)pairs;
  // TODO: your code here.
}

}  // namespace gpt
