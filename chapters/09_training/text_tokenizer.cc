// chapters/09_training/text_tokenizer.cc — the character tokenizer behind the interface,
// and the checks the programs make on a checkpoint's tokenizer.
#include "chapters/09_training/text_tokenizer.h"

#include <stdexcept>

#include "chapters/01_tokens/utf8.h"
#include "chapters/09_training/train_options.h"
#include "chapters/09_training/training_data.h"

namespace gpt {

bool TextTokenizer::same_as(const TextTokenizer& other) const {
  return kind() == other.kind() && record() == other.record();
}

std::string CharTextTokenizer::record() const { return encode_utf8(chars_.vocabulary()); }

std::string CharTextTokenizer::description() const {
  return "char: " + std::to_string(vocab_size()) + " characters";
}

std::unique_ptr<TextTokenizer> char_tokenizer_of_text(const std::string& text) {
  CharTokenizer chars = CharTokenizer::from_text(text);
  if (chars.vocab_size() > kMaxCorpusVocabulary) {
    throw std::invalid_argument(
        "the text has " + std::to_string(chars.vocab_size()) +
        " distinct characters, more than a character model's limit of " +
        std::to_string(kMaxCorpusVocabulary) +
        " (kMaxCorpusVocabulary in chapters/09_training/training_data.h); is it "
        "the text you meant?");
  }
  return std::make_unique<CharTextTokenizer>(std::move(chars));
}

std::unique_ptr<TextTokenizer> char_tokenizer_of_record(const std::string& record) {
  return std::make_unique<CharTextTokenizer>(CharTokenizer(decode_utf8(record)));
}

Tokenizers char_tokenizers() {
  Tokenizers tokenizers;
  tokenizers.offered = kCharTokenizer;
  tokenizers.make = [](const std::string& name, const std::string& text) {
    if (name != kCharTokenizer) {
      throw UsageError("--tokenizer " + name +
                       ": this program offers only char (the text's characters); chapter 15's "
                       "train and generate (bazel run //:train) offer gpt2 and learned BPE files");
    }
    return char_tokenizer_of_text(text);
  };
  tokenizers.restore = [](const std::string& kind, const std::string& record) {
    if (kind != kCharTokenizer) {
      throw std::invalid_argument("its tokenizer is '" + kind +
                                  "', and this program offers only char; chapter 15's train and "
                                  "generate (bazel run //:train, //:generate) read it");
    }
    return char_tokenizer_of_record(record);
  };
  return tokenizers;
}

std::shared_ptr<const TextTokenizer> restore_tokenizer(const Tokenizers& tokenizers,
                                                       const std::string& kind,
                                                       const std::string& record,
                                                       int model_vocab_size,
                                                       const std::string& where) {
  std::shared_ptr<const TextTokenizer> tokenizer;
  try {
    tokenizer = tokenizers.restore(kind, record);
  } catch (const std::exception& e) {
    throw UsageError(where + ": " + e.what());
  }
  if (tokenizer->vocab_size() != model_vocab_size) {
    throw UsageError(where + ": its tokenizer (" + tokenizer->description() + ") has " +
                     std::to_string(tokenizer->vocab_size()) +
                     " tokens but its model's vocab_size is " + std::to_string(model_vocab_size));
  }
  return tokenizer;
}

void require_same_tokenizer(const Tokenizers& tokenizers, const std::string& name,
                            const TextTokenizer& stored, const std::string& checkpoint) {
  bool same = false;
  if (name == kCharTokenizer) {
    same = stored.kind() == kCharTokenizer;
  } else {
    same = tokenizers.make(name, "")->same_as(stored);
  }
  if (!same) {
    throw UsageError("--tokenizer " + name + " differs from the tokenizer of the checkpoint '" +
                     checkpoint + "', " + stored.description() +
                     "; a model works only with the tokenizer it was trained with (leave "
                     "--tokenizer out to use the checkpoint's)");
  }
}

const char* token_unit(const TextTokenizer& tokenizer) {
  return tokenizer.kind() == kCharTokenizer ? "characters" : "tokens";
}

}  // namespace gpt
