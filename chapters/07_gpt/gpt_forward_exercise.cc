// chapters/07_gpt/gpt_forward_exercise.cc — EXERCISE: compose the whole model.
//
//   bazel test --define=exercise=07_gpt //chapters/07_gpt:gpt_test
// The solution is gpt_forward.cc.
#include "chapters/07_gpt/gpt_forward.h"


namespace gpt {

void gpt_forward(GPTActivations& acts, const int32_t* tokens, const GPTModel& model, int B, int T) {
  // TODO(you): acts.carve(B, T); w = model.weights(); then
  //   embedding_forward into acts.embeddings            (chapter 02)
  //   if acts.dropout > 0: dropout_forward(acts.embeddings, acts.embeddings,
  //                        acts.embedding_dropout, B*T*C)  (chapter 06, training only)
  //   block_forward for each layer into acts.block_out  (chapter 06)
  //   layernorm_forward with ln_f into acts.ln_f         (chapter 05)
  //   linear_forward with lm_head, no bias, into acts.logits (chapter 04)
  // Reject T > max_length with std::invalid_argument.
  acts.carve(B, T);
  (void)tokens, (void)model;
}

}  // namespace gpt
