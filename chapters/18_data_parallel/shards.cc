// chapters/18_data_parallel/shards.cc — ZeRO-1's arithmetic: who owns which floats.
// (The part you write; shards_exercise.cc is your stub.)
#include <algorithm>

#include "chapters/18_data_parallel/communicator.h"

namespace gpt {

// lesson: shards
Shards shard_ranges(size_t n, int ranks) {
  Shards shards;
  const size_t base = n / ranks, extra = n % ranks;  // the first `extra` shards get one more
  shards.offsets.push_back(0);
  for (int r = 0; r < ranks; ++r) {
    shards.offsets.push_back(shards.offsets.back() + base + (size_t(r) < extra ? 1 : 0));
  }
  return shards;
}

std::vector<SlotPiece> slot_pieces(const ParameterLayout& layout, size_t begin, size_t end) {
  std::vector<SlotPiece> pieces;
  for (const ParameterSlot& slot : layout.slots()) {
    const size_t lo = std::max(begin, slot.offset);
    const size_t hi = std::min(end, slot.offset + slot.numel);
    if (lo < hi) pieces.push_back({&slot, lo, hi});
  }
  return pieces;
}
// end lesson

}  // namespace gpt
