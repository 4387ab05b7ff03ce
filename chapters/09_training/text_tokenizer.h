// chapters/09_training/text_tokenizer.h — the tokenizer a run uses, whatever it is.
//
// The programs need four things from a tokenizer: text → ids, ids → text, how
// many ids there are (the model's vocab_size), and a way to write it into a
// checkpoint and read it back. Chapter 01's CharTokenizer is the one this
// chapter knows; chapter 15 adds GPT-2's byte-level BPE and learned ones,
// plugged in the way chapters 10 and 14 plug in devices: a registry
// (Tokenizers) passed to the program functions (programs.h).
//
//   --tokenizer NAME ─► Tokenizers::make(NAME, corpus text) ─► TextTokenizer
//   checkpoint {"tokenizer": kind, "vocabulary": record}
//     ─► Tokenizers::restore(kind, record) ─► the same tokenizer
//
// kind() names the family ("char", "gpt2", "bpe"); record() is what a
// checkpoint stores to rebuild it: for char its characters in id order (the
// checkpoint's "vocabulary", as before), for a learned BPE its whole file, so
// `generate` needs neither the corpus nor the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chapters/01_tokens/char_tokenizer.h"

namespace gpt {

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  // Text → ids. Throws std::invalid_argument for text it cannot encode (a
  // character tokenizer and a character outside its vocabulary).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids → bytes. One id of a byte-level BPE may be part of a UTF-8 character:
  // the bytes are valid UTF-8 once the whole text is decoded.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int vocab_size() const = 0;
  virtual std::string kind() const = 0;         // "char", "gpt2", "bpe"
  virtual std::string record() const = 0;       // what restores it (Tokenizers::restore)
  virtual std::string description() const = 0;  // for the log: "char: 81 characters"
  // Whether `other` gives every text the same ids. By default: the same kind
  // and record.
  virtual bool same_as(const TextTokenizer& other) const;
};

// Chapter 01's CharTokenizer as a TextTokenizer: kind "char", record its
// characters (UTF-8, in id order).
class CharTextTokenizer : public TextTokenizer {
 public:
  explicit CharTextTokenizer(CharTokenizer chars) : chars_(std::move(chars)) {}
  std::vector<int32_t> encode(std::string_view text) const override { return chars_.encode(text); }
  std::string decode(const std::vector<int32_t>& ids) const override { return chars_.decode(ids); }
  int vocab_size() const override { return chars_.vocab_size(); }
  std::string kind() const override { return "char"; }
  std::string record() const override;
  std::string description() const override;
  const CharTokenizer& chars() const { return chars_; }

 private:
  CharTokenizer chars_;
};

inline constexpr const char* kCharTokenizer = "char";

// What `--tokenizer` may name in a program, and how a checkpoint's tokenizer
// comes back. Each program's main passes one (programs.h).
struct Tokenizers {
  // For messages: what --tokenizer accepts here ("char", or "char, gpt2 or a BPE file").
  std::string offered;
  // The tokenizer `--tokenizer name` names, for a new run on `text` (the
  // whole corpus: char takes its characters from it; others may ignore it).
  // Throws UsageError (train_options.h) for a name it does not offer or a
  // file it cannot read, naming --tokenizer; std::invalid_argument for a text
  // it cannot take (the caller names the data).
  std::function<std::unique_ptr<TextTokenizer>(const std::string& name, const std::string& text)>
      make;
  // The tokenizer a checkpoint recorded. Throws std::invalid_argument (or
  // std::runtime_error) saying what is wrong: a kind this program does not
  // offer, a damaged record.
  std::function<std::unique_ptr<TextTokenizer>(const std::string& kind, const std::string& record)>
      restore;
};

// Chapter 09's registry: char only. Its make builds the text's characters
// (at most kMaxCorpusVocabulary, training_data.h), its restore reads a char
// checkpoint's vocabulary.
Tokenizers char_tokenizers();

// The character tokenizer of `text` (every distinct character). Throws
// std::invalid_argument for invalid UTF-8 or more than kMaxCorpusVocabulary
// characters.
std::unique_ptr<TextTokenizer> char_tokenizer_of_text(const std::string& text);
// A char checkpoint's tokenizer: its characters, UTF-8. Throws std::invalid_argument.
std::unique_ptr<TextTokenizer> char_tokenizer_of_record(const std::string& record);

// A checkpoint's tokenizer, restored with `tokenizers` and checked against
// the model: its vocab_size must be model_vocab_size. Throws UsageError
// beginning with `where` ("--resume FILE", "--checkpoint FILE").
std::shared_ptr<const TextTokenizer> restore_tokenizer(const Tokenizers& tokenizers,
                                                       const std::string& kind,
                                                       const std::string& record,
                                                       int model_vocab_size,
                                                       const std::string& where);

// `--tokenizer name` given beside a checkpoint whose tokenizer is `stored`
// (train --resume, generate): a UsageError naming both unless `name` names
// it. "char" names any character tokenizer (its characters come from the
// corpus, so a resumed run keeps the checkpoint's); other names are made
// with `tokenizers` and compared with same_as().
void require_same_tokenizer(const Tokenizers& tokenizers, const std::string& name,
                            const TextTokenizer& stored, const std::string& checkpoint);

// "characters" for a character tokenizer, "tokens" otherwise: the unit of
// the programs' counts.
const char* token_unit(const TextTokenizer& tokenizer);

}  // namespace gpt
