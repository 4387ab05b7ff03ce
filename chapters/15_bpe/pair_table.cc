// chapters/15_bpe/pair_table.cc — building the merge table; merging long pieces with a heap.
#include "chapters/15_bpe/pair_table.h"

#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <utility>

namespace gpt {

PairTable::PairTable(const std::vector<Merge>& merges) {
  uint64_t size = 16;
  while (size < 2 * merges.size()) size *= 2;
  slots_.assign(size, Slot{});
  mask_ = size - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Merge& m = merges[rank];
    const uint64_t key = pack(m.left, m.right);
    uint64_t i = mix(key) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == key) {
      throw std::invalid_argument("merge " + std::to_string(rank) + " (" + std::to_string(m.left) +
                                  ", " + std::to_string(m.right) + ") repeats merge " +
                                  std::to_string(slots_[i].merge.rank));
    }
    slots_[i].key = key;
    slots_[i].merge = {static_cast<int32_t>(rank), m.merged};
  }
}

void merge_long_piece(std::vector<int32_t>& ids, const PairTable& pairs) {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  // The tokens as a linked list over their first byte's position; a merged
  // token keeps the left one's position and unlinks the right one.
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // Candidates (rank, left position): the heap pops the lowest rank, then the
  // leftmost. Merges make candidates stale; a popped one is checked first.
  using Candidate = std::pair<int32_t, int>;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto push = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    if (const PairMerge* m = pairs.find(ids[left], ids[next[left]])) heap.push({m->rank, left});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  std::vector<bool> gone(n, false);
  while (!heap.empty()) {
    const auto [rank, left] = heap.top();
    heap.pop();
    if (gone[left] || next[left] < 0) continue;
    const PairMerge* m = pairs.find(ids[left], ids[next[left]]);
    if (!m || m->rank != rank) continue;  // stale: the pair here changed since
    const int right = next[left];
    ids[left] = m->merged;
    gone[right] = true;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    push(prev[left]);  // the new pairs on each side
    push(left);
  }
  std::vector<int32_t> merged;
  for (int i = 0; i >= 0; i = next[i]) merged.push_back(ids[i]);
  ids = std::move(merged);
}

}  // namespace gpt
