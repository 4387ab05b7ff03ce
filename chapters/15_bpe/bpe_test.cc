// chapters/15_bpe/bpe_test.cc — the tokenizer against GPT-2's reference ids, and its properties.
//
// References: tests/references/15_bpe/gpt2_cases.json, written by
// tests/bpe/make_bpe_references.js with the npm package gpt-tokenizer
// (r50k_base, GPT-2's encoding). Ids must match exactly: a tokenizer is
// right or wrong, there is no tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chapters/01_tokens/corpus.h"
#include "chapters/15_bpe/bpe.h"
#include "chapters/15_bpe/bpe_file.h"
#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "chapters/15_bpe/learn_bpe.h"
#include "chapters/15_bpe/parallel_encode.h"
#include "chapters/15_bpe/pretokenizer.h"
#include "common/random.h"

namespace gpt {
namespace {

nlohmann::json reference_cases() {
  const std::string path = runfile_path("tests/references/15_bpe/gpt2_cases.json");
  if (path.empty()) throw std::runtime_error("tests/references/15_bpe/gpt2_cases.json not found");
  return nlohmann::json::parse(read_whole_file(path));
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

// The first position where two id lists differ, with the tokens there.
std::string first_difference(const Bpe& bpe, const std::vector<int32_t>& actual,
                             const std::vector<int32_t>& expected) {
  size_t i = 0;
  while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
  auto at = [&](const std::vector<int32_t>& ids) {
    if (i >= ids.size()) return std::string("(end)");
    return std::to_string(ids[i]) + " '" + bytes_to_alphabet(bpe.token(ids[i])) + "'";
  };
  return "first difference at token " + std::to_string(i) + ": actual " + at(actual) +
         ", expected " + at(expected) + " (" + std::to_string(actual.size()) + " vs " +
         std::to_string(expected.size()) + " tokens)";
}

TEST(ByteAlphabet, PrintableBytesStandForThemselvesTheOthersFollowU0100) {
  EXPECT_EQ(byte_to_char('A'), U'A');
  EXPECT_EQ(byte_to_char(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(byte_to_char('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(byte_to_char(0xAD), U'\u0143');  // the soft hyphen, the last of the 68
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_to_char(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b << " shares its character";
    ASSERT_TRUE(char_to_byte(c).has_value());
    EXPECT_EQ(*char_to_byte(c), b);
  }
  EXPECT_FALSE(char_to_byte(U' ').has_value());
  EXPECT_EQ(bytes_to_alphabet(" the"), "\xC4\xA0the");
  EXPECT_EQ(alphabet_to_bytes("\xC4\xA0the"), " the");
  EXPECT_THROW(alphabet_to_bytes("a b"), std::invalid_argument);
}

TEST(Pretokenizer, SplitsLikeGpt2sExpression) {
  auto split = [](std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view p : pretokenize(text)) out.emplace_back(p);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Hello  world!!\n"), (V{"Hello", " ", " world", "!!", "\n"}));
  // Contractions are lower case only: "'T" is a symbol, then a letter.
  EXPECT_EQ(split("it's they'll DON'T"), (V{"it", "'s", " they", "'ll", " DON", "'", "T"}));
  EXPECT_EQ(split("In 1811, x2"), (V{"In", " 1811", ",", " x", "2"}));
  EXPECT_EQ(split("a   "), (V{"a", "   "}));
  EXPECT_EQ(split("\n\nword"), (V{"\n", "\n", "word"}));
  EXPECT_EQ(split(" \n word"), (V{" \n", " word"}));
  EXPECT_EQ(split(""), V{});
  // Bytes that are not UTF-8 are symbols of one byte each: nothing is lost.
  EXPECT_EQ(split("a\xFF\xFE b"), (V{"a", "\xFF\xFE", " b"}));
}

TEST(Gpt2, EncodesEveryReferenceCaseExactlyAndDecodesItBack) {
  const Bpe& bpe = gpt2_bpe();
  ASSERT_EQ(bpe.vocab_size(), 50257);
  const nlohmann::json refs = reference_cases();
  int checked = 0;
  for (const auto& c : refs["cases"]) {
    const std::string name = c["name"], text = c["text"];
    const std::vector<int32_t> expected = c["ids"].get<std::vector<int32_t>>();
    const SpecialTokens special =
        c["special"] == "allowed" ? SpecialTokens::allowed : SpecialTokens::as_text;
    const std::vector<int32_t> actual = bpe.encode(text, special);
    EXPECT_EQ(actual, expected) << name << ": " << first_difference(bpe, actual, expected)
                                << "\n  text: " << text << "\n  actual:   " << ids_text(actual)
                                << "\n  expected: " << ids_text(expected);
    EXPECT_EQ(bpe.decode(actual), text) << name;
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

TEST(Gpt2, EncodesAllOfAustenToTheReferenceCountAndChecksum) {
  const nlohmann::json austen = reference_cases()["austen"];
  const std::string text = read_corpus("austen");
  ASSERT_EQ(text.size(), austen["bytes"].get<size_t>());
  const std::vector<int32_t> ids = gpt2_bpe().encode(text);
  uint32_t h = 0x811c9dc5u;  // FNV-1a over the ids' little-endian bytes, as the script
  for (int32_t id : ids) {
    for (int k = 0; k < 4; ++k) {
      h ^= (static_cast<uint32_t>(id) >> (8 * k)) & 0xFFu;
      h *= 0x01000193u;
    }
  }
  EXPECT_EQ(ids.size(), austen["tokens"].get<size_t>());
  EXPECT_EQ(h, austen["fnv1a_of_ids"].get<uint32_t>());
}

// Any bytes at all: encode, then decode, gives them back; every id is in range.
TEST(Gpt2, RoundTripsRandomBytesAndRandomUnicode) {
  const Bpe& bpe = gpt2_bpe();
  Rng rng(15);
  const std::vector<std::string> alphabet = {" ", "  ", "\n", "\t", "a", "Z", "'", "s", "ll", "7",
                                             "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "!",
                                             "\xCC\x81", "\xFF", "\x80", "\xC3", "<|endoftext|>"};
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int n = static_cast<int>(rng.below(60));
    for (int i = 0; i < n; ++i) {
      if (trial % 2) {
        text += static_cast<char>(rng.below(256));  // raw bytes, mostly not UTF-8
      } else {
        text += alphabet[rng.below(alphabet.size())];
      }
    }
    for (SpecialTokens special : {SpecialTokens::as_text, SpecialTokens::allowed}) {
      const std::vector<int32_t> ids = bpe.encode(text, special);
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < bpe.vocab_size());
      ASSERT_EQ(bpe.decode(ids), text) << "trial " << trial << ": "
                                       << bytes_to_alphabet(text);
    }
  }
}

TEST(Gpt2, TheSpecialTokenIsOneIdOnlyWhenAllowedAndRefusedWhenAsked) {
  const Bpe& bpe = gpt2_bpe();
  EXPECT_EQ(bpe.encode("<|endoftext|>", SpecialTokens::allowed), (std::vector<int32_t>{50256}));
  EXPECT_GT(bpe.encode("<|endoftext|>", SpecialTokens::as_text).size(), 1u);
  try {
    bpe.encode("Hi <|endoftext|>", SpecialTokens::refused);
    ADD_FAILURE() << "refused text with the special token was encoded";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at byte 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bpe.decode({50257}), std::out_of_range);
  EXPECT_THROW(bpe.decode({-1}), std::out_of_range);
}

// The heap (long pieces) and the plain loop (short ones) merge alike.
TEST(Merging, TheLongPieceHeapMergesLikeTheRoundByRoundLoop) {
  const Bpe& bpe = gpt2_bpe();
  Rng rng(7);
  const std::string letters = "aeiou tnsrhl-=!.";
  for (int trial = 0; trial < 200; ++trial) {
    std::string piece;
    const int n = 2 + static_cast<int>(rng.below(trial < 100 ? 20 : 300));
    for (int i = 0; i < n; ++i) piece += letters[rng.below(letters.size())];
    std::vector<int32_t> loop, heap;
    for (char b : piece) loop.push_back(bpe.byte_token(static_cast<uint8_t>(b)));
    heap = loop;
    merge_by_rank(loop, bpe.pairs());
    merge_long_piece(heap, bpe.pairs());
    ASSERT_EQ(heap, loop) << "piece '" << piece << "'";
  }
  // A piece of 200,000 dashes: one piece, merged in well under a second.
  const std::string dashes(200000, '-');
  EXPECT_EQ(bpe.decode(bpe.encode(dashes)), dashes);
}

TEST(Merging, ByRankOnAHandMadeVocabulary) {
  // Bytes, then "ab" (rank 0), "bc" (rank 1), "abc" = "ab" + "c" (rank 2).
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  tokens.push_back("ab");   // 256
  tokens.push_back("bc");   // 257
  tokens.push_back("abc");  // 258
  const Bpe bpe(tokens, {{'a', 'b', 256}, {'b', 'c', 257}, {256, 'c', 258}});
  std::vector<int32_t> ids = {'a', 'b', 'c', 'b', 'c'};
  merge_by_rank(ids, bpe.pairs());
  // "ab" first (rank 0) → ab c b c; then "bc" (rank 1) → ab c bc; then "abc" (rank 2).
  EXPECT_EQ(ids, (std::vector<int32_t>{258, 257}));
  std::vector<int32_t> aaa = {'a', 'b', 'a', 'b'};
  merge_by_rank(aaa, bpe.pairs());
  EXPECT_EQ(aaa, (std::vector<int32_t>{256, 256}));
}

TEST(Parallel, EncodingOnThreadsGivesTheSameIdsAsOneThread) {
  const std::string text = read_corpus("austen").substr(0, 300000);
  const Bpe& bpe = gpt2_bpe();
  const std::vector<int32_t> one = bpe.encode(text);
  for (int threads : {2, 3, 8}) EXPECT_EQ(encode_parallel(bpe, text, threads), one) << threads;
  const std::vector<size_t> cuts = safe_cuts(text, 8);
  EXPECT_EQ(cuts.size(), 9u);
  for (size_t i = 1; i + 1 < cuts.size(); ++i) EXPECT_EQ(text[cuts[i]], ' ');
}

TEST(Learning, TheMostFrequentPairIsMergedFirstTiesGoToTheSmallestPair) {
  // "ab" occurs 3 + 2 = 5 times, "bc" 2 times, "ca" once.
  std::vector<WordCount> words = {{{'a', 'b'}, 3}, {{'a', 'b', 'c'}, 2}, {{'c', 'a'}, 1}};
  const PairCount best = most_frequent_pair(words);
  EXPECT_EQ(best.left, 'a');
  EXPECT_EQ(best.right, 'b');
  EXPECT_EQ(best.count, 5);
  // A tie (2 and 2): the smaller pair, ('a','x') before ('b','y').
  const PairCount tie = most_frequent_pair({{{'b', 'y'}, 2}, {{'a', 'x'}, 2}});
  EXPECT_EQ(tie.left, 'a');
  EXPECT_EQ(tie.right, 'x');
  EXPECT_EQ(most_frequent_pair({{{'a'}, 9}}).count, 0);
}

TEST(Learning, LearnsSavesAndLoadsABpeThatEncodesAlike) {
  const std::string text = read_corpus("austen").substr(0, 200000);
  const Bpe learned = learn_bpe(text, 400);
  ASSERT_EQ(learned.vocab_size(), 400);
  // English: "h" + "e" (in " the", "he", "she", ...) is the commonest pair of Austen.
  const Merge& first = learned.merges()[0];
  EXPECT_EQ(learned.token(first.merged), "he") << bytes_to_alphabet(learned.token(first.merged));
  const std::vector<int32_t> ids = learned.encode(text);
  EXPECT_LT(ids.size(), text.size() * 6 / 10) << "144 merges save more than 40% of the tokens";
  EXPECT_EQ(learned.decode(ids), text);
  const Bpe loaded = bpe_from_file_text(bpe_file_text(learned, "a test"), "test.bpe");
  EXPECT_EQ(loaded.encode(text), ids);
  EXPECT_EQ(loaded.merges().size(), learned.merges().size());
}

}  // namespace
}  // namespace gpt
