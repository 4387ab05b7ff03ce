// chapters/16_gpt2/gpt2_presets.h — GPT-2's four sizes, as configurations of our GPT.
//
// GPT-2 is not a new model: it is chapter 07's GPT with one set of choices —
// pre-LN blocks, learned positions, the tanh GELU, the output layer tied to
// the token embedding, LayerNorm's eps = 1e-5, 50,257 BPE tokens (chapter 15)
// and a 1,024-token context — at four sizes:
//
//   name          L    H     C     parameters
//   gpt2         12   12   768     124M
//   gpt2-medium  24   16  1024     355M
//   gpt2-large   36   20  1280     774M
//   gpt2-xl      48   25  1600    1558M
//
// Every size has F = 4C and heads of 64 numbers (C / H = 64).
#pragma once

#include <string>
#include <vector>

#include "chapters/07_gpt/config.h"

namespace gpt {

struct Gpt2Preset {
  std::string name;   // "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"
  std::string size;   // "124M", ...: how the published models are known
  GPTConfig config;
};

// The four sizes, smallest first.
const std::vector<Gpt2Preset>& gpt2_presets();

// The preset called `name`; throws std::invalid_argument listing the names.
const Gpt2Preset& gpt2_preset(const std::string& name);

// GPT-2's choices (everything but the sizes) for any L, H, C: F = 4C,
// V = 50257, P = 1024 unless given. The presets are this at their sizes.
GPTConfig gpt2_shaped(int num_layers, int heads, int embed_size, int vocab_size = 50257,
                      int max_length = 1024);

// The preset whose (L, C) these are, or nullptr: a file of GPT-2's weights
// stores no head count, and the four sizes tell it apart by these two.
const Gpt2Preset* gpt2_preset_for(int num_layers, int embed_size);

}  // namespace gpt
