// chapters/09_training/adamw.cc — AdamW over the whole parameter buffer, slot by slot.
// (The update itself, the part you write, is in adamw_update.cc.)
#include "chapters/09_training/adamw.h"

namespace gpt {

bool decays(const ParameterSlot& slot) { return slot.shape.size() >= 2; }

void adamw_step(ParameterBuffer& params, const ParameterBuffer& grads, ParameterBuffer& m,
                ParameterBuffer& v, int t, float lr, const AdamWConfig& config) {
  for (const ParameterSlot& slot : params.layout().slots()) {
    const size_t o = slot.offset;
    adamw_update(params.data() + o, grads.data() + o, m.data() + o, v.data() + o, slot.numel, t,
                 lr, config, decays(slot) ? config.weight_decay : 0.0f);
  }
}

}  // namespace gpt
