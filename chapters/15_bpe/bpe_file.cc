// chapters/15_bpe/bpe_file.cc — writing and reading learned merges.
#include "chapters/15_bpe/bpe_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "chapters/15_bpe/merge_lines.h"

namespace gpt {

std::string bpe_file_text(const Bpe& bpe, const std::string& comment) {
  for (int b = 0; b < 256; ++b) {
    if (bpe.byte_token(static_cast<uint8_t>(b)) != b) {
      throw std::invalid_argument("only a learned BPE (id = byte for the first 256) can be saved");
    }
  }
  if (!bpe.special().empty() || bpe.vocab_size() != 256 + static_cast<int>(bpe.merges().size())) {
    throw std::invalid_argument("only a learned BPE (256 bytes, then one token per merge) can be saved");
  }
  std::string text = std::string(kBpeFileMagic) + "\n";
  if (!comment.empty()) text += "#" + comment.substr(0, comment.find('\n')) + "\n";
  for (size_t rank = 0; rank < bpe.merges().size(); ++rank) {
    const Merge& m = bpe.merges()[rank];
    if (m.merged != 256 + static_cast<int32_t>(rank)) {
      throw std::invalid_argument("only a learned BPE (merge r makes token 256 + r) can be saved");
    }
    text += bytes_to_alphabet(bpe.token(m.left)) + " " + bytes_to_alphabet(bpe.token(m.right)) + "\n";
  }
  return text;
}

void save_bpe(const Bpe& bpe, const std::string& path, const std::string& comment) {
  const std::string text = bpe_file_text(bpe, comment);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw std::runtime_error("cannot write '" + temporary + "'");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot write '" + path + "': " + error.message());
  }
}

Bpe bpe_from_file_text(std::string_view text, const std::string& name) {
  const std::string_view first_line = text.substr(0, text.find('\n'));
  if (first_line != kBpeFileMagic && first_line != std::string(kBpeFileMagic) + "\r") {
    throw std::runtime_error(name + ": not a BPE file written by learn_bpe (its first line is not '" +
                             kBpeFileMagic + "')");
  }
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int32_t> id_of;  // token bytes → id
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back(1, static_cast<char>(b));
    id_of[tokens.back()] = b;
  }
  std::vector<Merge> merges;
  for_each_merge_line(text, name, [&](const std::string& left, const std::string& right, int line) {
    auto id = [&](const std::string& written) {
      std::string bytes;
      try {
        bytes = alphabet_to_bytes(written);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(name + ": line " + std::to_string(line) + ": " + e.what());
      }
      const auto it = id_of.find(bytes);
      if (it == id_of.end()) {
        throw std::runtime_error(name + ": line " + std::to_string(line) + ": '" + written +
                                 "' is not a token yet (a merge may use only bytes and the tokens "
                                 "of the merges above it)");
      }
      return it->second;
    };
    const int32_t l = id(left), r = id(right);
    const int32_t merged = static_cast<int32_t>(tokens.size());
    tokens.push_back(tokens[l] + tokens[r]);
    if (!id_of.emplace(tokens.back(), merged).second) {
      throw std::runtime_error(name + ": line " + std::to_string(line) + ": '" + left + right +
                               "' is made twice (it is token " +
                               std::to_string(id_of[tokens.back()]) + " already)");
    }
    merges.push_back({l, r, merged});
  });
  try {
    return Bpe(std::move(tokens), std::move(merges));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(name + ": inconsistent: " + e.what());
  }
}

Bpe load_bpe(const std::string& path) { return bpe_from_file_text(read_whole_file(path), path); }

}  // namespace gpt
