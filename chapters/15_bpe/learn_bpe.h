// chapters/15_bpe/learn_bpe.h — learning merges from a corpus.
//
// Start from bytes. Count every adjacent pair of tokens in the text; the most
// frequent pair becomes a new token, and every occurrence of it is merged;
// count again, merge again, until the vocabulary has the size you asked for.
// The merges' order is their rank: encoding replays them in that order.
//
// Pairs are counted inside pre-tokenizer pieces only (never across " the"
// and " cat"), and each distinct piece once, weighted by how often it occurs:
// Austen's 931,686 pieces are 21,343 distinct ones.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "chapters/15_bpe/bpe.h"

namespace gpt {

// A distinct piece of the corpus as its current tokens, and how often it occurs.
struct WordCount {
  std::vector<int32_t> ids;
  int64_t count = 0;
};

// The adjacent pair with the highest total count over `words` (each word's
// pairs count `count` times); among equal counts the smallest (left, right).
// A pair's count is 0 when no word has two tokens.
struct PairCount {
  int32_t left = -1, right = -1;
  int64_t count = 0;
};
PairCount most_frequent_pair(const std::vector<WordCount>& words);

// Replaces each occurrence of (left, right) in `ids`, left to right, by `merged`.
void merge_pair(std::vector<int32_t>& ids, int32_t left, int32_t right, int32_t merged);

// Learns merges from `text` until there are vocab_size tokens (at least 256)
// or no pair occurs twice. progress(merges done, merges wanted) is called
// every 100 merges and once at the end. Throws std::invalid_argument for
// vocab_size < 256 or above 1,000,000.
Bpe learn_bpe(std::string_view text, int vocab_size,
              const std::function<void(int, int)>& progress = {});

}  // namespace gpt
