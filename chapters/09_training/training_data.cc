// chapters/09_training/training_data.cc — reading, tokenizing and splitting the data.
#include "chapters/09_training/training_data.h"

#include <cmath>
#include <exception>

#include "chapters/01_tokens/corpus.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/09_training/metrics.h"
#include "chapters/09_training/train_options.h"
#include "common/random.h"

namespace gpt {
namespace {

// Random data has its own generator: the same --seed gives the same stream,
// and drawing it does not move the training generator.
constexpr uint64_t kRandomDataSalt = 0xDA7A5EEDull;

}  // namespace

std::u32string random_vocabulary(int vocab_size) {
  std::u32string chars;
  for (int i = 0; i < vocab_size; ++i) {
    if (i == 0) {
      chars.push_back(U'\n');
    } else if (i <= 95) {
      chars.push_back(static_cast<char32_t>(0x20 + i - 1));   // ' ' .. '~'
    } else {
      chars.push_back(static_cast<char32_t>(0xA1 + i - 96));  // '¡' onwards
    }
  }
  return chars;
}

std::vector<int32_t> random_token_stream(int64_t n, int vocab_size, uint64_t seed) {
  Rng rng(seed ^ kRandomDataSalt);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab_size)));
  return ids;
}

TrainingData prepare_training_data(const std::string& data, int vocab_size,
                                   int64_t random_tokens, uint64_t seed,
                                   const std::string& vocabulary) {
  std::shared_ptr<const TextTokenizer> stored;
  if (!vocabulary.empty()) stored = char_tokenizer_of_record(vocabulary);
  return prepare_training_data(data, vocab_size, random_tokens, seed, stored,
                               char_tokenizer_of_text);
}

TrainingData prepare_training_data(const std::string& data, int vocab_size,
                                   int64_t random_tokens, uint64_t seed,
                                   std::shared_ptr<const TextTokenizer> stored,
                                   const MakeTokenizer& make) {
  if (data == "random") {
    if (stored && stored->kind() != kCharTokenizer) {
      throw UsageError("--data random: its tokens are random ids over made-up characters, but "
                       "the checkpoint's tokenizer is " + stored->description());
    }
    std::shared_ptr<const TextTokenizer> tokenizer =
        stored ? stored
               : std::make_shared<CharTextTokenizer>(CharTokenizer(random_vocabulary(vocab_size)));
    const std::vector<int32_t> ids =
        random_token_stream(random_tokens, tokenizer->vocab_size(), seed);
    const std::string description = "random: " + grouped(random_tokens) +
                                    " uniform tokens over " +
                                    std::to_string(tokenizer->vocab_size()) + " ids";
    TrainValSplit split = split_train_val(ids, kValidationFraction);
    return {std::move(tokenizer), std::move(split.train), std::move(split.val), description};
  }
  std::string text;
  try {
    text = read_corpus(data);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--data ") + data + ": " + e.what());
  }
  std::shared_ptr<const TextTokenizer> tokenizer = stored;
  if (!tokenizer) {
    try {
      tokenizer = make(text);
    } catch (const UsageError&) {
      throw;
    } catch (const std::invalid_argument& e) {
      throw UsageError("--data " + data + ": " + e.what());
    }
  }
  std::vector<int32_t> ids;
  try {
    ids = tokenizer->encode(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--data " + data + ": " + e.what() +
                     (tokenizer->kind() == kCharTokenizer
                          ? " (the checkpoint's); a run continues only on text of its own "
                            "characters"
                          : " (the checkpoint's tokenizer, " + tokenizer->description() + ")"));
  }
  const bool chars = tokenizer->kind() == kCharTokenizer;
  const std::string description =
      data + ": " + grouped(int64_t(text.size())) + " bytes, " + grouped(int64_t(ids.size())) +
      (chars ? " characters, " + std::to_string(tokenizer->vocab_size()) + " distinct"
             : " tokens (" + tokenizer->description() + ")");
  TrainValSplit split = split_train_val(ids, kValidationFraction);
  return {std::move(tokenizer), std::move(split.train), std::move(split.val), description};
}

void require_one_block(const TrainingData& data, int block_size) {
  const size_t need = static_cast<size_t>(block_size) + 1;
  for (const auto& [name, ids] : {std::pair{"training", &data.train},
                                  std::pair{"validation", &data.val}}) {
    if (ids->size() < need) {
      throw UsageError("the " + std::string(name) + " part of the data has " +
                       std::to_string(ids->size()) + " tokens, fewer than one window of " +
                       "block_size + 1 = " + std::to_string(need) +
                       " (the validation part is the last " +
                       std::to_string(int(kValidationFraction * 100)) +
                       "% of the text); use a longer text or a smaller --block_size");
    }
  }
}

double unigram_loss(const std::vector<int32_t>& train, const std::vector<int32_t>& val,
                    int vocab_size) {
  std::vector<double> counts(vocab_size, 1.0);  // add-one smoothing
  for (int32_t id : train) counts[id] += 1.0;
  const double total = double(train.size()) + vocab_size;
  double loss = 0.0;
  for (int32_t id : val) loss -= std::log(counts[id] / total);
  return val.empty() ? 0.0 : loss / double(val.size());
}

}  // namespace gpt
