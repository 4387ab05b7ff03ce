// chapters/09_training/checkpoint.cc — a training state in one safetensors file.
#include "chapters/09_training/checkpoint.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"

namespace gpt {
namespace {

const std::string kMoment1 = "optimizer.m.";
const std::string kMoment2 = "optimizer.v.";
// Tensors per block: two LayerNorms, two linear layers in attention and two in
// the MLP, each a weight and a bias; three copies (parameters, m, v).
constexpr int64_t kTensorsPerBlock = 3 * 12;
// The sinusoidal table is computed, not stored, so the file does not bound it.
constexpr double kMaxSinusoidalFloats = double(1 << 28);

std::string describe_value(float x) {
  if (std::isnan(x)) return "NaN";
  return x > 0 ? "+Inf" : "-Inf";
}

// The index of the first element that is NaN or infinite (or, with
// `non_negative`, below zero); -1 if there is none.
int64_t first_bad(const float* x, size_t n, bool non_negative) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || (non_negative && x[i] < 0.0f)) return static_cast<int64_t>(i);
  }
  return -1;
}

// "tensor 'wte.weight' holds NaN at element 17", or "" when all is well.
std::string bad_values(const std::string& name, const float* x, size_t n, bool non_negative) {
  const int64_t i = first_bad(x, n, non_negative);
  if (i < 0) return "";
  const float value = x[i];
  std::string what;
  if (std::isfinite(value)) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    what = std::string("the negative value ") + text + " (a second moment is a mean of squares)";
  } else {
    what = describe_value(value);
  }
  return "tensor '" + name + "' holds " + what + " at element " + std::to_string(i);
}

// Strict decimal integers: all digits, nothing else (std::stoi would take "5x" as 5).
bool parse_unsigned(const std::string& text, uint64_t max, uint64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

}  // namespace

void save_checkpoint(const TrainingState& state, const std::string& path) {
  for (const ParameterSlot& slot : state.m.layout().slots()) {
    for (auto [prefix, buffer] : {std::pair{std::string(), &state.model.params},
                                  std::pair{kMoment1, &state.m}, std::pair{kMoment2, &state.v}}) {
      const std::string problem = bad_values(prefix + slot.name, buffer->data() + slot.offset,
                                             slot.numel, prefix == kMoment2);
      if (!problem.empty()) {
        throw SafetensorsError("refusing to save a checkpoint to '" + path + "' at step " +
                               std::to_string(state.step) + ": " + problem +
                               "; the file there (if any) is unchanged");
      }
    }
  }
  Safetensors file = state.model.to_safetensors();
  for (const ParameterSlot& slot : state.m.layout().slots()) {
    file.put_floats(kMoment1 + slot.name, slot.shape, state.m.data() + slot.offset);
    file.put_floats(kMoment2 + slot.name, slot.shape, state.v.data() + slot.offset);
  }
  for (const auto& [key, value] : state.settings) file.metadata["train." + key] = value;
  file.metadata["format"] = kCheckpointFormat;
  file.metadata["step"] = std::to_string(state.step);
  file.metadata["rng_state"] = std::to_string(state.rng_state);
  file.metadata["tokenizer"] = state.tokenizer;
  file.metadata["vocabulary"] = state.vocabulary;
  file.write(path);
}

TrainingState load_checkpoint(const std::string& path) {
  return checkpoint_from_safetensors(Safetensors::read(path), path);
}

