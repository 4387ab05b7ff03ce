// chapters/07_gpt/model.h — a GPT: its configuration and its parameters.
//
// GPTModel owns what defines a trained model: the configuration and the one
// parameter buffer (plus the fixed sinusoidal table when the model uses one).
// A safetensors file holds exactly that: the parameters under their names and
// the configuration as metadata.
#pragma once

#include <string>
#include <vector>

#include "chapters/07_gpt/config.h"
#include "chapters/07_gpt/parameters.h"
#include "common/safetensors.h"

namespace gpt {

struct GPTModel {
  GPTConfig config;
  ParameterBuffer params;
  std::vector<float> sinusoidal;  // (P, C) when config.positions is Sinusoidal, else empty

  explicit GPTModel(const GPTConfig& config);  // parameters all zero: initialise or load

  GPTWeights weights() const { return view_weights(params, sinusoidal); }
  size_t num_parameters() const { return params.size(); }

  // The configuration from the file's metadata, then every parameter.
  static GPTModel from_safetensors(const Safetensors& file);
  Safetensors to_safetensors() const;
};

}  // namespace gpt
