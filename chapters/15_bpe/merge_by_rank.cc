// chapters/15_bpe/merge_by_rank.cc — BPE's encoding step: merge the earliest-learned pair first.
#include <cstddef>

#include "chapters/15_bpe/pair_table.h"

namespace gpt {

// lesson: merge_by_rank
void merge_by_rank(std::vector<int32_t>& ids, const PairTable& pairs) {
  if (ids.size() < 2) return;
  // merges[i]: what ids[i] and ids[i + 1] merge into, and at what rank
  // (nullptr: they do not merge). A merge changes only the pairs on either
  // side of it, so a round looks up two pairs, not all of them.
  std::vector<const PairMerge*> merges(ids.size() - 1);
  for (size_t i = 0; i + 1 < ids.size(); ++i) merges[i] = pairs.find(ids[i], ids[i + 1]);
  for (;;) {
    // The pair learned earliest; strict < keeps the leftmost of equals.
    size_t best = merges.size();
    for (size_t i = 0; i < merges.size(); ++i) {
      if (merges[i] && (best == merges.size() || merges[i]->rank < merges[best]->rank)) best = i;
    }
    if (best == merges.size()) return;  // no pair merges: these are the piece's tokens
    ids[best] = merges[best]->merged;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    merges.erase(merges.begin() + static_cast<std::ptrdiff_t>(best));
    if (best > 0) merges[best - 1] = pairs.find(ids[best - 1], ids[best]);
    if (best < merges.size()) merges[best] = pairs.find(ids[best], ids[best + 1]);
  }
}
// end lesson

}  // namespace gpt
