// chapters/07_gpt/config.h — the GPT's hyperparameters, checked.
//
// The seven numbers of the course's GPT (vocab_size, embed_size, max_length,
// num_layers, heads, ff_dim, dropout) plus the architectural choices the
// chapters compare. The same keys, written as strings, are the metadata of a
// reference case or a checkpoint, and mirror tests/reference/config.py.
#pragma once

#include <map>
#include <string>

#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/06_transformer_block/block.h"

namespace gpt {

enum class Positions { Learned, Sinusoidal };

struct GPTConfig {
  int vocab_size = 65;   // V
  int embed_size = 256;  // C
  int max_length = 64;   // P: the longest context the model accepts
  int num_layers = 6;    // L
  int heads = 8;         // H
  int ff_dim = 1024;     // F
  float dropout = 0.0f;  // training only (chapter 09); the forward pass ignores it
  Positions positions = Positions::Learned;
  NormPlacement norm = NormPlacement::Pre;
  GeluForm gelu = GeluForm::Erf;
  bool tie_weights = false;  // lm_head shares wte
  float layernorm_eps = 1e-5f;

  int head_size() const { return embed_size / heads; }

  // Throws std::invalid_argument naming the first bad value, e.g.
  // "heads (5) must divide embed_size (32)".
  void validate() const;

  std::map<std::string, std::string> to_metadata() const;
  // Reads the keys written by to_metadata() (or by tests/reference/config.py).
  static GPTConfig from_metadata(const std::map<std::string, std::string>& metadata);
};

}  // namespace gpt
