// chapters/09_training/adamw.cc — AdamW over the whole parameter buffer, slot by slot.
// (The update itself, the part you write, is in adamw_update.cc.)
#include "chapters/09_training/adamw.h"

namespace gpt {

bool decays(const ParameterSlot& slot) { return slot.shape.size() >= 2; }

void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                float* v, int t, float lr, const AdamWConfig& config) {
  for (const ParameterSlot& slot : layout.slots()) {
    const size_t o = slot.offset;
    adamw_update(params + o, grads + o, m + o, v + o, slot.numel, t, lr, config,
                 decays(slot) ? config.weight_decay : 0.0f);
  }
}

void adamw_step(ParameterBuffer& params, const ParameterBuffer& grads, ParameterBuffer& m,
                ParameterBuffer& v, int t, float lr, const AdamWConfig& config) {
  adamw_step(params.layout(), params.data(), grads.data(), m.data(), v.data(), t, lr, config);
}

}  // namespace gpt
