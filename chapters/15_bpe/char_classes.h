// chapters/15_bpe/char_classes.h — the four kinds of character the pre-tokenizer sees.
//
// GPT-2 cuts text into pieces before any merging, by the kind of each
// character: letters (Unicode's \p{L}: 'a', 'é', 'Ж', '日'), numbers (\p{N}:
// '7', '²', '½', 'Ⅻ', '٣'), whitespace (\s: the space, tab, newline, the
// no-break space U+00A0, the em space U+2003, ...) and everything else
// (punctuation, symbols, emoji, combining accents, and here also any byte
// that is not valid UTF-8). ASCII is answered from a table; the rest of
// Unicode from ICU's character database (Debian's libicu-dev), so the
// classes follow the Unicode standard rather than a list typed in here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gpt {

enum class CharClass : uint8_t { letter, number, space, other };

// One character of UTF-8 text: its code point and how many bytes it takes.
// A byte that does not start a valid UTF-8 sequence is a character of its
// own (valid = false, length 1, class other), so every byte string can be
// pre-tokenized and nothing is lost.
struct Utf8Char {
  char32_t code_point;
  int length;
  bool valid;
};

// The character that starts at byte `pos` of `text` (pos < text.size()).
Utf8Char utf8_char_at(std::string_view text, size_t pos);

// The class of a valid code point.
CharClass char_class(char32_t code_point);

// The class of the character at `pos`, and its length in bytes.
inline CharClass class_at(std::string_view text, size_t pos, int& length);

// ---- inline: ASCII costs one table lookup ----

namespace detail {
extern const CharClass kAsciiClass[128];
CharClass class_beyond_ascii(std::string_view text, size_t pos, int& length);
}  // namespace detail

inline CharClass class_at(std::string_view text, size_t pos, int& length) {
  const unsigned char byte = static_cast<unsigned char>(text[pos]);
  if (byte < 0x80) {
    length = 1;
    return detail::kAsciiClass[byte];
  }
  return detail::class_beyond_ascii(text, pos, length);
}

}  // namespace gpt
