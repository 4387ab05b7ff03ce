// chapters/16_gpt2/decode_traffic.cc — chapter 16: counting a step's bytes.
#include "chapters/16_gpt2/decode_traffic.h"

#include "chapters/07_gpt/parameters.h"

namespace gpt {

double weight_bytes_per_step(const GPTConfig& c) {
  double floats = 0;
  const ParameterLayout layout(c);  // named: a loop over a temporary's slots() would dangle
  for (const ParameterSlot& slot : layout.slots()) {
    if (slot.name == "wpe.weight") {
      floats += c.embed_size;  // the new token's position only
    } else if (slot.name == "wte.weight" && !c.tie_weights) {
      floats += c.embed_size;  // the token's row; lm_head is a tensor of its own
    } else {
      floats += double(slot.numel);  // tied wte: the whole (V, C) as the output layer
    }
  }
  return 4.0 * floats;
}

double kv_cache_bytes_at(const GPTConfig& c, int position) {
  return 4.0 * c.num_layers * 2.0 * (position + 1) * c.embed_size;
}

double bytes_per_generated_token(const GPTConfig& c, int prompt_tokens, int new_tokens) {
  if (new_tokens < 1) return 0.0;
  double bytes = weight_bytes_per_step(c);  // the prefill: one step for the whole prompt
  for (int i = 0; i < prompt_tokens; ++i) bytes += kv_cache_bytes_at(c, i);
  for (int step = 1; step < new_tokens; ++step) {  // the appends
    bytes += weight_bytes_per_step(c) + kv_cache_bytes_at(c, prompt_tokens + step - 1);
  }
  return bytes / new_tokens;
}

}  // namespace gpt
