// chapters/06_transformer_block/block_exercise.cc — EXERCISE: the transformer block.
//
//   bazel test --define=exercise=06_transformer_block //chapters/06_transformer_block:transformer_block_test
// The solution is block.cc.
#include "chapters/06_transformer_block/block.h"

#include <algorithm>
#include <cstdint>

#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/residual.h"

namespace gpt {

void block_forward(float* out, BlockActivations& acts, const float* inp, const BlockParams& params,
                   const BlockConfig& config) {
  // TODO(you): call check_block_config(config). Then, with N = B*T, fill every
  // field of `acts` in this order, using chapter 04's multihead_attention_forward,
  // chapter 05's layernorm_forward and feedforward_forward, and residual_forward:
  //   Pre:  ln1 = ln1(x); attn_out = attn(ln1); residual1 = x + attn_out;
  //         ln2 = ln2(residual1); mlp_out = mlp(ln2); residual2 = residual1 + mlp_out;
  //         out = residual2.
  //   Post: attn_out = attn(x); residual1 = x + attn_out; ln1 = ln1(residual1);
  //         mlp_out = mlp(ln1); residual2 = ln1 + mlp_out; ln2 = ln2(residual2);
  //         out = ln2.
  // In training (config.dropout > 0), multiply attn_out by acts.attn_dropout and
  // mlp_out by acts.mlp_dropout (dropout_forward, dropout.h) before each residual add.
  std::fill(out, out + int64_t(config.B) * config.T * config.C, 0.0f);
  (void)acts, (void)inp, (void)params;
}

}  // namespace gpt
