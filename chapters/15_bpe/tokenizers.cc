// chapters/15_bpe/tokenizers.cc — GPT-2's BPE and learned BPEs as the programs' tokenizers.
#include "chapters/15_bpe/tokenizers.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "chapters/09_training/metrics.h"
#include "chapters/09_training/train_options.h"
#include "chapters/15_bpe/bpe_file.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "chapters/15_bpe/parallel_encode.h"

namespace gpt {
namespace {

// Texts above this are encoded on every core (parallel_encode.h): a corpus,
// not a prompt.
constexpr size_t kParallelEncodeBytes = 1 << 20;

std::vector<int32_t> encode_text(const Bpe& bpe, std::string_view text) {
  return encode_parallel(bpe, text, text.size() < kParallelEncodeBytes ? 1 : 0);
}

// FNV-1a, 64 bits: a checksum of a vocabulary, not a cryptographic hash.
class Fnv1a {
 public:
  void add(const void* data, size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ull;
  }
  void add(const std::string& text) {
    add_number(text.size());
    add(text.data(), text.size());
  }
  void add_number(uint64_t x) { add(&x, sizeof x); }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

// "gpt2: 50257 tokens, 50000 merges, fnv1a64 0123456789abcdef": the token
// bytes, the merges and the special tokens, summed up.
std::string fingerprint(const Bpe& bpe) {
  Fnv1a hash;
  for (int32_t id = 0; id < bpe.vocab_size(); ++id) hash.add(bpe.token(id));
  for (const Merge& m : bpe.merges()) {
    hash.add_number(uint64_t(uint32_t(m.left)));
    hash.add_number(uint64_t(uint32_t(m.right)));
    hash.add_number(uint64_t(uint32_t(m.merged)));
  }
  for (const auto& [text, id] : bpe.special()) {
    hash.add(text);
    hash.add_number(uint64_t(uint32_t(id)));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, hash.value());
  return "gpt2: " + std::to_string(bpe.vocab_size()) + " tokens, " +
         std::to_string(bpe.merges().size()) + " merges, fnv1a64 " + hex;
}

// The comment line bpe_file_text writes under the first ("#learned from ..."), or "".
std::string comment_of(const std::string& file_text) {
  const size_t first_end = file_text.find('\n');
  if (first_end == std::string::npos || file_text.compare(first_end + 1, 1, "#") != 0) return "";
  const size_t begin = first_end + 2;
  const size_t end = file_text.find_first_of("\r\n", begin);
  return file_text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace

// ---------------------------------------------------------------- GPT-2

Gpt2Tokenizer::Gpt2Tokenizer() : bpe_(gpt2_bpe()) {}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
  return encode_text(bpe_, text);  // <|endoftext|> in the text is text, as any other characters
}

std::string Gpt2Tokenizer::record() const {
  static const std::string print = fingerprint(bpe_);
  return print;
}

std::string Gpt2Tokenizer::description() const {
  return "gpt2: GPT-2's byte-level BPE, " + grouped(vocab_size()) + " tokens";
}

// ---------------------------------------------------------------- learned

LearnedBpeTokenizer::LearnedBpeTokenizer(const std::string& file_text, const std::string& name)
    : bpe_(bpe_from_file_text(file_text, name)),
      comment_(comment_of(file_text)),
      record_(bpe_file_text(bpe_, comment_)) {}

std::vector<int32_t> LearnedBpeTokenizer::encode(std::string_view text) const {
  return encode_text(bpe_, text);
}

std::string LearnedBpeTokenizer::description() const {
  return "bpe: a learned BPE of " + grouped(vocab_size()) + " tokens" +
         (comment_.empty() ? "" : " (" + comment_ + ")");
}

bool LearnedBpeTokenizer::same_as(const TextTokenizer& other) const {
  const auto* learned = dynamic_cast<const LearnedBpeTokenizer*>(&other);
  if (!learned || learned->bpe_.merges().size() != bpe_.merges().size()) return false;
  for (size_t r = 0; r < bpe_.merges().size(); ++r) {
    const Merge& a = bpe_.merges()[r];
    const Merge& b = learned->bpe_.merges()[r];
    if (a.left != b.left || a.right != b.right || a.merged != b.merged) return false;
  }
  return true;  // the comment line does not change a single id
}

// ---------------------------------------------------------------- the registry

Tokenizers bpe_tokenizers() {
  Tokenizers tokenizers;
  tokenizers.offered = "char, gpt2 or a BPE file written by `tokenize learn`";
  tokenizers.make = [](const std::string& name,
                       const std::string& text) -> std::unique_ptr<TextTokenizer> {
    if (name == kCharTokenizer) return char_tokenizer_of_text(text);
    try {
      if (name == "gpt2") return std::make_unique<Gpt2Tokenizer>();
      const std::string path = resolve_user_path(name);
      return std::make_unique<LearnedBpeTokenizer>(read_whole_file(path), path);
    } catch (const std::runtime_error& e) {
      throw UsageError("--tokenizer " + name + ": " + e.what() +
                       " (--tokenizer takes char, gpt2 or a BPE file written by `tokenize learn`)");
    }
  };
  tokenizers.restore = [](const std::string& kind,
                          const std::string& record) -> std::unique_ptr<TextTokenizer> {
    if (kind == kCharTokenizer) return char_tokenizer_of_record(record);
    if (kind == "gpt2") {
      auto gpt2 = std::make_unique<Gpt2Tokenizer>();
      if (record != gpt2->record()) {
        throw std::invalid_argument("it was trained with a GPT-2 vocabulary ('" + record +
                                    "') other than this build's ('" + gpt2->record() + "')");
      }
      return gpt2;
    }
    if (kind == "bpe") {
      return std::make_unique<LearnedBpeTokenizer>(record, "its tokenizer's BPE file");
    }
    throw std::invalid_argument("its tokenizer is '" + kind +
                                "', which this program does not know (it reads char, gpt2 and "
                                "bpe)");
  };
  return tokenizers;
}

}  // namespace gpt
