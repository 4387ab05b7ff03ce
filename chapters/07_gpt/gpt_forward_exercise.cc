// chapters/07_gpt/gpt_forward_exercise.cc — EXERCISE: compose the whole model.
//
//   bazel test --define=exercise=07_gpt //chapters/07_gpt:gpt_test
// The solution is gpt_forward.cc.
#include "chapters/07_gpt/gpt_forward.h"

namespace gpt {

void gpt_forward_tokens(ModelOps& ops, ActivationViews& acts, const GPTWeights& weights,
                        const GPTConfig& config, int B, int T, int first_position, Mode mode,
                        LogitRows rows) {
  // TODO(you): every step is a call on `ops` (model_ops.h, block_ops.h):
  //   the embeddings of acts.tokens, reading the position table from row
  //   first_position on (chapter 02); in Mode::Train, the embeddings' dropout
  //   mask; chapter 06's block_forward for each layer, into acts.block_out;
  //   then ln_f and the lm_head (no bias) into acts.ln_f and acts.logits.
  //   Start with rows == LogitRows::All; LogitRows::Last is for chapter 10.
  (void)ops, (void)acts, (void)weights, (void)config, (void)B, (void)T, (void)first_position,
      (void)mode, (void)rows;
}

}  // namespace gpt
