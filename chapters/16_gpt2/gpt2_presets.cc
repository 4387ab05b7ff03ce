// chapters/16_gpt2/gpt2_presets.cc — GPT-2's four sizes.
#include "chapters/16_gpt2/gpt2_presets.h"

#include <stdexcept>

namespace gpt {

// lesson: gpt2_shaped
GPTConfig gpt2_shaped(int num_layers, int heads, int embed_size, int vocab_size, int max_length) {
  GPTConfig c;
  c.vocab_size = vocab_size;
  c.embed_size = embed_size;
  c.max_length = max_length;
  c.num_layers = num_layers;
  c.heads = heads;
  c.ff_dim = 4 * embed_size;
  c.dropout = 0.0f;
  c.positions = Positions::Learned;
  c.norm = NormPlacement::Pre;
  c.gelu = GeluForm::Tanh;
  c.tie_weights = true;
  c.layernorm_eps = 1e-5f;
  return c;
}
// end lesson

const std::vector<Gpt2Preset>& gpt2_presets() {
  static const std::vector<Gpt2Preset> presets = {
      {"gpt2", "124M", gpt2_shaped(12, 12, 768)},
      {"gpt2-medium", "355M", gpt2_shaped(24, 16, 1024)},
      {"gpt2-large", "774M", gpt2_shaped(36, 20, 1280)},
      {"gpt2-xl", "1558M", gpt2_shaped(48, 25, 1600)},
  };
  return presets;
}

const Gpt2Preset& gpt2_preset(const std::string& name) {
  std::string names;
  for (const Gpt2Preset& p : gpt2_presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw std::invalid_argument("no GPT-2 preset named '" + name + "' (the presets are " + names +
                              ")");
}

const Gpt2Preset* gpt2_preset_for(int num_layers, int embed_size) {
  for (const Gpt2Preset& p : gpt2_presets()) {
    if (p.config.num_layers == num_layers && p.config.embed_size == embed_size) return &p;
  }
  return nullptr;
}

}  // namespace gpt
