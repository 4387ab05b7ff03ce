// tools/fuzz/bpe_vocab_fuzz.cc — arbitrary bytes as a tokenizer's vocabulary files.
//
// `tokenize --tokenizer FILE` loads a learned BPE file (chapter 15's
// bpe_from_file_text), and GPT-2's tokenizer comes from two files a user can
// replace or damage, encoder.json and vocab.bpe (gpt2_bpe_from_text). Both
// loaders promise: a std::runtime_error naming the file for anything wrong,
// never a crash, and a vocabulary that loads is a tokenizer that works. This
// target checks that: for a Bpe that loads, encoding a few fixed texts (ASCII,
// UTF-8, bytes that are not UTF-8, a special token, a piece long enough for the
// heap merge) and the input's own text gives ids in [0, vocab_size) that decode
// back to exactly those bytes; and a learned file written back out by
// bpe_file_text loads again with the same tokens and merges.
//
// Input: byte 0 chooses the loader. Low bit set: GPT-2's files, the rest split
// at the first NUL into encoder.json and vocab.bpe (no NUL: all of it is
// encoder.json, vocab.bpe is empty). Low bit clear: the rest is a learned BPE file.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/15_bpe/bpe.h"
#include "chapters/15_bpe/bpe_file.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

// Stray continuation bytes, a cut-off character, a surrogate, a NUL, a cut-off emoji.
constexpr char kNotUtf8[] = "not UTF-8: \xFF\xFE\x80 \xC3 \xED\xA0\x80 \x00 end\xF0\x9F";

// Encodes `text` with `mode` and checks the ids and the round trip.
void check_round_trip(const gpt::Bpe& bpe, const std::string& text, gpt::SpecialTokens mode) {
  std::vector<int32_t> ids;
  try {
    ids = bpe.encode(text, mode);
  } catch (const std::invalid_argument&) {
    // Only SpecialTokens::refused may refuse, and only a text holding a special token.
    FUZZ_CHECK(mode == gpt::SpecialTokens::refused, "encode threw without SpecialTokens::refused");
    bool holds_special = false;
    for (const auto& entry : bpe.special()) {
      holds_special = holds_special || text.find(entry.first) != std::string::npos;
    }
    FUZZ_CHECK(holds_special, "encode refused a text that holds no special token");
    return;
  }
  FUZZ_CHECK(ids.size() <= text.size(), "more ids than bytes");
  for (int32_t id : ids) {
    FUZZ_CHECK(id >= 0 && id < bpe.vocab_size(), "an id outside [0, vocab_size)");
  }
  FUZZ_CHECK(bpe.decode(ids) == text, "the ids do not decode to the text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpt;
  if (size == 0) return 0;
  const bool gpt2_files = data[0] & 1;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<Bpe> loaded;  // at most one; Bpe has no default constructor
  try {
    if (gpt2_files) {
      const size_t nul = rest.find('\0');
      const std::string encoder_json = rest.substr(0, nul);
      const std::string vocab_bpe = nul == std::string::npos ? "" : rest.substr(nul + 1);
      loaded.push_back(gpt2_bpe_from_text(encoder_json, vocab_bpe));
    } else {
      loaded.push_back(bpe_from_file_text(rest, "fuzz.bpe"));
    }
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(e.what()[0] != '\0', "an empty error message");
    return 0;  // refused, as promised; any other exception escapes and crashes
  }
  const Bpe& bpe = loaded.front();
  FUZZ_CHECK(bpe.vocab_size() >= 256, "a byte-level vocabulary with fewer than 256 tokens");
  for (int b = 0; b < 256; ++b) {
    const int32_t id = bpe.byte_token(static_cast<uint8_t>(b));
    FUZZ_CHECK(id >= 0 && id < bpe.vocab_size() && bpe.token(id) == std::string(1, char(b)),
               "a byte without its token");
  }

  static const std::vector<std::string> texts = {
      "",
      "Hello world, it's 1811! The quick brown fox's tail; x[i] += 2 * y[i];",
      "  spaces   \t tabs\nnew\r\nlines\n\n",
      "Caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD "
      "\xD0\xBA\xD0\xB8\xD1\x80",
      std::string(kNotUtf8, sizeof kNotUtf8 - 1),
      "Hello<|endoftext|>World <|endoftext|><|endoftext",
      std::string(100, 'a') + " " + std::string(90, '-') + std::string(70, ' ') + "x",
  };
  for (const std::string& text : texts) {
    check_round_trip(bpe, text, SpecialTokens::as_text);
    check_round_trip(bpe, text, SpecialTokens::allowed);
    check_round_trip(bpe, text, SpecialTokens::refused);
  }
  // The input's own bytes: tokens the vocabulary defines, so merges fire.
  check_round_trip(bpe, rest.substr(0, 4096), SpecialTokens::as_text);
  check_round_trip(bpe, rest.substr(0, 4096), SpecialTokens::allowed);

  if (!gpt2_files) {
    // A learned file written back out loads as the same tokenizer.
    std::string written;
    try {
      written = bpe_file_text(bpe, "fuzz");
    } catch (const std::invalid_argument& e) {
      FUZZ_CHECK(false, e.what());
    }
    const Bpe again = bpe_from_file_text(written, "written.bpe");
    FUZZ_CHECK(again.vocab_size() == bpe.vocab_size(), "the written file has another size");
    for (int32_t id = 0; id < bpe.vocab_size(); ++id) {
      FUZZ_CHECK(again.token(id) == bpe.token(id), "the written file has another token");
    }
    for (size_t r = 0; r < bpe.merges().size(); ++r) {
      const Merge &a = again.merges()[r], &b = bpe.merges()[r];
      FUZZ_CHECK(a.left == b.left && a.right == b.right && a.merged == b.merged,
                 "the written file has another merge");
    }
  }
  return 0;
}
