// chapters/07_gpt/gpt_forward.cc — composing the chapters' ops into a GPT.
// Exercise: gpt_forward_exercise.cc is this file with gpt_forward_tokens' body removed.
//
// Written once for every engine: each step is a call on `ops` (model_ops.h).
#include "chapters/07_gpt/gpt_forward.h"

#include <cstdint>

namespace gpt {

// lesson: gpt_forward
void gpt_forward_tokens(ModelOps& ops, ActivationViews& acts, const GPTWeights& w,
                        const GPTConfig& c, int B, int T, int first_position, Mode mode,
                        LogitRows rows) {
  const int C = c.embed_size, V = c.vocab_size;
  const int64_t NC = int64_t(B) * T * C;
  const float* positions = w.positions + int64_t(first_position) * C;   // rows from there on
  ops.embedding(acts.embeddings, acts.tokens, w.wte, positions, B, T, C, V);  // (B, T, C)
  if (mode == Mode::Train) ops.apply_mask(acts.embeddings, acts.embedding_dropout, NC);
  const BlockConfig bc = block_config(c, B, T);
  const float* x = acts.embeddings;
  for (int l = 0; l < c.num_layers; ++l) {
    block_forward(ops, acts.block_out[l], acts.blocks[l], x, w.blocks[l], bc, mode, l);
    x = acts.block_out[l];                                                   // (B, T, C)
  }
  if (rows != LogitRows::Last) {  // every position: All, or None (ln_f only)
    ops.layernorm(acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, x, w.ln_f_weight, w.ln_f_bias,
                  B * T, C, c.layernorm_eps);                                // (B, T, C)
    if (rows == LogitRows::All) {
      ops.linear(acts.logits, acts.ln_f, w.lm_head, nullptr, B * T, C, V);   // (B, T, V)
    }
    return;
  }
  for (int b = 0; b < B; ++b) {  // generation: only the next token's scores
    const float* last = x + (int64_t(b) * T + T - 1) * C;
    ops.layernorm(acts.ln_f + int64_t(b) * C, acts.ln_f_mean + b, acts.ln_f_rstd + b, last,
                  w.ln_f_weight, w.ln_f_bias, 1, C, c.layernorm_eps);        // (C)
    ops.linear(acts.logits + int64_t(b) * V, acts.ln_f + int64_t(b) * C, w.lm_head, nullptr, 1,
               C, V);                                                        // (V)
  }
}
// end lesson

}  // namespace gpt
