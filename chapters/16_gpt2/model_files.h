// chapters/16_gpt2/model_files.h — GPT-2's sizes and weights for the train and generate programs.
//
// Chapter 09's programs take a ModelSources (programs.h): the configurations
// `train --model NAME` may name, and how a model file is read for
// `train --init PATH` and `generate --checkpoint PATH`. This chapter offers
//
//   --model gpt2 | gpt2-medium | gpt2-large | gpt2-xl     GPT-2's four shapes
//   --init / --checkpoint  a checkpoint of this course, or GPT-2's published
//                          model.safetensors (gpt2_weights.h)
//
// A GPT-2 file becomes a TrainingState with step 0, AdamW's moments zero,
// and the tokenizer GPT-2's (kind "gpt2", this build's fingerprint).
#pragma once

#include <string>

#include "chapters/09_training/programs.h"

namespace gpt {

// A checkpoint (its format tag in the metadata) or GPT-2's weights; a
// directory stands for the model.safetensors in it. Throws SafetensorsError
// or std::runtime_error saying what is wrong.
TrainingState read_model_file(const std::string& path);
// The same for a file already read (`path` names it, and GPT-2's config.json
// is looked for beside it).
TrainingState model_from_safetensors(const Safetensors& file, const std::string& path);
bool is_checkpoint(const Safetensors& file);

// The four presets and read_model_file.
ModelSources gpt2_model_sources();

}  // namespace gpt
