// chapters/18_data_parallel/shards_exercise.cc — YOUR VERSION of ZeRO-1's shard arithmetic.
//
// Build with it: bazel test --define=exercise=18_data_parallel //chapters/18_data_parallel/...
// Hints: HINTS.md. The tests: shards_test.cc (and the mpirun tests, whose
// ZeRO-1 runs update only what these functions give each rank).
#include "chapters/18_data_parallel/communicator.h"

namespace gpt {

// n floats over `ranks` ranks: offsets[0] = 0, offsets[ranks] = n, every
// shard floor(n / ranks) or one more, the larger ones first.
Shards shard_ranges(size_t n, int ranks) {
  (void)n;
  (void)ranks;
  // TODO: ranks + 1 offsets.
  return Shards{{0}};
}

// The part of each slot of `layout` inside [begin, end), in buffer order;
// slots that do not reach into it give no piece.
std::vector<SlotPiece> slot_pieces(const ParameterLayout& layout, size_t begin, size_t end) {
  (void)layout;
  (void)begin;
  (void)end;
  // TODO: intersect [slot.offset, slot.offset + slot.numel) with [begin, end).
  return {};
}

}  // namespace gpt
