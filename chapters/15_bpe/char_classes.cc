// chapters/15_bpe/char_classes.cc — UTF-8 decoding that never fails, and ICU's classes.
#include "chapters/15_bpe/char_classes.h"

#include <unicode/uchar.h>

namespace gpt {
namespace detail {

// '\t' '\n' '\v' '\f' '\r' and ' ' are whitespace; letters and digits; the rest other.
#define O CharClass::other
#define S CharClass::space
#define L CharClass::letter
#define N CharClass::number
const CharClass kAsciiClass[128] = {
    O, O, O, O, O, O, O, O, O, S, S, S, S, S, O, O,  // 0x00 (0x09-0x0D: \t \n \v \f \r)
    O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,  // 0x10
    S, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,  // 0x20 (space) ! " # ...
    N, N, N, N, N, N, N, N, N, N, O, O, O, O, O, O,  // 0x30 0-9 : ; < = > ?
    O, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,  // 0x40 @ A-O
    L, L, L, L, L, L, L, L, L, L, L, O, O, O, O, O,  // 0x50 P-Z [ \ ] ^ _
    O, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,  // 0x60 ` a-o
    L, L, L, L, L, L, L, L, L, L, L, O, O, O, O, O,  // 0x70 p-z { | } ~ DEL
};
#undef O
#undef S
#undef L
#undef N

CharClass class_beyond_ascii(std::string_view text, size_t pos, int& length) {
  const Utf8Char c = utf8_char_at(text, pos);
  length = c.length;
  return c.valid ? char_class(c.code_point) : CharClass::other;
}

}  // namespace detail

Utf8Char utf8_char_at(std::string_view text, size_t pos) {
  const unsigned char lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {lead, 1, true};
  int extra;
  char32_t c, min;
  if ((lead & 0xE0) == 0xC0) { extra = 1; c = lead & 0x1F; min = 0x80; }
  else if ((lead & 0xF0) == 0xE0) { extra = 2; c = lead & 0x0F; min = 0x800; }
  else if ((lead & 0xF8) == 0xF0) { extra = 3; c = lead & 0x07; min = 0x10000; }
  else return {lead, 1, false};  // a continuation byte or 0xF8-0xFF: not a lead byte
  if (pos + extra >= text.size()) return {lead, 1, false};  // cut short by the end
  for (int k = 1; k <= extra; ++k) {
    const unsigned char next = static_cast<unsigned char>(text[pos + k]);
    if ((next & 0xC0) != 0x80) return {lead, 1, false};
    c = (c << 6) | (next & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {lead, 1, false};
  return {c, extra + 1, true};
}

CharClass char_class(char32_t c) {
  if (c < 0x80) return detail::kAsciiClass[c];
  // JavaScript's \s beyond ASCII, as GPT-2's reference encoders use it: the
  // no-break space, the Ogham space, the en/em/thin spaces U+2000-U+200A, the
  // line and paragraph separators, the narrow no-break space, the medium
  // mathematical space, the ideographic space and the byte-order mark.
  switch (c) {
    case 0x00A0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000: case 0xFEFF:
      return CharClass::space;
    default:
      if (c >= 0x2000 && c <= 0x200A) return CharClass::space;
  }
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER:
      return CharClass::letter;
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      return CharClass::number;
    default:
      return CharClass::other;
  }
}

}  // namespace gpt
