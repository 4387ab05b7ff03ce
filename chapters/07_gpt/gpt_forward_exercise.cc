// chapters/07_gpt/gpt_forward_exercise.cc — EXERCISE: compose the whole model.
//
//   bazel test --define=exercise=07_gpt/gpt_forward //chapters/07_gpt/...
// The lesson (README.md, section 2) teaches the composition; HINTS.md has graded hints.
#include "chapters/07_gpt/gpt_forward.h"

namespace gpt {

void gpt_forward_tokens(ModelOps& ops, ActivationViews& acts, const GPTWeights& weights,
                        const GPTConfig& config, int B, int T, int first_position, Mode mode,
                        LogitRows rows) {
  // TODO(you): from acts.tokens (B, T) to acts.logits (B, T, V), one step per
  //   call on `ops` (model_ops.h, block_ops.h), filling the views of `acts`
  //   (activations.h): the embeddings (positions from row first_position on),
  //   the embeddings' dropout mask in Mode::Train, the L blocks (chapter 06's
  //   block_forward), ln_f and the lm_head. Check nothing, throw nothing:
  //   gpt_forward does the checks. Start with rows == LogitRows::All;
  //   LogitRows::Last (the last position's ln_f and logits only) is for
  //   chapter 10, LogitRows::None (ln_f, no lm_head) for chapter 17. The
  //   steps: README.md section 2, HINTS.md "gpt_forward".
  (void)ops, (void)acts, (void)weights, (void)config, (void)B, (void)T, (void)first_position,
      (void)mode, (void)rows;
}

}  // namespace gpt
