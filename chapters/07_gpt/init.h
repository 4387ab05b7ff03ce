// chapters/07_gpt/init.h — GPT-2's initialisation.
//
// Weights start as small random numbers, N(0, 0.02). Two projections in each
// block write into the residual stream (attn.proj and mlp.proj); with L blocks
// the stream receives 2L such additions, so their weights start smaller,
// N(0, 0.02 / sqrt(2L)), keeping the stream's variance from growing with
// depth. Biases start at 0, LayerNorm scales at 1.
#pragma once

#include "chapters/07_gpt/model.h"
#include "common/random.h"

namespace gpt {

void init_gpt2(GPTModel& model, Rng& rng);

}  // namespace gpt
