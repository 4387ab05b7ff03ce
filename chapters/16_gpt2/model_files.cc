// chapters/16_gpt2/model_files.cc — a model file is a checkpoint or GPT-2's weights.
#include "chapters/16_gpt2/model_files.h"

#include <filesystem>

#include "chapters/09_training/checkpoint.h"
#include "chapters/15_bpe/tokenizers.h"
#include "chapters/16_gpt2/gpt2_presets.h"
#include "chapters/16_gpt2/gpt2_weights.h"

namespace gpt {

TrainingState read_model_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    const std::filesystem::path inside = std::filesystem::path(path) / "model.safetensors";
    if (std::filesystem::is_regular_file(inside, error)) return read_model_file(inside.string());
  }
  return model_from_safetensors(Safetensors::read(path), path);
}

bool is_checkpoint(const Safetensors& file) {
  const auto format = file.metadata.find("format");
  return format != file.metadata.end() && format->second == kCheckpointFormat;
}

TrainingState model_from_safetensors(const Safetensors& file, const std::string& path) {
  if (is_checkpoint(file)) return checkpoint_from_safetensors(file, path);
  GPTModel model = gpt2_from_safetensors(file, path, gpt2_config_beside(path));
  TrainingState state(model.config);
  state.model = std::move(model);
  const Gpt2Tokenizer gpt2;  // GPT-2's weights speak GPT-2's tokens
  state.tokenizer = gpt2.kind();
  state.vocabulary = gpt2.record();
  return state;
}

ModelSources gpt2_model_sources() {
  ModelSources sources;
  for (const Gpt2Preset& preset : gpt2_presets()) {
    sources.presets.emplace_back(preset.name, preset.config);
  }
  sources.read = read_model_file;
  return sources;
}

}  // namespace gpt
