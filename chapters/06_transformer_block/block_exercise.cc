// chapters/06_transformer_block/block_exercise.cc — EXERCISE: the transformer block.
//
//   bazel test --define=exercise=06_transformer_block/block //chapters/06_transformer_block/...
// The lesson (README.md, sections 2-4 and 6) teaches the recipes; HINTS.md has graded hints.
#include "chapters/06_transformer_block/block.h"

#include <cstdint>

namespace gpt {

void block_forward(BlockOps& ops, float* out, BlockActivations& acts, const float* inp,
                   const BlockParams& params, const BlockConfig& config, Mode mode, int layer) {
  // TODO(you): call check_block_config(config). Then run the block's recipe for
  // config.norm (pre-LN or post-LN), one step per call on `ops` (block_ops.h),
  // filling every field of `acts` (block.h) and writing the block's output,
  // (B, T, C), to `out`. Pass `layer` on to ops.attention. In Mode::Train each
  // branch goes through its dropout mask (acts.attn_dropout, acts.mlp_dropout)
  // before it joins the stream; in Mode::Eval no mask is applied.
  // The order of the steps: README.md sections 2-3, HINTS.md "block".
  ops.copy(out, inp, int64_t(config.B) * config.T * config.C);  // the identity: wrong
  (void)acts, (void)params, (void)mode, (void)layer;
}

}  // namespace gpt
