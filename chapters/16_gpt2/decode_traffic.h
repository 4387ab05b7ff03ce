// chapters/16_gpt2/decode_traffic.h — chapter 16: the bytes one generated token reads.
//
// A step of KV-cache generation (chapter 10) pushes one token through the
// model. Its arithmetic is 2 FLOPs per weight, a few hundred million FLOPs at
// GPT-2 124M; its memory traffic is every weight once, and at 124M that is
// about 495 MB, while a core's caches hold a few MB: no weight is still
// cached from the step before. What a step must read from memory, counted
// here, is then the floor of its time at the machine's read bandwidth
// (memory_bandwidth.h). Counted, in fp32 (4 bytes a number):
//   weights   every parameter tensor once: per block the two LayerNorms and
//             the four linear layers with their biases, the final LayerNorm,
//             the output layer (the tied wte, read in full as the output
//             layer; the token's own embedding row, read once more at the
//             start, is not counted again), and ONE row of wpe, the new
//             token's position (the other 1,023 rows are not read).
//   KV cache  per block, attention at position t reads the keys and the
//             values of positions 0..t: 2 · (t + 1) · C numbers.
// Not counted: the activations (a few (C) and (F) vectors, which stay in the
// caches), the new k, v rows written to the cache, the logits written (V).
#pragma once

#include <cstdint>

#include "chapters/07_gpt/config.h"

namespace gpt {

// Bytes of weights one step reads (the same for every position).
double weight_bytes_per_step(const GPTConfig& config);

// Bytes of keys and values attention reads for a token at `position` (0-based).
double kv_cache_bytes_at(const GPTConfig& config, int position);

// Bytes read per generated token, averaged over a generate_with_kv_cache run:
// a prefill of the prompt (all its tokens in one step: the weights read once,
// token i's attention over rows 0..i), then new_tokens - 1 appends at
// positions prompt_tokens .. prompt_tokens + new_tokens - 2 (the last token
// is sampled, never pushed through). Assumes the run fits in max_length.
double bytes_per_generated_token(const GPTConfig& config, int prompt_tokens, int new_tokens);

}  // namespace gpt
