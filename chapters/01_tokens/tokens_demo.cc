// chapters/01_tokens/tokens_demo.cc — see a corpus become training examples.
//   bazel run //chapters/01_tokens:tokens_demo -- --data austen
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "chapters/01_tokens/batches.h"
#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/01_tokens/utf8.h"

// Newlines shown as "⏎" so that each row of a batch stays on one line.
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' ? std::string("\u23CE") : std::string(1, c);
  return out;
}

int main(int argc, char** argv) {
  CLI::App app{"Chapter 01: a corpus, its character vocabulary, and a batch of examples"};
  std::string data = "austen";
  int batch_size = 2, block_size = 32;
  uint64_t seed = 1337;
  app.add_option("--data", data, "corpus name (austen, kjv) or a UTF-8 text file")->capture_default_str();
  app.add_option("--batch_size", batch_size, "B: windows per batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--block_size", block_size, "T: tokens per window")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const std::string text = gpt::read_corpus(data);
    const gpt::CharTokenizer tok = gpt::CharTokenizer::from_text(text);
    const std::vector<int32_t> tokens = tok.encode(text);
    const gpt::TrainValSplit split = gpt::split_train_val(tokens, 0.1);
    std::printf("corpus %s: %zu bytes, %zu characters\n", data.c_str(), text.size(), tokens.size());
    std::printf("vocabulary: %d characters: %s\n", tok.vocab_size(),
                printable(gpt::encode_utf8(tok.vocabulary())).c_str());
    std::printf("train: %zu tokens, validation: %zu tokens\n\n", split.train.size(),
                split.val.size());

    gpt::Rng rng(seed);
    const gpt::Batch batch = gpt::sample_batch(split.train, batch_size, block_size, rng);
    for (int b = 0; b < batch.B; ++b) {
      const auto row = [&](const std::vector<int32_t>& v) {
        return std::vector<int32_t>(v.begin() + b * batch.T, v.begin() + (b + 1) * batch.T);
      };
      std::printf("row %d inputs : %s\n", b, printable(tok.decode(row(batch.inputs))).c_str());
      std::printf("row %d targets: %s\n", b, printable(tok.decode(row(batch.targets))).c_str());
      std::printf("row %d ids    :", b);
      for (int t = 0; t < std::min(batch.T, 12); ++t) std::printf(" %d", batch.inputs[b * batch.T + t]);
      std::printf(" ...\n\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
