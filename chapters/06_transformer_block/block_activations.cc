// chapters/06_transformer_block/block_activations.cc — chapter 06: one buffer
// for every intermediate tensor of a block.
//
// A block keeps everything it computes: the tests compare each piece with
// PyTorch, and the backward pass (chapter 08) needs them. Rather than fifteen
// allocations, BlockActivations::size counts the floats and carve hands out
// consecutive slices of one buffer, in the order of the struct's fields. The
// attention part is carved by chapter 04's AttentionActivations::carve.
#include <stdexcept>
#include <string>

#include "chapters/06_transformer_block/block.h"

namespace gpt {

void check_block_config(const BlockConfig& config) {
  const BlockConfig& c = config;
  if (c.B < 0 || c.T < 1 || c.C < 1 || c.H < 1 || c.F < 1 || c.C % c.H != 0) {
    throw std::invalid_argument(
        "a block needs B >= 0, T, C, H, F >= 1 and heads dividing embed_size, got B=" +
        std::to_string(c.B) + ", T=" + std::to_string(c.T) + ", C=" + std::to_string(c.C) +
        ", H=" + std::to_string(c.H) + ", F=" + std::to_string(c.F));
  }
}

size_t BlockActivations::size(const BlockConfig& config, const BlockLayout& layout) {
  check_block_config(config);
  const size_t N = size_t(config.B) * config.T, C = config.C;
  return N * C + 2 * N                                                   // ln1, mean, rstd
         + AttentionActivations::size(config.B, config.T, config.C, config.H,
                                      layout.attention)         // attn
         + N * C + N * C                                                 // attn_out, residual1
         + N * C + 2 * N                                                 // ln2, mean, rstd
         + 2 * floats_for(layout.hidden, N, config.F)                    // mlp_hidden, activated
         + N * C + N * C                                                 // mlp_out, residual2
         + N * C + N * C;                                                // dropout masks
}

BlockActivations BlockActivations::carve(float* buffer, const BlockConfig& config,
                                         const BlockLayout& layout) {
  check_block_config(config);
  const size_t N = size_t(config.B) * config.T, C = config.C;
  const size_t hidden = floats_for(layout.hidden, N, config.F);
  float* p = buffer;
  const auto take = [&p](size_t n) { float* start = p; p += n; return start; };
  BlockActivations a;
  a.ln1 = take(N * C);
  a.ln1_mean = take(N);
  a.ln1_rstd = take(N);
  a.attn = AttentionActivations::carve(p, config.B, config.T, config.C, config.H,
                                       layout.attention);
  take(AttentionActivations::size(config.B, config.T, config.C, config.H, layout.attention));
  a.attn_out = take(N * C);
  a.residual1 = take(N * C);
  a.ln2 = take(N * C);
  a.ln2_mean = take(N);
  a.ln2_rstd = take(N);
  a.mlp_hidden = take(hidden);
  a.mlp_activated = take(hidden);
  a.mlp_out = take(N * C);
  a.residual2 = take(N * C);
  a.attn_dropout = take(N * C);
  a.mlp_dropout = take(N * C);
  return a;
}

}  // namespace gpt
