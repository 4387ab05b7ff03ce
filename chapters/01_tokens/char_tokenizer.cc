// chapters/01_tokens/char_tokenizer.cc — building the vocabulary.
// (encode and decode, the part you write, are in encode_decode.cc.)
#include "chapters/01_tokens/char_tokenizer.h"

#include <algorithm>
#include <stdexcept>

#include "chapters/01_tokens/utf8.h"

namespace gpt {

// lesson: vocabulary
CharTokenizer CharTokenizer::from_text(std::string_view text) {
  std::u32string chars = decode_utf8(text);
  std::sort(chars.begin(), chars.end());
  chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
  return CharTokenizer(chars);
}
// end lesson

CharTokenizer::CharTokenizer(std::u32string vocabulary) : vocabulary_(std::move(vocabulary)) {
  if (vocabulary_.empty()) throw std::invalid_argument("a vocabulary needs at least one character");
  for (size_t id = 0; id < vocabulary_.size(); ++id) {
    if (!ids_.emplace(vocabulary_[id], static_cast<int32_t>(id)).second) {
      throw std::invalid_argument("the vocabulary lists " + describe_char(vocabulary_[id]) +
                                  " twice");
    }
  }
}

}  // namespace gpt
