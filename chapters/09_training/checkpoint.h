// chapters/09_training/checkpoint.h — everything needed to continue a run.
//
// A checkpoint is one safetensors file:
//   tensors   the parameters under their model names (wte.weight, ...),
//             AdamW's moments as optimizer.m.<name> and optimizer.v.<name>;
//   metadata  the model configuration (chapter 07's keys), the step, the
//             random generator's state, the tokenizer (its kind under
//             "tokenizer", what rebuilds it under "vocabulary"), the
//             training settings, and a format tag.
// A checkpoint without "tokenizer" is a character model's: "vocabulary"
// holds its characters.
// Parameters keep their model names, so the PyTorch reference loads a
// checkpoint as it is (tests/load_checkpoint.py). Writing is atomic (a
// temporary file, then a rename): a crash mid-write leaves the last good
// checkpoint in place.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "chapters/07_gpt/model.h"

namespace gpt {

inline constexpr const char* kCheckpointFormat = "gpt-from-scratch checkpoint 1";

struct TrainingState {
  GPTModel model;
  ParameterBuffer m, v;          // AdamW moments, the parameters' layout
  int step = 0;                  // optimizer steps taken
  uint64_t rng_state = 0;        // the batch/dropout generator, to resume exactly
  // The tokenizer (text_tokenizer.h): its kind ("char", "gpt2", "bpe") and its
  // record. For char the record is its characters, UTF-8, in id order, and
  // is checked here; other kinds are checked by the program that restores them.
  std::string tokenizer = "char";
  std::string vocabulary;
  std::map<std::string, std::string> settings;  // training flags, for the record

  explicit TrainingState(const GPTConfig& config) : model(config), m(config), v(config) {}
};

// Throws SafetensorsError, leaving any file at `path` unchanged, if a
// parameter or moment is NaN or infinite (naming it): a checkpoint never holds
// what load_checkpoint would refuse.
void save_checkpoint(const TrainingState& state, const std::string& path);

// Throws SafetensorsError with a message naming the file and what is wrong
// with it (a bad configuration included).
TrainingState load_checkpoint(const std::string& path);

// The same for a file already read; `path` names it in messages.
TrainingState checkpoint_from_safetensors(const Safetensors& file, const std::string& path);

}  // namespace gpt
