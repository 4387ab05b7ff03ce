// chapters/09_training/checkpoint.cc — a training state in one safetensors file.
#include "chapters/09_training/checkpoint.h"

#include <stdexcept>

namespace gpt {
namespace {

const std::string kMoment1 = "optimizer.m.";
const std::string kMoment2 = "optimizer.v.";

}  // namespace

void save_checkpoint(const TrainingState& state, const std::string& path) {
  Safetensors file = state.model.to_safetensors();
  for (const ParameterSlot& slot : state.m.layout().slots()) {
    file.put_floats(kMoment1 + slot.name, slot.shape, state.m.data() + slot.offset);
    file.put_floats(kMoment2 + slot.name, slot.shape, state.v.data() + slot.offset);
  }
  for (const auto& [key, value] : state.settings) file.metadata["train." + key] = value;
  file.metadata["format"] = kCheckpointFormat;
  file.metadata["step"] = std::to_string(state.step);
  file.metadata["rng_state"] = std::to_string(state.rng_state);
  file.metadata["vocabulary"] = state.vocabulary;
  file.write(path);
}

TrainingState load_checkpoint(const std::string& path) {
  const Safetensors file = Safetensors::read(path);
  auto meta = [&](const std::string& key) {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) {
      throw SafetensorsError("checkpoint '" + path + "' has no '" + key + "' in its metadata");
    }
    return it->second;
  };
  if (meta("format") != kCheckpointFormat) {
    throw SafetensorsError("'" + path + "' is not a checkpoint of this course (format '" +
                           meta("format") + "')");
  }
  GPTConfig config;
  try {
    config = GPTConfig::from_metadata(file.metadata);
  } catch (const std::invalid_argument& e) {
    throw SafetensorsError("checkpoint '" + path + "': " + e.what());
  }
  TrainingState state(config);
  try {
    state.model.params.load_from(file);
    for (const ParameterSlot& slot : state.m.layout().slots()) {
      for (auto [prefix, buffer] : {std::pair{kMoment1, &state.m}, std::pair{kMoment2, &state.v}}) {
        const std::string name = prefix + slot.name;
        if (!file.has(name) || file.shape(name) != slot.shape) {
          throw SafetensorsError("missing or mis-shaped optimizer tensor '" + name + "'");
        }
        const std::vector<float> values = file.floats(name);
        std::copy(values.begin(), values.end(), buffer->data() + slot.offset);
      }
    }
    state.step = std::stoi(meta("step"));
    state.rng_state = std::stoull(meta("rng_state"));
  } catch (const SafetensorsError& e) {
    throw SafetensorsError("checkpoint '" + path + "': " + e.what());
  } catch (const std::logic_error& e) {  // stoi / stoull on garbage
    throw SafetensorsError("checkpoint '" + path + "': bad step or rng_state in the metadata");
  }
  state.vocabulary = meta("vocabulary");
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind("train.", 0) == 0) state.settings[key.substr(6)] = value;
  }
  return state;
}

}  // namespace gpt
