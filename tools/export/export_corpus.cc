// tools/export/export_corpus.cc — a corpus as chapter 01's tokenizer sees it.
//
//   export_corpus --data austen --out corpus.safetensors
//
// Reads the corpus with read_corpus, builds the CharTokenizer, encodes the
// whole text and writes, for notebooks/tokens_and_embeddings.ipynb:
//   counts   (V)     I32  how often each token id occurs
//   bigrams  (V, V)  I32  bigrams[a, b]: how often id b follows id a
//   metadata         vocabulary (UTF-8, id order), tokens, train_tokens,
//                    val_tokens (the 90/10 split of split_train_val), data
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/01_tokens/utf8.h"
#include "common/safetensors.h"

int main(int argc, char** argv) {
  CLI::App app{"Corpus statistics by chapter 01's tokenizer, as a safetensors file"};
  std::string data = "austen", out;
  app.add_option("--data", data, "austen, kjv, or a UTF-8 text file")->capture_default_str();
  app.add_option("--out", out, "the safetensors file to write")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    const std::string text = gpt::read_corpus(data);
    const gpt::CharTokenizer tokenizer = gpt::CharTokenizer::from_text(text);
    const std::vector<int32_t> ids = tokenizer.encode(text);
    const int V = tokenizer.vocab_size();
    std::vector<int32_t> counts(V, 0);                   // (V)
    std::vector<int32_t> bigrams(size_t(V) * V, 0);      // (V, V)
    for (size_t i = 0; i < ids.size(); ++i) {
      counts[ids[i]] += 1;
      if (i + 1 < ids.size()) bigrams[size_t(ids[i]) * V + ids[i + 1]] += 1;
    }
    const gpt::TrainValSplit split = gpt::split_train_val(ids, 0.1);

    gpt::Safetensors file;
    file.put_ints("counts", {V}, counts.data());
    file.put_ints("bigrams", {V, V}, bigrams.data());
    file.metadata["data"] = data;
    file.metadata["vocabulary"] = gpt::encode_utf8(tokenizer.vocabulary());
    file.metadata["tokens"] = std::to_string(ids.size());
    file.metadata["train_tokens"] = std::to_string(split.train.size());
    file.metadata["val_tokens"] = std::to_string(split.val.size());
    file.write(out);
    std::printf("wrote %s: %zu tokens, vocabulary of %d\n", out.c_str(), ids.size(), V);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_corpus: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
