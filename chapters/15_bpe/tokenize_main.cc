// chapters/15_bpe/tokenize_main.cc — the tokenizer as a program.
//
//   printf "Hello world" | bazel run //:tokenize -- encode               → 15496 995
//   echo "15496 995"     | bazel run //:tokenize -- decode               → Hello world
//   bazel run //:tokenize -- learn --data austen --vocab_size 512 --out austen512.bpe
//   bazel run //:tokenize -- --tokenizer austen512.bpe encode < text.txt
//   bazel run //:tokenize -- count --data kjv                            tokens of a corpus, all cores
//
// --tokenizer gpt2 (the default) is GPT-2's vocabulary; any other value is a
// file written by `learn`. encode reads UTF-8 text (any bytes, in fact) on
// stdin and prints the ids space-separated on one line; decode reads ids
// separated by whitespace and writes the bytes. Exit status: 0 done, 1 a
// failure reading or writing, 2 bad flags or input.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chapters/01_tokens/corpus.h"
#include "chapters/15_bpe/bpe.h"
#include "chapters/15_bpe/bpe_file.h"
#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "chapters/15_bpe/learn_bpe.h"
#include "chapters/15_bpe/parallel_encode.h"

namespace gpt {
namespace {

// Bad flags or input: exit status 2.
struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Relative paths are relative to where the user typed them, also under `bazel run`.
std::string user_path(const std::string& path) {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || !dir) return path;
  return std::string(dir) + "/" + path;
}

std::string read_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) throw std::runtime_error("cannot read stdin");
  return text;
}

std::optional<Bpe> learned;  // a --tokenizer FILE, kept alive here

const Bpe& choose(const std::string& flag) {
  if (flag == "gpt2") return gpt2_bpe();
  try {
    learned.emplace(load_bpe(user_path(flag)));
  } catch (const std::exception& e) {
    throw BadInput(std::string("--tokenizer: ") + e.what() + " (use gpt2, or a file written by `learn`)");
  }
  return *learned;
}

SpecialTokens special_mode(const std::string& flag) {
  if (flag == "text") return SpecialTokens::as_text;
  if (flag == "allowed") return SpecialTokens::allowed;
  return SpecialTokens::refused;
}

void encode(const Bpe& bpe, SpecialTokens special, int threads) {
  const std::string text = read_stdin();
  std::vector<int32_t> ids;
  try {
    ids = encode_parallel(bpe, text, threads, special);
  } catch (const std::invalid_argument& e) {
    throw BadInput(std::string("encode: ") + e.what() + " (--special allowed|text)");
  }
  std::string line;
  line.reserve(ids.size() * 6);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void decode(const Bpe& bpe) {
  const std::string text = read_stdin();
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) {
      throw BadInput("decode: '" + word.substr(0, 40) + "' (token " + std::to_string(ids.size()) +
                     ") is not an id");
    }
    if (id < 0 || id >= bpe.vocab_size()) {
      throw BadInput("decode: id " + word + " (token " + std::to_string(ids.size()) +
                     ") is outside the vocabulary [0, " + std::to_string(bpe.vocab_size()) + ")");
    }
    ids.push_back(static_cast<int32_t>(id));
  }
  const std::string bytes = bpe.decode(ids);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

std::string read_data(const std::string& data) {
  try {
    return read_corpus(data == "austen" || data == "kjv" ? data : user_path(data));
  } catch (const std::exception& e) {
    throw BadInput("--data " + data + ": " + e.what());
  }
}

void count(const Bpe& bpe, const std::string& data, int threads) {
  const std::string text = read_data(data);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = encode_parallel(bpe, text, threads);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu bytes → %zu tokens (%.3f bytes per token) in %.3f s on %d threads, %.1f MB/s\n",
              data.c_str(), text.size(), ids.size(), double(text.size()) / ids.size(), seconds,
              threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency()),
              text.size() / seconds / 1e6);
}

