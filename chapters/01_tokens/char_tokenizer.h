// chapters/01_tokens/char_tokenizer.h — text to token ids and back.
//
// The simplest tokenizer: every distinct character of the training text is a
// token, numbered in code-point order. A vocabulary of ~80 tokens for English
// prose; the model will learn to spell. (GPT-2's BPE merges frequent byte
// pairs into ~50k tokens instead; same interface, bigger table.)
//
// Unknown characters: encode() refuses text containing a character the
// vocabulary lacks, with an error naming it and where it is. Silently mapping
// it to some other token would feed the model text it never saw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gpt {

class CharTokenizer {
 public:
  // The vocabulary is every distinct character of `text`, sorted.
  static CharTokenizer from_text(std::string_view text);
  // A stored vocabulary (id i is vocabulary[i]), e.g. from a checkpoint.
  explicit CharTokenizer(std::u32string vocabulary);

  // UTF-8 text → ids. Throws std::invalid_argument on a character outside the
  // vocabulary or invalid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  // ids → UTF-8 text. Throws std::out_of_range on an id outside [0, vocab_size).
  std::string decode(const std::vector<int32_t>& ids) const;

  int vocab_size() const { return static_cast<int>(vocabulary_.size()); }
  const std::u32string& vocabulary() const { return vocabulary_; }

 private:
  std::u32string vocabulary_;                   // id → character
  std::unordered_map<char32_t, int32_t> ids_;   // character → id
};

}  // namespace gpt
