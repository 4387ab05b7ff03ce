// tools/fuzz/corpus_fuzz.cc — arbitrary bytes as a training text.
//
// `train --data FILE` reads the file (chapter 01's read_corpus: it must exist,
// be non-empty and be valid UTF-8), builds the character tokenizer
// (CharTokenizer::from_text, at most kMaxCorpusVocabulary characters), encodes
// the text and splits it 90/10 (chapter 09's prepare_training_data). This
// target writes the input to a file and runs exactly that. The promise: a
// UsageError for anything wrong, no crash; and for text that loads, decoding
// the ids gives the text back.
//
// Input: byte 0 chooses the mode; with its low bit set, the rest is split at
// the first NUL into a stored vocabulary (as a resumed run has) and the text.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/09_training/train_options.h"
#include "chapters/09_training/training_data.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

const std::string& scratch_file() {
  static const std::string path = [] {
    const char* dir = std::getenv("TEST_TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/corpus_fuzz_" + std::to_string(getpid()) + ".txt";
  }();
  return path;
}

// A vocabulary as a checkpoint would hold it (load_checkpoint checks this much).
bool valid_vocabulary(const std::string& vocabulary) {
  try {
    gpt::CharTokenizer tokenizer(gpt::decode_utf8(vocabulary));
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpt;
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string vocabulary;
  if (data[0] & 1) {
    const size_t nul = text.find('\0');
    if (nul == std::string::npos) return 0;
    vocabulary = text.substr(0, nul);
    text = text.substr(nul + 1);
    if (!valid_vocabulary(vocabulary)) return 0;
  }

  // The decoder alone: valid UTF-8 encodes back to the same bytes.
  bool utf8 = true;
  try {
    FUZZ_CHECK(encode_utf8(decode_utf8(text)) == text, "UTF-8 round trip");
  } catch (const std::invalid_argument&) {
    utf8 = false;
  }

  // A new file each time (ext4 flushes a truncated-and-rewritten one on close).
  std::remove(scratch_file().c_str());
  { std::ofstream(scratch_file(), std::ios::binary) << text; }
  try {
    const TrainingData d = prepare_training_data(scratch_file(), 65, 1, 1, vocabulary);
    FUZZ_CHECK(utf8 && !text.empty(), "a corpus that is empty or not UTF-8 was accepted");
    if (vocabulary.empty()) {
      FUZZ_CHECK(d.tokenizer->vocab_size() <= kMaxCorpusVocabulary, "vocabulary over the limit");
    }
    FUZZ_CHECK(d.tokenizer->decode(d.train) + d.tokenizer->decode(d.val) == text,
               "the ids do not decode to the text");
    FUZZ_CHECK(d.train.size() + d.val.size() == decode_utf8(text).size(), "lost characters");
    try {
      require_one_block(d, 1 + data[0] / 2);
    } catch (const UsageError&) {
    }
  } catch (const UsageError&) {
  }
  return 0;
}
