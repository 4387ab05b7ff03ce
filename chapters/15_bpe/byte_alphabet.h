// chapters/15_bpe/byte_alphabet.h — every byte as a printable character.
//
// Byte-level BPE works on bytes, so any text (any language, emoji, even
// bytes that are not UTF-8) has an encoding and nothing is ever "unknown".
// But a vocabulary file lists tokens as text, one merge "Ġ t" per line, and
// bytes such as the space (0x20), the newline (0x0A) or 0xC3 (the first half
// of "é") would be invisible, break the line, or be half a character there.
// GPT-2's answer: write each byte as one printable character. Bytes that are
// printable already keep their own character ('A' is 'A', '£' is '£'); the
// other 68 (control bytes, the space, 0x7F–0xA0 and 0xAD) are written with
// the characters U+0100 onwards, in byte order: the space 0x20 becomes 'Ġ'
// (U+0120), the newline 'Ċ' (U+010A). A token's text in encoder.json is its
// bytes written this way, so " the" appears there as "Ġthe".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpt {

// The printable character that stands for `byte`.
char32_t byte_to_char(uint8_t byte);
// The byte a character stands for; nullopt for a character outside the alphabet.
std::optional<uint8_t> char_to_byte(char32_t c);

// Bytes → their characters, as UTF-8: "\x20the" → "Ġthe".
std::string bytes_to_alphabet(std::string_view bytes);
// The reverse. Throws std::invalid_argument naming the character when `text`
// (UTF-8) holds one outside the alphabet, or is not UTF-8.
std::string alphabet_to_bytes(std::string_view text);

}  // namespace gpt
