// chapters/01_tokens/corpus.cc — reading named corpora and text files.
#include "chapters/01_tokens/corpus.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "chapters/01_tokens/utf8.h"
#include "tools/cpp/runfiles/runfiles.h"

namespace gpt {
namespace {

// Where Bazel puts the extracted named corpora, relative to the runfiles root.
std::string named_corpus_file(const std::string& name) {
  if (name == "austen" || name == "kjv") return "chapters/01_tokens/" + name + ".txt";
  return "";
}

std::string self_executable() {
  char buffer[4096];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

}  // namespace

std::string runfile_path(const std::string& relative) {
  // `bazel run` and `bazel test` start in the runfiles root ...
  if (std::filesystem::exists(relative)) return relative;
  // ... a binary started by hand finds its runfiles beside itself.
  std::string error;
  std::unique_ptr<bazel::tools::cpp::runfiles::Runfiles> runfiles(
      bazel::tools::cpp::runfiles::Runfiles::Create(self_executable(), &error));
  if (runfiles) {
    const std::string path = runfiles->Rlocation("gpt_from_scratch/" + relative);
    if (!path.empty() && std::filesystem::exists(path)) return path;
  }
  return "";
}

std::string corpus_path(const std::string& name_or_path) {
  const std::string relative = named_corpus_file(name_or_path);
  if (relative.empty()) return name_or_path;
  const std::string path = runfile_path(relative);
  if (!path.empty()) return path;
  throw std::runtime_error("corpus '" + name_or_path + "' was not built; run `bazel build " +
                           "//chapters/01_tokens:" + name_or_path + "` or depend on it");
}

std::string read_corpus(const std::string& name_or_path) {
  const std::string path = corpus_path(name_or_path);
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error("'" + path + "' is a directory, not a text file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open corpus file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string result = text.str();
  if (result.empty()) throw std::runtime_error("corpus file '" + path + "' is empty");
  try {
    decode_utf8(result);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("corpus file '" + path + "': " + e.what());
  }
  return result;
}

TrainValSplit split_train_val(const std::vector<int32_t>& tokens, double val_fraction) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
    throw std::invalid_argument("val_fraction must be in [0, 1), got " +
                                std::to_string(val_fraction));
  }
  const size_t n_train = tokens.size() - static_cast<size_t>(tokens.size() * val_fraction);
  return {std::vector<int32_t>(tokens.begin(), tokens.begin() + static_cast<long>(n_train)),
          std::vector<int32_t>(tokens.begin() + static_cast<long>(n_train), tokens.end())};
}

}  // namespace gpt
