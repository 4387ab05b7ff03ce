// chapters/15_bpe/byte_alphabet.cc — GPT-2's byte ↔ character table, built once.
#include "chapters/15_bpe/byte_alphabet.h"

#include <array>
#include <stdexcept>

#include "chapters/01_tokens/utf8.h"

namespace gpt {
namespace {

// lesson: alphabet
// A byte is printable as itself when it is a visible ASCII or Latin-1
// character: '!'..'~', '¡'..'¬' and '®'..'ÿ' (the soft hyphen 0xAD is not).
bool printable(int byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

struct Alphabet {
  std::array<char32_t, 256> of_byte{};
  Alphabet() {
    char32_t next = 0x100;  // the others take U+0100, U+0101, ... in byte order
    for (int byte = 0; byte < 256; ++byte) {
      of_byte[byte] = printable(byte) ? static_cast<char32_t>(byte) : next++;
    }
  }
};
// end lesson

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

}  // namespace

char32_t byte_to_char(uint8_t byte) { return alphabet().of_byte[byte]; }

std::optional<uint8_t> char_to_byte(char32_t c) {
  if (c < 0x100) {
    if (printable(static_cast<int>(c))) return static_cast<uint8_t>(c);
    return std::nullopt;
  }
  // U+0100 + n is the n-th byte that is not printable.
  int n = static_cast<int>(c) - 0x100;
  for (int byte = 0; byte < 256; ++byte) {
    if (printable(byte)) continue;
    if (n-- == 0) return static_cast<uint8_t>(byte);
  }
  return std::nullopt;
}

std::string bytes_to_alphabet(std::string_view bytes) {
  std::u32string chars;
  chars.reserve(bytes.size());
  for (char b : bytes) chars.push_back(byte_to_char(static_cast<uint8_t>(b)));
  return encode_utf8(chars);
}

std::string alphabet_to_bytes(std::string_view text) {
  std::string bytes;
  for (char32_t c : decode_utf8(text)) {
    const std::optional<uint8_t> byte = char_to_byte(c);
    if (!byte) {
      throw std::invalid_argument(describe_char(c) + " is not a character of the byte alphabet");
    }
    bytes.push_back(static_cast<char>(*byte));
  }
  return bytes;
}

}  // namespace gpt
