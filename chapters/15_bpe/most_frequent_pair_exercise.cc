// chapters/15_bpe/most_frequent_pair_exercise.cc — YOUR TURN: the pair BPE learns next.
//
// Build with --define=exercise=15_bpe/most_frequent_pair and make bpe_test pass.
// Hints: HINTS.md, "most_frequent_pair".
#include "chapters/15_bpe/learn_bpe.h"

namespace gpt {

// Count every adjacent pair (left, right) over all words, each word's pairs
// weighted by its count, and return the pair with the highest total; of
// equal totals, the smallest (left, right). A default PairCount (count 0)
// when no word has two tokens.
PairCount most_frequent_pair(const std::vector<WordCount>& words) {
  (void)words;
  // TODO: your code here.
  return {};
}

}  // namespace gpt
