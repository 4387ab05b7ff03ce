// chapters/07_gpt/generate.h — writing text one token at a time.
//
// Autoregressive generation: run the model on the context, sample the token
// after the last position, append it, repeat. The model accepts at most
// max_length tokens, so the context is cropped to its last max_length tokens.
// Each step recomputes the whole context; chapter 10's KV cache (kv_generate.h) avoids that.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "chapters/07_gpt/model.h"
#include "chapters/07_gpt/sampling.h"
#include "common/random.h"

namespace gpt {

// Returns the prompt followed by max_new_tokens generated ids. The prompt must
// not be empty. `on_token`, if given, sees each new id as it is chosen.
std::vector<int32_t> generate(const GPTModel& model, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token = nullptr);

}  // namespace gpt
