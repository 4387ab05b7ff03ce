// chapters/01_tokens/encode_decode_exercise.cc — EXERCISE: write encode and decode.
//
// Build and test with your version:
//   bazel test --define=exercise=01_tokens //chapters/01_tokens:tokens_test
// The tests fail until both functions work. The solution is encode_decode.cc.
#include <stdexcept>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"

namespace gpt {

std::vector<int32_t> CharTokenizer::encode(std::string_view text) const {
  // TODO(you): decode the UTF-8 `text` into characters (decode_utf8), look each
  // one up in ids_, and return the ids. A character missing from the
  // vocabulary is an error: throw std::invalid_argument naming it
  // (describe_char) and its position.
  (void)text;
  return {};
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  // TODO(you): map each id to vocabulary_[id] and encode the characters as
  // UTF-8 (encode_utf8). An id outside [0, vocab_size()) is an error: throw
  // std::out_of_range.
  (void)ids;
  return "";
}

}  // namespace gpt
