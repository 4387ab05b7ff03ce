// chapters/15_bpe/pretokenizer.cc — GPT-2's splitting expression as a hand-written scanner.
#include "chapters/15_bpe/pretokenizer.h"

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "chapters/15_bpe/char_classes.h"

namespace gpt {
namespace {

// The length of a contraction ('s 't 'm 'd 're 've 'll) at `pos`, or 0.
// Lower case only, as GPT-2's expression is written: "DON'T" is "DON" "'T".
size_t contraction_at(std::string_view text, size_t pos) {
  if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Every byte's class for the scanner's inner loop: an ASCII byte's own, and
// kMultiByte for 0x80-0xFF (part of a multi-byte character: decode it).
constexpr uint8_t kMultiByte = 4;
struct ByteClasses {
  uint8_t of[256];
  ByteClasses() {
    for (int b = 0; b < 256; ++b) {
      of[b] = b < 0x80 ? static_cast<uint8_t>(detail::kAsciiClass[b]) : kMultiByte;
    }
  }
};
const ByteClasses kByteClasses;

// The end of a run of ASCII letters from `pos`, 16 bytes at a time with SSE2
// (every x86-64 processor has it; elsewhere, a byte at a time). A byte is an
// ASCII letter when (byte | 0x20) is in 'a'..'z'; adding 128 - 'a' moves that
// range to -128..-103 as signed bytes, so one signed compare finds them all.
size_t ascii_letters_end(const unsigned char* bytes, size_t pos, size_t size) {
#if defined(__SSE2__)
  while (pos + 16 <= size) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + pos));
    const __m128i lower = _mm_or_si128(chunk, _mm_set1_epi8(0x20));
    const __m128i shifted = _mm_add_epi8(lower, _mm_set1_epi8(static_cast<char>(128 - 'a')));
    const __m128i letters = _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + 26)));
    const unsigned others = ~static_cast<unsigned>(_mm_movemask_epi8(letters)) & 0xFFFFu;
    if (others) return pos + static_cast<size_t>(__builtin_ctz(others));
    pos += 16;
  }
#endif
  const uint8_t letter = static_cast<uint8_t>(CharClass::letter);
  while (pos < size && kByteClasses.of[bytes[pos]] == letter) ++pos;
  return pos;
}

// The end of the run of `cls` characters from `pos`. ASCII, nearly all of
// English text, costs one table lookup a byte (letters: less); other
// characters are decoded.
size_t run_end(std::string_view text, size_t pos, CharClass cls) {
  const uint8_t want = static_cast<uint8_t>(cls);
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (;;) {
    if (cls == CharClass::letter) {
      pos = ascii_letters_end(bytes, pos, text.size());
    } else {
      while (pos < text.size() && kByteClasses.of[bytes[pos]] == want) ++pos;
    }
    if (pos >= text.size() || kByteClasses.of[bytes[pos]] != kMultiByte) return pos;
    int length = 0;
    if (detail::class_beyond_ascii(text, pos, length) != cls) return pos;
    pos += static_cast<size_t>(length);
  }
}

}  // namespace

inline size_t Pretokenizer::piece_length() const {  // inline: next() is its only caller
  const std::string_view text = text_;
  const size_t start = pos_;
  // lesson: pretokenize
  // 1. A contraction.
  if (const size_t n = contraction_at(text, start)) return n;
  // 2-4. A run of letters, of numbers, or of other symbols, with at most one
  // space (U+0020 only) in front.
  size_t first = start;  // the run's first character
  if (text[start] == ' ' && start + 1 < text.size()) first = start + 1;
  int length = 0;
  const CharClass cls = class_at(text, first, length);
  if (cls != CharClass::space) return run_end(text, first, cls) - start;
  // 5-6. Whitespace (a lone space before a letter was taken above): all of
  // the run at the end of the text, else all but its last character, which
  // goes with what follows; a run of one character is a piece by itself.
  size_t end = start, last = start;  // the run's end and its last character's start
  while (end < text.size() && class_at(text, end, length) == CharClass::space) {
    last = end;
    end += length;
  }
  if (end == text.size() || last == start) return end - start;
  return last - start;
  // end lesson
}

bool Pretokenizer::next(std::string_view& piece) {
  if (pos_ >= text_.size()) return false;
  const size_t n = piece_length();
  piece = text_.substr(pos_, n);
  pos_ += n;
  return true;
}

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  Pretokenizer splitter(text);
  std::string_view piece;
  while (splitter.next(piece)) pieces.push_back(piece);
  return pieces;
}

}  // namespace gpt
