// chapters/15_bpe/learn_bpe.cc — count pairs, merge the most frequent, repeat.
#include "chapters/15_bpe/learn_bpe.h"

#include <stdexcept>
#include <string>
#include <unordered_map>

#include "chapters/15_bpe/pretokenizer.h"

namespace gpt {

void merge_pair(std::vector<int32_t>& ids, int32_t left, int32_t right, int32_t merged) {
  size_t out = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
      ids[out++] = merged;
      ++i;  // the right one is used up
    } else {
      ids[out++] = ids[i];
    }
  }
  ids.resize(out);
}

Bpe learn_bpe(std::string_view text, int vocab_size, const std::function<void(int, int)>& progress) {
  if (vocab_size < 256 || vocab_size > 1000000) {
    throw std::invalid_argument("a byte-level BPE has between 256 and 1,000,000 tokens, not " +
                                std::to_string(vocab_size));
  }
  // Each distinct piece once, with its count, as bytes.
  std::unordered_map<std::string_view, int64_t> piece_counts;
  Pretokenizer pieces(text);
  std::string_view piece;
  while (pieces.next(piece)) ++piece_counts[piece];
  std::vector<WordCount> words;
  for (const auto& [p, count] : piece_counts) {
    if (p.size() < 2) continue;  // a single byte has no pair to merge
    WordCount w;
    for (char b : p) w.ids.push_back(static_cast<uint8_t>(b));
    w.count = count;
    words.push_back(std::move(w));
  }

  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  std::vector<Merge> merges;
  const int wanted = vocab_size - 256;
  // lesson: learn
  while (static_cast<int>(merges.size()) < wanted) {
    const PairCount best = most_frequent_pair(words);
    if (best.count < 2) break;  // nothing left worth a token
    const int32_t merged = static_cast<int32_t>(tokens.size());
    tokens.push_back(tokens[best.left] + tokens[best.right]);
    merges.push_back({best.left, best.right, merged});
    for (WordCount& w : words) merge_pair(w.ids, best.left, best.right, merged);
    if (progress && merges.size() % 100 == 0) progress(static_cast<int>(merges.size()), wanted);
  }
  // end lesson
  if (progress) progress(static_cast<int>(merges.size()), wanted);
  return Bpe(std::move(tokens), std::move(merges));
}

}  // namespace gpt
