// chapters/15_bpe/most_frequent_pair.cc — the pair BPE learns next.
#include <unordered_map>

#include "chapters/15_bpe/learn_bpe.h"

namespace gpt {

// lesson: most_frequent_pair
PairCount most_frequent_pair(const std::vector<WordCount>& words) {
  std::unordered_map<uint64_t, int64_t> counts;  // (left << 32 | right) → occurrences
  for (const WordCount& w : words) {
    for (size_t i = 0; i + 1 < w.ids.size(); ++i) {
      counts[(uint64_t(uint32_t(w.ids[i])) << 32) | uint32_t(w.ids[i + 1])] += w.count;
    }
  }
  uint64_t best_key = 0;
  int64_t best_count = 0;
  for (const auto& [key, count] : counts) {
    if (count > best_count || (count == best_count && key < best_key)) {
      best_key = key;
      best_count = count;
    }
  }
  if (best_count == 0) return {};
  return {static_cast<int32_t>(best_key >> 32), static_cast<int32_t>(best_key & 0xFFFFFFFFu),
          best_count};
}
// end lesson

}  // namespace gpt
