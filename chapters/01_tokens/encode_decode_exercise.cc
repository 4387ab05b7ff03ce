// chapters/01_tokens/encode_decode_exercise.cc — EXERCISE: write encode and decode.
//
// Build and test with your version (the rest of the chapter uses the solutions):
//   bazel test --define=exercise=01_tokens/encode_decode //chapters/01_tokens/...
// The tests fail until both functions work. Stuck? chapters/01_tokens/HINTS.md
// has three graded hints; the lesson's folded solution is the last resort.
#include <stdexcept>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"

namespace gpt {

std::vector<int32_t> CharTokenizer::encode(std::string_view text) const {
  // TODO(you): UTF-8 text → one id per character (not per byte), using the
  // tokenizer's tables (char_tokenizer.h). A character outside the vocabulary
  // throws std::invalid_argument whose message names the character
  // (describe_char) and its position, counted in characters.
  (void)text;
  return {};
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  // TODO(you): ids → UTF-8 text, the inverse of encode. An id outside
  // [0, vocab_size()) throws std::out_of_range.
  (void)ids;
  return "";
}

}  // namespace gpt
