// chapters/15_bpe/tokenizers.h — byte-level BPE for the train and generate programs.
//
// Chapter 09's programs take their tokenizers the way they take devices: as a
// registry their main() passes in (chapters/09_training/text_tokenizer.h).
// This file puts this chapter's tokenizers behind that interface, so
//
//   train --tokenizer gpt2 --data austen          GPT-2's 50,257 tokens
//   train --tokenizer austen512.bpe --data austen  a BPE learned by `tokenize learn`
//
// train the same model on BPE tokens instead of characters. The checkpoint
// records the tokenizer — kind "gpt2" with a fingerprint of the vocabulary,
// or kind "bpe" with the learned file's whole text — so `generate` and
// `train --resume` rebuild exactly the tokenizer the model was trained with,
// without the file.
#pragma once

#include <memory>
#include <string>

#include "chapters/09_training/text_tokenizer.h"
#include "chapters/15_bpe/bpe.h"

namespace gpt {

// GPT-2's tokenizer (gpt2_vocabulary.h). Its record is a fingerprint of the
// vocabulary ("gpt2: 50257 tokens, 50000 merges, fnv1a64 ..."): restoring
// checks that this build's files are the ones the model was trained with.
class Gpt2Tokenizer : public TextTokenizer {
 public:
  Gpt2Tokenizer();  // loads GPT-2's files once; std::runtime_error if they are missing
  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override { return bpe_.decode(ids); }
  int vocab_size() const override { return bpe_.vocab_size(); }
  std::string kind() const override { return "gpt2"; }
  std::string record() const override;
  std::string description() const override;

 private:
  const Bpe& bpe_;
};

// A BPE learned by learn_bpe and saved as a file (bpe_file.h). Its record is
// the file's text; two learned BPEs are the same when their merges are.
class LearnedBpeTokenizer : public TextTokenizer {
 public:
  // `file_text` as bpe_file_text wrote it; `name` names it in messages.
  // Throws std::runtime_error for text that is not such a file.
  LearnedBpeTokenizer(const std::string& file_text, const std::string& name);
  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override { return bpe_.decode(ids); }
  int vocab_size() const override { return bpe_.vocab_size(); }
  std::string kind() const override { return "bpe"; }
  std::string record() const override { return record_; }
  std::string description() const override;
  bool same_as(const TextTokenizer& other) const override;
  const Bpe& bpe() const { return bpe_; }

 private:
  Bpe bpe_;
  std::string comment_;  // the file's comment line ("learned from austen: 512 tokens"), if any
  std::string record_;   // bpe_file_text(bpe_, comment_)
};

// The registry of chapter 15's train and generate: --tokenizer char (chapter
// 09's), gpt2, or the path of a BPE file (relative paths as the user meant
// them: resolve_user_path). Restores kinds char, gpt2 and bpe.
Tokenizers bpe_tokenizers();

}  // namespace gpt
