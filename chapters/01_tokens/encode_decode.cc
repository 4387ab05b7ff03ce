// chapters/01_tokens/encode_decode.cc — the tokenizer's two directions.
// Exercise: encode_decode_exercise.cc is this file with the bodies removed.
#include <stdexcept>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"

namespace gpt {

// lesson: encode
std::vector<int32_t> CharTokenizer::encode(std::string_view text) const {
  const std::u32string chars = decode_utf8(text);
  std::vector<int32_t> ids;
  ids.reserve(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) {
    auto it = ids_.find(chars[i]);
    if (it == ids_.end()) {
      throw std::invalid_argument("character " + describe_char(chars[i]) + " at position " +
                                  std::to_string(i) + " is not in the vocabulary of " +
                                  std::to_string(vocab_size()) + " characters");
    }
    ids.push_back(it->second);
  }
  return ids;
}
// end lesson

// lesson: decode
std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::u32string chars;
  chars.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                              std::to_string(vocab_size()) + ")");
    }
    chars.push_back(vocabulary_[id]);
  }
  return encode_utf8(chars);
}
// end lesson

}  // namespace gpt