TrainingState checkpoint_from_safetensors(const Safetensors& file, const std::string& path) {
  auto fail = [&](const std::string& what) -> SafetensorsError {
    return SafetensorsError("checkpoint '" + path + "': " + what);
  };
  auto meta = [&](const std::string& key) {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw fail("no '" + key + "' in its metadata");
    return it->second;
  };
  if (meta("format") != kCheckpointFormat) {
    throw SafetensorsError("'" + path + "' is not a checkpoint of this course (format '" +
                           meta("format") + "', expected '" + kCheckpointFormat + "')");
  }
  GPTConfig config;
  try {
    config = GPTConfig::from_metadata(file.metadata);
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }

  // Everything is checked against the file before anything is allocated: a
  // damaged configuration must not ask for terabytes.
  const std::vector<std::string> names = file.names();
  if (int64_t(config.num_layers) * kTensorsPerBlock > int64_t(names.size())) {
    throw fail("its configuration has " + std::to_string(config.num_layers) +
               " layers but the file holds only " + std::to_string(names.size()) + " tensors");
  }
  if (config.positions == Positions::Sinusoidal &&
      double(config.max_length) * config.embed_size > kMaxSinusoidalFloats) {
    throw fail("max_length x embed_size is too large for a sinusoidal position table");
  }
  const ParameterLayout layout(config);
  std::set<std::string> expected;
  for (const ParameterSlot& slot : layout.slots()) {
    for (const std::string& prefix : {std::string(), kMoment1, kMoment2}) {
      const std::string name = prefix + slot.name;
      expected.insert(name);
      if (!file.has(name)) throw fail("missing tensor '" + name + "'");
      const StoredTensor& t = file.get(name);
      if (t.dtype != DType::F32) {
        throw fail("tensor '" + name + "' is " + dtype_name(t.dtype) + ", expected F32");
      }
      if (t.shape != slot.shape) {
        std::string got, want;
        for (int64_t d : t.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
        for (int64_t d : slot.shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
        throw fail("tensor '" + name + "' has shape (" + got + ") but the configuration needs (" +
                   want + ")");
      }
    }
  }
  for (const std::string& name : names) {
    if (!expected.count(name)) {
      throw fail("holds a tensor '" + name + "' that a model of its configuration does not have");
    }
  }

  uint64_t step = 0, rng_state = 0;
  if (!parse_unsigned(meta("step"), INT32_MAX, step)) {
    throw fail("the step '" + meta("step") + "' is not a whole number in [0, 2^31)");
  }
  if (!parse_unsigned(meta("rng_state"), UINT64_MAX, rng_state)) {
    throw fail("the random generator's state '" + meta("rng_state") + "' is not a 64-bit number");
  }
  // No "tokenizer": a checkpoint from before chapter 15, a character model's.
  const auto kind = file.metadata.find("tokenizer");
  const std::string tokenizer = kind == file.metadata.end() ? "char" : kind->second;
  if (tokenizer.empty()) throw fail("its 'tokenizer' is empty");
  const std::string vocabulary = meta("vocabulary");
  if (tokenizer == "char") {
    try {
      const CharTokenizer chars(decode_utf8(vocabulary));
      if (chars.vocab_size() != config.vocab_size) {
        throw std::invalid_argument("it has " + std::to_string(chars.vocab_size()) +
                                    " characters but the model's vocab_size is " +
                                    std::to_string(config.vocab_size));
      }
    } catch (const std::invalid_argument& e) {
      throw fail(std::string("bad vocabulary: ") + e.what());
    }
  }

  TrainingState state(config);
  for (const ParameterSlot& slot : layout.slots()) {
    for (auto [prefix, buffer] : {std::pair{std::string(), &state.model.params},
                                  std::pair{kMoment1, &state.m}, std::pair{kMoment2, &state.v}}) {
      const std::string name = prefix + slot.name;
      const std::vector<float> values = file.floats(name);
      const std::string problem = bad_values(name, values.data(), values.size(), prefix == kMoment2);
      if (!problem.empty()) throw fail(problem + "; it cannot be trained or sampled from");
      std::copy(values.begin(), values.end(), buffer->data() + slot.offset);
    }
  }
  state.step = static_cast<int>(step);
  state.rng_state = rng_state;
  state.tokenizer = tokenizer;
  state.vocabulary = vocabulary;
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind("train.", 0) == 0) state.settings[key.substr(6)] = value;
  }
  return state;
}

}  // namespace gpt
