// chapters/06_transformer_block/block_exercise.cc — EXERCISE: the transformer block.
//
//   bazel test --define=exercise=06_transformer_block //chapters/06_transformer_block:transformer_block_test
// The solution is block.cc.
#include "chapters/06_transformer_block/block.h"

#include <cstdint>

namespace gpt {

void block_forward(BlockOps& ops, float* out, BlockActivations& acts, const float* inp,
                   const BlockParams& params, const BlockConfig& config, Mode mode, int layer) {
  // TODO(you): call check_block_config(config). Then, with N = B*T, fill the
  // fields of `acts` in the order of block.h's diagram for config.norm, one
  // step per call on `ops` (block_ops.h): ops.layernorm, ops.attention (pass
  // `layer` on), ops.feedforward, ops.dropout_residual, and ops.copy for the
  // block's output. In Mode::Train each branch goes through its dropout mask
  // (acts.attn_dropout, acts.mlp_dropout) before it joins the stream; in
  // Mode::Eval pass nullptr as the mask.
  ops.copy(out, inp, int64_t(config.B) * config.T * config.C);  // the identity: wrong
  (void)acts, (void)params, (void)mode, (void)layer;
}

}  // namespace gpt
