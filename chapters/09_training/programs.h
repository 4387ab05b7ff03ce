// chapters/09_training/programs.h — the train and generate programs, as functions.
//
// Each chapter that adds a device builds its own `train` and `generate`
// binaries from these: a main() is one line naming the devices it offers
// and, from chapter 15 on, the tokenizers (text_tokenizer.h; chapter 09's
// own offer char only), from chapter 16 on the model sources (below). Both
// return the process's exit status: 0 done, 1 failure, 2 bad flags or
// inputs, 128 + signal when SIGINT/SIGTERM stopped training (after saving).
#pragma once

#include "chapters/09_training/device.h"
#include "chapters/09_training/text_tokenizer.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gpt {

// Where a model comes from when it is not a new one of the size flags' shape:
//   train --model NAME         a named configuration (presets);
//   train --init PATH          a model file's weights (read);
//   generate --checkpoint PATH a model file (read).
// Chapter 09's programs have no presets and read their own checkpoints;
// chapter 16's add GPT-2's four sizes and GPT-2's published weights.
struct ModelSources {
  std::vector<std::pair<std::string, GPTConfig>> presets;
  // The model in the file, its tokenizer named as a checkpoint names it.
  // Throws, with a message for the user, for a file it cannot read.
  std::function<TrainingState(const std::string& path)> read = load_checkpoint;
};

// models.read(path), its errors a UsageError beginning with `flag`
// ("--checkpoint: safetensors file 'x': cannot be opened").
TrainingState read_model_flag(const ModelSources& models, const std::string& flag,
                              const std::string& path);

int train_program(int argc, char** argv, const Devices& devices,
                  const Tokenizers& tokenizers = char_tokenizers(),
                  const ModelSources& models = ModelSources{});
int generate_program(int argc, char** argv, const Devices& devices,
                     const Tokenizers& tokenizers = char_tokenizers(),
                     const ModelSources& models = ModelSources{});

}  // namespace gpt
