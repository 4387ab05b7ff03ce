// chapters/09_training/training_data.h — the text a run trains on, as token ids.
//
// corpus (chapter 01) ─► tokenizer (CharTokenizer over the WHOLE corpus) ─► ids
//                      ─► train 90% | val 10%
//
// The vocabulary is built from the whole text, validation part included, so
// every validation character has an id; the checkpoint stores it, and a
// resumed run or `generate` rebuilds the same tokenizer from there. The
// tokenizer is a TextTokenizer (text_tokenizer.h): chapter 15's programs
// pass GPT-2's BPE or a learned one instead.
// `--data random` instead draws uniformly random ids over a made-up vocabulary
// of vocab_size characters: nothing to learn (the loss cannot go below
// log V), but the seed's own setting for measuring throughput.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chapters/09_training/text_tokenizer.h"

namespace gpt {

inline constexpr double kValidationFraction = 0.1;  // the last tenth of the text

// A corpus with more distinct characters than this is refused. Each character
// is a row of the embedding table and of the output layer, and a model learns
// a row only from the character's occurrences: thousands of rare characters
// (a CJK text, a binary file that happens to be valid UTF-8) make a big model
// that cannot learn most of its vocabulary. English prose needs about 80;
// every alphabetic script with its accents and punctuation fits easily.
// Raise it here if you mean it.
inline constexpr int kMaxCorpusVocabulary = 4096;

struct TrainingData {
  std::shared_ptr<const TextTokenizer> tokenizer;
  std::vector<int32_t> train;  // (the first 90% of the ids)
  std::vector<int32_t> val;    // (the last 10%): text the model never trains on
  std::string description;     // for the log: where the text came from, how big
};

// `data` is a corpus name (austen, kjv), a path, or "random". With an empty
// `vocabulary` the tokenizer is the corpus's characters; otherwise (resuming)
// it is that vocabulary (UTF-8, in id order) and the text must use only its
// characters. vocab_size, random_tokens and seed matter for "random" only.
// Throws UsageError (train_options.h) naming the data and what is wrong: a
// missing, empty or unreadable file, invalid UTF-8 (with the byte offset), a
// vocabulary above kMaxCorpusVocabulary, a character outside the stored
// vocabulary.
TrainingData prepare_training_data(const std::string& data, int vocab_size,
                                   int64_t random_tokens, uint64_t seed,
                                   const std::string& vocabulary = "");

// The same with any tokenizer. A resumed run passes its checkpoint's as
// `stored`; a new run passes nullptr, and `make` builds the tokenizer from
// the corpus's text (std::invalid_argument for a text it cannot take becomes
// a UsageError naming --data; a UsageError passes through). "random" takes
// no tokenizer from `make`: its ids are over random_vocabulary's characters,
// and a stored tokenizer must be a character one.
using MakeTokenizer = std::function<std::unique_ptr<TextTokenizer>(const std::string& text)>;
TrainingData prepare_training_data(const std::string& data, int vocab_size,
                                   int64_t random_tokens, uint64_t seed,
                                   std::shared_ptr<const TextTokenizer> stored,
                                   const MakeTokenizer& make);

// Both splits must hold at least one window of block_size + 1 tokens: the
// training batches and the validation batches are drawn from them.
// Throws UsageError otherwise.
void require_one_block(const TrainingData& data, int block_size);

// The made-up vocabulary of --data random: newline, then the printable ASCII
// characters from the space on, then Latin-1 and beyond.
std::u32string random_vocabulary(int vocab_size);

// The baseline a model must beat: the validation loss (nats per token) of a
// model that ignores context and predicts every token with its frequency in
// the training text (add-one smoothed, so unseen tokens cost log of a small
// probability rather than infinity).
double unigram_loss(const std::vector<int32_t>& train, const std::vector<int32_t>& val,
                    int vocab_size);

// n ids uniform over [0, vocab_size), the same for the same seed.
std::vector<int32_t> random_token_stream(int64_t n, int vocab_size, uint64_t seed);

}  // namespace gpt
