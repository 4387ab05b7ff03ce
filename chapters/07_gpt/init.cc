// chapters/07_gpt/init.cc — GPT-2's initialisation, one parameter at a time.
#include "chapters/07_gpt/init.h"

#include <cmath>

namespace gpt {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// lesson: init
void init_gpt2(GPTModel& model, Rng& rng) {
  const float std = 0.02f;
  const float residual_std = std / std::sqrt(2.0f * model.config.num_layers);
  for (const ParameterSlot& slot : model.params.layout().slots()) {
    float* p = model.params.data() + slot.offset;
    const bool layernorm = slot.name.find(".ln") != std::string::npos ||
                           slot.name.rfind("ln_f.", 0) == 0;
    for (size_t i = 0; i < slot.numel; ++i) {
      if (ends_with(slot.name, "bias")) {
        p[i] = 0.0f;
      } else if (layernorm) {
        p[i] = 1.0f;
      } else if (ends_with(slot.name, "attn.proj.weight") || ends_with(slot.name, "mlp.proj.weight")) {
        p[i] = rng.normal(0.0f, residual_std);
      } else {
        p[i] = rng.normal(0.0f, std);
      }
    }
  }
}
// end lesson

}  // namespace gpt
