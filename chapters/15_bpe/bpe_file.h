// chapters/15_bpe/bpe_file.h — a learned BPE on disk, and back.
//
// A learned BPE needs only its merges: the first 256 ids are the bytes 0-255
// (id = byte), and merge r makes token 256 + r. The file is GPT-2's vocab.bpe
// format (merge_lines.h) under a first line of its own, so it cannot be
// mistaken for GPT-2's files:
//
//   #gpt-from-scratch byte-level BPE 1
//   #learned from austen: 512 tokens
//   Ġ t
//   h e
//   ...
#pragma once

#include <string>
#include <string_view>

#include "chapters/15_bpe/bpe.h"

namespace gpt {

inline constexpr const char* kBpeFileMagic = "#gpt-from-scratch byte-level BPE 1";

// The file's text. `comment` (one line, may be empty) says where it came from.
// Throws std::invalid_argument when `bpe` does not have the learned layout
// (id = byte for the first 256, merge r makes 256 + r, no special tokens).
std::string bpe_file_text(const Bpe& bpe, const std::string& comment);

// Writes the file atomically (a temporary file, then a rename). Throws
// std::runtime_error naming the path when it cannot.
void save_bpe(const Bpe& bpe, const std::string& path, const std::string& comment);

// Reads a file written by save_bpe. Throws std::runtime_error naming `path`
// (and the line) for a missing file, another format, a malformed line, a
// token that is not yet defined where a merge uses it, or a merge repeated.
Bpe load_bpe(const std::string& path);

// The same from the text; `name` names it in messages.
Bpe bpe_from_file_text(std::string_view text, const std::string& name);

}  // namespace gpt
