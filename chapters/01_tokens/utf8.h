// chapters/01_tokens/utf8.h — text as Unicode code points.
//
// Files hold UTF-8 bytes; a character tokenizer wants characters. "£" is two
// bytes (C2 A3) but one character, so we decode the bytes into code points
// (char32_t) first, and refuse bytes that are not valid UTF-8.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace gpt {

// Throws std::invalid_argument naming the byte offset of the first bad sequence.
std::u32string decode_utf8(std::string_view bytes);
std::string encode_utf8(std::u32string_view code_points);

// "'a'" for printable ASCII, "U+00A3 '£'" otherwise: for error messages.
std::string describe_char(char32_t c);

}  // namespace gpt