void learn(const std::string& data, int vocab_size, const std::string& out, int show) {
  if (vocab_size < 256 || vocab_size > 1000000) {
    throw BadInput("--vocab_size: a byte-level BPE has between 256 and 1,000,000 tokens, not " +
                   std::to_string(vocab_size));
  }
  const std::string text = read_data(data);
  std::fprintf(stderr, "learning %d merges from %s (%zu bytes)\n", vocab_size - 256, data.c_str(),
               text.size());
  Bpe bpe = [&] {
    try {
      return learn_bpe(text, vocab_size, [](int done, int wanted) {
        std::fprintf(stderr, "\r  %d / %d merges", done, wanted);
      });
    } catch (const std::invalid_argument& e) {
      throw BadInput(std::string("--vocab_size: ") + e.what());
    }
  }();
  std::fprintf(stderr, "\n");
  for (int r = 0; r < show && r < static_cast<int>(bpe.merges().size()); ++r) {
    const Merge& m = bpe.merges()[r];
    std::printf("merge %3d: '%s' + '%s' → '%s'\n", r, bytes_to_alphabet(bpe.token(m.left)).c_str(),
                bytes_to_alphabet(bpe.token(m.right)).c_str(),
                bytes_to_alphabet(bpe.token(m.merged)).c_str());
  }
  const size_t tokens = bpe.encode(text).size();
  std::printf("%s: %zu bytes → %zu tokens with %d tokens in the vocabulary\n", data.c_str(),
              text.size(), tokens, bpe.vocab_size());
  try {
    save_bpe(bpe, user_path(out), "learned from " + data + ": " + std::to_string(bpe.vocab_size()) + " tokens");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--out: ") + e.what());
  }
  std::printf("wrote %s\n", out.c_str());
}

int run(int argc, char** argv) {
  CLI::App app{"GPT-2's byte-level BPE tokenizer (chapter 15)"};
  app.require_subcommand(1);
  std::string tokenizer = "gpt2", special = "refused", data, out;
  int threads = 0, vocab_size = 512, show = 20;
  app.add_option("--tokenizer", tokenizer, "gpt2, or a BPE file written by `learn`")->capture_default_str();
  app.add_option("--special", special,
                 "<|endoftext|> in the text: refused (an error), allowed (id 50256) or text")
      ->capture_default_str()
      ->check(CLI::IsMember({"refused", "allowed", "text"}));
  app.add_option("--threads", threads, "encode and count: threads (0: one per core)")->capture_default_str()
      ->check(CLI::Range(0, 1024));
  CLI::App* enc = app.add_subcommand("encode", "text on stdin → ids on stdout, one line");
  CLI::App* dec = app.add_subcommand("decode", "ids on stdin → text on stdout");
  CLI::App* cnt = app.add_subcommand("count", "a corpus's tokens, encoded on all cores");
  cnt->add_option("--data", data, "austen, kjv, or a text file")->required();
  CLI::App* lrn = app.add_subcommand("learn", "learn a BPE from a corpus and save it");
  lrn->add_option("--data", data, "austen, kjv, or a text file")->required();
  lrn->add_option("--vocab_size", vocab_size, "tokens: 256 bytes + merges")->capture_default_str();
  lrn->add_option("--out", out, "the BPE file to write")->required();
  lrn->add_option("--show", show, "print the first merges")->capture_default_str()->check(CLI::Range(0, 1000000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (lrn->parsed()) {
    learn(data, vocab_size, out, show);
    return 0;
  }
  const Bpe& bpe = choose(tokenizer);
  if (enc->parsed()) encode(bpe, special_mode(special), threads);
  if (dec->parsed()) decode(bpe);
  if (cnt->parsed()) count(bpe, data, threads);
  return 0;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  try {
    return gpt::run(argc, argv);
  } catch (const gpt::BadInput& e) {
    std::fprintf(stderr, "tokenize: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize: error: %s\n", e.what());
    return 1;
  }
}
