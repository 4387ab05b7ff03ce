// chapters/07_gpt/gpt_forward.cc — composing the chapters' ops into a GPT.
// Exercise: gpt_forward_exercise.cc is this file with gpt_forward's body removed.
#include "chapters/07_gpt/gpt_forward.h"

#include <stdexcept>
#include <string>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/04_multihead_attention/linear.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/dropout.h"

namespace gpt {

// lesson: gpt_forward
void gpt_forward(GPTActivations& acts, const int32_t* tokens, const GPTModel& model, int B, int T) {
  const GPTConfig& c = model.config;
  if (T > c.max_length) {
    throw std::invalid_argument("sequence of " + std::to_string(T) + " tokens is longer than " +
                                "max_length (" + std::to_string(c.max_length) + ")");
  }
  acts.carve(B, T);
  const GPTWeights w = model.weights();
  const int C = c.embed_size, V = c.vocab_size;

  embedding_forward(acts.embeddings, tokens, w.wte, w.positions, B, T, C, V);  // (B, T, C)
  if (acts.dropout > 0) {  // training only (chapter 09)
    dropout_forward(acts.embeddings, acts.embeddings, acts.embedding_dropout, int64_t(B) * T * C);
  }
  const float* x = acts.embeddings;
  for (int l = 0; l < c.num_layers; ++l) {
    block_forward(acts.block_out[l], acts.blocks[l], x, w.blocks[l], acts.block_config());
    x = acts.block_out[l];                                                      // (B, T, C)
  }
  layernorm_forward(acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, x, w.ln_f_weight, w.ln_f_bias,
                    B * T, C, c.layernorm_eps);                                 // (B, T, C)
  linear_forward(acts.logits, acts.ln_f, w.lm_head, nullptr, B * T, C, V);     // (B, T, V)
}
// end lesson

}  // namespace gpt
