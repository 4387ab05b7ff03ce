// chapters/01_tokens/utf8.cc — a strict UTF-8 decoder and encoder.
#include "chapters/01_tokens/utf8.h"

#include <cstdio>

namespace gpt {
namespace {

[[noreturn]] void invalid(size_t offset, const char* why) {
  throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(offset) + ": " + why);
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char lead = static_cast<unsigned char>(bytes[i]);
    int extra;       // continuation bytes that follow the lead byte
    char32_t c;
    char32_t min;    // smallest code point that needs this many bytes
    if (lead < 0x80) { extra = 0; c = lead; min = 0; }
    else if ((lead & 0xE0) == 0xC0) { extra = 1; c = lead & 0x1F; min = 0x80; }
    else if ((lead & 0xF0) == 0xE0) { extra = 2; c = lead & 0x0F; min = 0x800; }
    else if ((lead & 0xF8) == 0xF0) { extra = 3; c = lead & 0x07; min = 0x10000; }
    else invalid(i, "not a valid lead byte");
    if (i + extra >= bytes.size()) invalid(i, "truncated character at the end of the text");
    for (int k = 1; k <= extra; ++k) {
      const unsigned char next = static_cast<unsigned char>(bytes[i + k]);
      if ((next & 0xC0) != 0x80) invalid(i, "missing continuation byte");
      c = (c << 6) | (next & 0x3F);
    }
    if (c < min) invalid(i, "overlong encoding");
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) invalid(i, "not a Unicode scalar value");
    out.push_back(c);
    i += extra + 1;
  }
  return out;
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  for (char32_t c : code_points) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string describe_char(char32_t c) {
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "' (" + code + ")";
  if (c < 0x20 || c == 0x7F) return code;
  return std::string(code) + " '" + encode_utf8(std::u32string(1, c)) + "'";
}

}  // namespace gpt
