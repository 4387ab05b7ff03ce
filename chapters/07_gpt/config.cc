// chapters/07_gpt/config.cc — validation and the string form of a configuration.
#include "chapters/07_gpt/config.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace gpt {
namespace {

void require_positive(const char* name, int value) {
  if (value <= 0) {
    throw std::invalid_argument(std::string(name) + " must be positive, got " +
                                std::to_string(value));
  }
}

const std::string& lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) throw std::invalid_argument("configuration lacks '" + key + "'");
  return it->second;
}

int to_int(const std::map<std::string, std::string>& m, const std::string& key) {
  const std::string& text = lookup(m, key);
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw std::invalid_argument("configuration '" + key + "' is not an integer: '" + text + "'");
  }
  return value;
}

float to_float(const std::map<std::string, std::string>& m, const std::string& key) {
  const std::string& text = lookup(m, key);
  size_t used = 0;
  float value = 0;
  try {
    value = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw std::invalid_argument("configuration '" + key + "' is not a number: '" + text + "'");
  }
  return value;
}

template <typename Enum>
Enum to_choice(const std::map<std::string, std::string>& m, const std::string& key,
               const std::map<std::string, Enum>& choices) {
  const std::string& text = lookup(m, key);
  auto it = choices.find(text);
  if (it == choices.end()) {
    std::string allowed;
    for (const auto& [name, value] : choices) allowed += (allowed.empty() ? "" : ", ") + name;
    throw std::invalid_argument("configuration '" + key + "' is '" + text + "'; expected one of " +
                                allowed);
  }
  return it->second;
}

// The names of each choice in the metadata, both ways.
const std::map<std::string, Positions> kPositions = {{"learned", Positions::Learned},
                                                     {"sinusoidal", Positions::Sinusoidal}};
const std::map<std::string, NormPlacement> kNorms = {{"pre", NormPlacement::Pre},
                                                     {"post", NormPlacement::Post}};
const std::map<std::string, GeluForm> kGelus = {{"erf", GeluForm::Erf}, {"tanh", GeluForm::Tanh}};

template <typename Enum>
std::string name_of(const std::map<std::string, Enum>& choices, Enum value) {
  for (const auto& [name, choice] : choices) {
    if (choice == value) return name;
  }
  throw std::logic_error("a configuration choice without a name");
}

// Shortest text that reads back as the same float ("1e-05", "0.1").
std::string float_text(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

void GPTConfig::validate() const {
  require_positive("vocab_size", vocab_size);
  require_positive("embed_size", embed_size);
  require_positive("max_length", max_length);
  require_positive("num_layers", num_layers);
  require_positive("heads", heads);
  require_positive("ff_dim", ff_dim);
  if (embed_size % heads != 0) {
    throw std::invalid_argument("heads (" + std::to_string(heads) + ") must divide embed_size (" +
                                std::to_string(embed_size) + ")");
  }
  if (positions == Positions::Sinusoidal && embed_size % 2 != 0) {
    throw std::invalid_argument("sinusoidal positions need an even embed_size, got " +
                                std::to_string(embed_size));
  }
  if (!(dropout >= 0.0f && dropout < 1.0f)) {
    throw std::invalid_argument("dropout must be in [0, 1), got " + std::to_string(dropout));
  }
  if (!(layernorm_eps > 0.0f && std::isfinite(layernorm_eps))) {
    throw std::invalid_argument("layernorm_eps must be positive and finite");
  }
}

std::map<std::string, std::string> GPTConfig::to_metadata() const {
  return {
      {"vocab_size", std::to_string(vocab_size)},
      {"embed_size", std::to_string(embed_size)},
      {"max_length", std::to_string(max_length)},
      {"num_layers", std::to_string(num_layers)},
      {"heads", std::to_string(heads)},
      {"ff_dim", std::to_string(ff_dim)},
      {"dropout", float_text(dropout)},
      {"positions", name_of(kPositions, positions)},
      {"norm", name_of(kNorms, norm)},
      {"gelu", name_of(kGelus, gelu)},
      {"tie_weights", tie_weights ? "True" : "False"},
      {"layernorm_eps", float_text(layernorm_eps)},
  };
}

GPTConfig GPTConfig::from_metadata(const std::map<std::string, std::string>& m) {
  GPTConfig c;
  c.vocab_size = to_int(m, "vocab_size");
  c.embed_size = to_int(m, "embed_size");
  c.max_length = to_int(m, "max_length");
  c.num_layers = to_int(m, "num_layers");
  c.heads = to_int(m, "heads");
  c.ff_dim = to_int(m, "ff_dim");
  c.dropout = to_float(m, "dropout");
  c.positions = to_choice(m, "positions", kPositions);
  c.norm = to_choice(m, "norm", kNorms);
  c.gelu = to_choice(m, "gelu", kGelus);
  c.tie_weights = to_choice<bool>(m, "tie_weights", {{"True", true}, {"False", false}});
  c.layernorm_eps = to_float(m, "layernorm_eps");
  c.validate();
  return c;
}

}  // namespace gpt
