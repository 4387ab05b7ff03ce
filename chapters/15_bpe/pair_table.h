// chapters/15_bpe/pair_table.h — which two tokens merge, at what rank, into what.
//
// A BPE vocabulary is a list of merges learned in order: merge 0 was the most
// frequent pair in the training text, merge 1 the most frequent after that,
// and so on. Encoding asks one question again and again: "do tokens a and b,
// side by side, merge, and if so, how early was that merge learned (its
// rank) and what token does it make?" This table answers it with one hash
// lookup: the key packs the two ids into 64 bits, the slots are open
// addressing with linear probing, a power of two of them, at most half full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpt {

struct Merge {
  int32_t left, right;  // the two tokens, in this order
  int32_t merged;       // the token they become
};

struct PairMerge {
  int32_t rank;    // the merge's position in the list: lower merges first
  int32_t merged;  // the token the pair becomes
};

class PairTable {
 public:
  PairTable() = default;
  // merges[r] gets rank r. Throws std::invalid_argument when a pair is listed twice.
  explicit PairTable(const std::vector<Merge>& merges);

  // The merge of `left` followed by `right`; nullptr if they do not merge.
  const PairMerge* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return &slot.merge;
      if (slot.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pack(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  static uint64_t mix(uint64_t key) {  // spreads the ids' bits over the slot index
    key ^= key >> 29;
    key *= 0xBF58476D1CE4E5B9ull;
    return key ^ (key >> 32);
  }
  struct Slot {
    uint64_t key = kEmpty;
    PairMerge merge{};
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

// One piece's tokens, merged: `ids` starts as the piece's bytes, one token
// each, and ends as its tokens. Each round merges the adjacent pair with the
// lowest rank (the leftmost, if that pair occurs more than once) until no
// adjacent pair has a merge. Rounds cost O(n) each here (n = ids.size()), so
// this is for short pieces; merge_long_piece gives the same result in
// O(n log n).
void merge_by_rank(std::vector<int32_t>& ids, const PairTable& pairs);

// The same merges with a heap of candidate pairs: for pieces of thousands of
// bytes (a line of 10,000 dashes is one piece), where rounds of O(n) would
// take O(n²).
void merge_long_piece(std::vector<int32_t>& ids, const PairTable& pairs);

}  // namespace gpt
