// chapters/01_tokens/tokens_test.cc — the tokenizer, the corpora and the batches.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/01_tokens/utf8.h"
#include "common/testing/expect.h"

namespace gpt {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// EXPECT_PRED_FORMAT2(error_mentions, error_of(...), "byte 2"): the error
// message names `part`; a failure says so in words.
::testing::AssertionResult error_mentions(const char*, const char*, const std::string& message,
                                          const std::string& part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "the error should mention \"" << part << "\", but reads: " << message;
}

// "[3, 4, 5]": token ids as a failure message shows them.
std::string listed(const int32_t* ids, int n) {
  std::string text = "[";
  for (int i = 0; i < n; ++i) text += (i ? ", " : "") + std::to_string(ids[i]);
  return text + "]";
}

TEST(CharTokenizer, VocabularyIsTheSortedDistinctCharacters) {
  const CharTokenizer tok = CharTokenizer::from_text("hello world");
  EXPECT_EQ(tok.vocab_size(), 8);
  EXPECT_EQ(encode_utf8(tok.vocabulary()), " dehlorw");
}

TEST(CharTokenizer, EncodesToKnownIds) {
  const CharTokenizer tok = CharTokenizer::from_text("hello world");
  // ' '=0 d=1 e=2 h=3 l=4 o=5 r=6 w=7
  EXPECT_EQ(tok.encode("hello"), (std::vector<int32_t>{3, 2, 4, 4, 5}));
  EXPECT_EQ(tok.decode({7, 5, 6, 4, 1}), "world");
}

TEST(CharTokenizer, RoundTripsMultiByteCharacters) {
  const std::string text = "her \xC2\xA3" "20,000 \xE2\x80\x94 caf\xC3\xA9!";  // £, em dash, é
  const CharTokenizer tok = CharTokenizer::from_text(text);
  const std::vector<int32_t> ids = tok.encode(text);
  EXPECT_EQ(ids.size(), decode_utf8(text).size());  // one id per character, not per byte
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(CharTokenizer, UnknownCharacterIsAClearError) {
  const CharTokenizer tok = CharTokenizer::from_text("abc");
  const std::string message = error_of([&] { tok.encode("abz"); });
  EXPECT_HOLDS(message.find("'z'") != std::string::npos &&
                                 message.find("position 2") != std::string::npos)
      << "encoding \"abz\" with the vocabulary \"abc\" should throw an error naming 'z' and "
         "position 2; it reads: "
      << message;
}

TEST(CharTokenizer, IdOutsideTheVocabularyIsAClearError) {
  const CharTokenizer tok = CharTokenizer::from_text("abc");
  EXPECT_THROW(tok.decode({0, 3}), std::out_of_range);
  EXPECT_THROW(tok.decode({-1}), std::out_of_range);
}

TEST(Utf8, InvalidBytesAreAClearError) {
  EXPECT_PRED_FORMAT2(error_mentions, error_of([] { decode_utf8("ok\xFF"); }), "byte 2");
  EXPECT_THROW(decode_utf8("\xC3"), std::invalid_argument);          // truncated
  EXPECT_THROW(decode_utf8("\xC0\xAF"), std::invalid_argument);      // overlong '/'
  EXPECT_THROW(decode_utf8("\xED\xA0\x80"), std::invalid_argument);  // surrogate
}

const std::vector<int32_t> kCounting = [] {
  std::vector<int32_t> v(100);
  for (int i = 0; i < 100; ++i) v[i] = i;  // token i at position i: offsets are visible
  return v;
}();

TEST(Batches, TargetsAreInputsShiftedByOne) {
  Rng rng(1);
  const Batch batch = sample_batch(kCounting, 4, 8, rng);
  ASSERT_EQ(batch.inputs.size(), 32u);
  ASSERT_EQ(batch.targets.size(), 32u);
  // Each row is a contiguous window of the text, and each target the token
  // after its input. One message for all the rows: the first wrong one, whole.
  int wrong_rows = 0, first_wrong = -1;
  for (int b = 0; b < 4; ++b) {
    bool right = true;
    for (int t = 0; t < 8; ++t) {
      right = right && batch.inputs[b * 8 + t] == batch.inputs[b * 8] + t &&
              batch.targets[b * 8 + t] == batch.inputs[b * 8 + t] + 1;
    }
    if (!right && wrong_rows++ == 0) first_wrong = b;
  }
  EXPECT_HOLDS(wrong_rows == 0)
      << "from the text 0, 1, 2, ..., each row of inputs should be a window like [5, 6, ..., 12] "
         "and its targets the same shifted by one, [6, 7, ..., 13]; "
      << wrong_rows << " of 4 rows are not. Row " << first_wrong << ": inputs "
      << listed(&batch.inputs[first_wrong * 8], 8) << ", targets "
      << listed(&batch.targets[first_wrong * 8], 8);
}

TEST(Batches, SameSeedSameBatchOtherSeedOtherBatch) {
  Rng a(7), b(7), c(8);
  const Batch x = sample_batch(kCounting, 4, 8, a);
  EXPECT_EQ(x.inputs, sample_batch(kCounting, 4, 8, b).inputs);
  const Batch other = sample_batch(kCounting, 4, 8, c);
  EXPECT_HOLDS(x.inputs != other.inputs)
      << "seeds 7 and 8 should draw different batches; both drew inputs "
      << listed(x.inputs.data(), int(x.inputs.size()));
}

TEST(Batches, EveryOffsetIsReachable) {
  Rng rng(3);
  std::vector<int> seen(100, 0);
  for (int i = 0; i < 200; ++i) seen[sample_batch(kCounting, 8, 90, rng).inputs[0]]++;
  // A window of T = 90 inputs and 90 targets fits the 100 tokens at offsets 0..9.
  std::string never_drawn, overrunning;
  for (int o = 0; o <= 9; ++o) {
    if (seen[o] == 0) never_drawn += " " + std::to_string(o);
  }
  for (int o = 10; o < 100; ++o) {
    if (seen[o] != 0) overrunning += " " + std::to_string(o);
  }
  EXPECT_HOLDS(never_drawn.empty() && overrunning.empty())
      << "over 200 batches of T = 90 from 100 tokens, every offset 0..9 should be drawn and "
         "none above 9 (the targets would run past the text); never drawn:"
      << (never_drawn.empty() ? " none" : never_drawn)
      << "; drawn but overrunning:" << (overrunning.empty() ? " none" : overrunning);
}

TEST(Batches, TextShorterThanOneBlockIsAClearError) {
  Rng rng(1);
  const std::vector<int32_t> short_text(8, 0);
  EXPECT_PRED_FORMAT2(error_mentions, error_of([&] { sample_batch(short_text, 2, 8, rng); }),
                      "fewer than one block");
  EXPECT_NO_THROW(sample_batch(std::vector<int32_t>(9, 0), 2, 8, rng));  // exactly T + 1
  EXPECT_THROW(sample_batch(kCounting, 0, 8, rng), std::invalid_argument);
}

TEST(Corpus, SplitKeepsOrderAndSizes) {
  const TrainValSplit split = split_train_val(kCounting, 0.1);
  EXPECT_EQ(split.train.size(), 90u);
  EXPECT_EQ(split.val.size(), 10u);
  EXPECT_EQ(split.val.front(), 90);
  EXPECT_THROW(split_train_val(kCounting, 1.0), std::invalid_argument);
}

TEST(Corpus, MissingAndEmptyFilesAreClearErrors) {
  EXPECT_PRED_FORMAT2(error_mentions, error_of([] { read_corpus("/no/such/file.txt"); }),
                      "cannot open");
  const std::string empty = std::string(std::getenv("TEST_TMPDIR")) + "/empty.txt";
  std::ofstream(empty).close();
  EXPECT_PRED_FORMAT2(error_mentions, error_of([&] { read_corpus(empty); }), "is empty");
}

TEST(Corpus, AustenIsAvailableAndTokenizes) {
  const std::string text = read_corpus("austen");
  EXPECT_GT(text.size(), 4'000'000u);
  EXPECT_EQ(text.rfind("SENSE AND SENSIBILITY", 0), 0u);
  const CharTokenizer tok = CharTokenizer::from_text(text);
  EXPECT_GT(tok.vocab_size(), 60);
  EXPECT_LT(tok.vocab_size(), 100);
  std::cout << "[ corpus   ] austen: " << text.size() << " bytes, vocabulary of "
            << tok.vocab_size() << " characters" << std::endl;
}

TEST(Corpus, KingJamesBibleIsAvailable) {
  const std::string text = read_corpus("kjv");
  EXPECT_EQ(text.rfind("In the beginning God created the heaven and the earth.", 0), 0u);
}

}  // namespace
}  // namespace gpt
