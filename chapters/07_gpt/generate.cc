// chapters/07_gpt/generate.cc — the generation loop.
#include "chapters/07_gpt/generate.h"

#include <algorithm>
#include <stdexcept>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"

namespace gpt {

// lesson: generate
std::vector<int32_t> generate(const GPTModel& model, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token) {
  if (prompt.empty()) throw std::invalid_argument("generation needs a prompt of at least one token");
  if (max_new_tokens < 0) throw std::invalid_argument("max_new_tokens must be >= 0");
  options.validate();
  const int P = model.config.max_length, V = model.config.vocab_size;
  GPTActivations acts(model.config, 1, P);
  std::vector<int32_t> tokens = prompt;
  for (int step = 0; step < max_new_tokens; ++step) {
    const int T = std::min<int>(static_cast<int>(tokens.size()), P);  // crop to max_length
    gpt_forward(acts, tokens.data() + tokens.size() - T, model, 1, T);
    const float* last = acts.logits + size_t(T - 1) * V;             // (V): after the last token
    const int32_t next = sample_next(last, V, options, rng);
    tokens.push_back(next);
    if (on_token) on_token(next);
  }
  return tokens;
}
// end lesson

}  // namespace gpt
