// chapters/06_transformer_block/block_plain.cc — chapter 06's block on chapters 04–06's ops.
#include "chapters/06_transformer_block/block.h"
#include "chapters/06_transformer_block/plain_block_ops.h"

namespace gpt {

void block_forward(float* out, BlockActivations& acts, const float* inp, const BlockParams& params,
                   const BlockConfig& config, Mode mode) {
  PlainBlockOps ops;
  block_forward(ops, out, acts, inp, params, config, mode);
}

}  // namespace gpt
