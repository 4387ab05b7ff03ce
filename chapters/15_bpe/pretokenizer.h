// chapters/15_bpe/pretokenizer.h — text → pieces, before any merging.
//
// BPE never merges across a piece's edge, so the pre-tokenizer decides what
// can ever be one token. GPT-2's rule is a regular expression, tried at each
// position in this order, the first alternative that matches winning:
//
//   's|'t|'re|'ve|'m|'ll|'d        an English contraction ("it" "'s")
//   | ?\p{L}+                      letters, with at most one space before them
//   | ?\p{N}+                      numbers, likewise
//   | ?[^\s\p{L}\p{N}]+            other symbols, likewise
//   |\s+(?!\S)                     whitespace not followed by a non-space...
//   |\s+                           ...else all of it
//
// "Hello  world!!\n" → "Hello" " " " world" "!!" "\n". The space sticks to
// the word after it, so " world" is one token, not two; a run of spaces
// gives all but its last to a whitespace piece, so the last can join the word
// (the `(?!\S)` lookahead). Pieces concatenate back to the text exactly.
//
// This is that expression written out by hand, one pass, no backtracking,
// with the classes of char_classes.h. Bytes that are not UTF-8 are "other"
// characters of one byte each.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace gpt {

class Pretokenizer {
 public:
  explicit Pretokenizer(std::string_view text) : text_(text) {}
  // The next piece in `piece`; false at the end of the text.
  bool next(std::string_view& piece);

 private:
  // The length of the piece that starts at pos_.
  size_t piece_length() const;
  std::string_view text_;
  size_t pos_ = 0;
};

// Every piece of `text`, in order.
std::vector<std::string_view> pretokenize(std::string_view text);

}  // namespace gpt
