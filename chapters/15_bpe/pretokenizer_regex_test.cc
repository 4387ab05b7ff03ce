// chapters/15_bpe/pretokenizer_regex_test.cc — the hand-written scanner against the expression itself.
//
// pretokenizer.cc writes GPT-2's splitting expression out by hand. Here ICU's
// regular-expression engine (Debian's libicu) runs the expression as written,
// with \s spelled out as JavaScript's whitespace (the reference encoder's),
// on thousands of random strings made of the characters that make splitting
// hard; both must cut every string into the same pieces.
#include <gtest/gtest.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <memory>
#include <string>
#include <vector>

#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/pretokenizer.h"
#include "common/random.h"

namespace gpt {
namespace {

// GPT-2's expression, \s as JavaScript has it (and \S its complement).
const char* kSpace = "[\\t\\n\\u000B\\f\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF]";

std::string gpt2_expression() {
  const std::string s = kSpace;
  const std::string not_s = "[^" + s.substr(1);
  const std::string not_s_l_n = "[^" + s.substr(1, s.size() - 2) + "\\p{L}\\p{N}]";
  return "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?" + not_s_l_n + "+|" + s + "+(?!" +
         not_s + ")|" + s + "+";
}

std::vector<std::string> regex_pieces(icu::RegexPattern& pattern, const std::string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
  std::unique_ptr<icu::RegexMatcher> m(pattern.matcher(u, status));
  std::vector<std::string> pieces;
  while (m->find(status) && U_SUCCESS(status)) {
    std::string piece;
    m->group(status).toUTF8String(piece);
    pieces.push_back(piece);
  }
  EXPECT_TRUE(U_SUCCESS(status)) << u_errorName(status);
  return pieces;
}

TEST(Pretokenizer, CutsRandomTextWhereGpt2sExpressionDoes) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError where;
  std::unique_ptr<icu::RegexPattern> pattern(
      icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(gpt2_expression()), 0, where, status));
  ASSERT_TRUE(U_SUCCESS(status)) << u_errorName(status) << " at offset " << where.offset;
  // Characters that make cutting hard: spaces of several kinds, apostrophes
  // and contraction letters, digits of other scripts, accents (precomposed
  // and combining), CJK, emoji with a skin tone and a zero-width joiner, the
  // byte-order mark, U+0085 (whitespace for some engines, not JavaScript's).
  const std::vector<std::string> alphabet = {
      " ", " ", " ", "\n", "\t", "\r", "\x0B", "a", "Z", "'", "s", "t", "r", "e", "v", "l", "d", "m",
      "7", "\xC2\xB2", "\xD9\xA3", "\xE2\x85\xAB", "\xC3\xA9", "e\xCC\x81", "\xE6\x97\xA5",
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xE2\x80\x8D", "\xEF\xBB\xBF", "\xC2\xA0",
      "\xE2\x80\x83", "\xE3\x80\x80", "\xC2\x85", "!", ".", "-", "\xE2\x80\x99", "_"};
  Rng rng(2);
  int checked = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string text;
    const int n = static_cast<int>(rng.below(24));
    for (int i = 0; i < n; ++i) text += alphabet[rng.below(alphabet.size())];
    std::vector<std::string> ours;
    for (std::string_view p : pretokenize(text)) ours.emplace_back(p);
    const std::vector<std::string> theirs = regex_pieces(*pattern, text);
    if (ours != theirs) {
      std::string a, b;
      for (const auto& p : ours) a += "[" + bytes_to_alphabet(p) + "]";
      for (const auto& p : theirs) b += "[" + bytes_to_alphabet(p) + "]";
      FAIL() << "trial " << trial << ", text (byte alphabet) '" << bytes_to_alphabet(text)
             << "'\n  ours:  " << a << "\n  regex: " << b;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5000);
}

}  // namespace
}  // namespace gpt
