// chapters/08_backward/gpt_backward.cc — the whole model, backwards.
#include "chapters/08_backward/gpt_backward.h"

#include <algorithm>
#include <string>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/linear_backward.h"

namespace gpt {
namespace {

// Gradient views of block l, mirroring view_weights (chapter 07).
BlockGrads block_grads(ParameterBuffer& g, int l) {
  const std::string b = "blocks." + std::to_string(l) + ".";
  return BlockGrads{g[b + "ln1.weight"], g[b + "ln1.bias"],
                    AttentionGrads{g[b + "attn.qkv.weight"], g[b + "attn.qkv.bias"],
                                   g[b + "attn.proj.weight"], g[b + "attn.proj.bias"]},
                    g[b + "ln2.weight"], g[b + "ln2.bias"],
                    FeedForwardGrads{g[b + "mlp.fc.weight"], g[b + "mlp.fc.bias"],
                                     g[b + "mlp.proj.weight"], g[b + "mlp.proj.bias"]}};
}

}  // namespace

// lesson: gpt_backward
void gpt_backward(ParameterBuffer& grads, GPTActivations& dacts, const int32_t* tokens,
                  const int32_t* targets, const GPTActivations& acts, const GPTModel& model) {
  const GPTConfig& c = model.config;
  const int B = acts.B, T = acts.T, C = c.embed_size, V = c.vocab_size, L = c.num_layers;
  const int N = B * T;
  const GPTWeights w = model.weights();
  dacts.dropout = acts.dropout;
  dacts.carve(B, T);
  std::fill_n(dacts.logits, size_t(N) * V, 0.0f);
  std::fill_n(dacts.ln_f, size_t(N) * C, 0.0f);
  for (int l = 0; l < L; ++l) std::fill_n(dacts.block_out[l], size_t(N) * C, 0.0f);
  std::fill_n(dacts.embeddings, size_t(N) * C, 0.0f);

  // loss = mean cross-entropy(logits)                         dloss = 1
  cross_entropy_backward(dacts.logits, 1.0f, acts.probs, targets, N, V);
  // logits = ln_f · lm_headᵀ   (a tied lm_head is wte: its gradient adds to wte's)
  float* dlm_head = c.tie_weights ? grads["wte.weight"] : grads["lm_head.weight"];
  linear_backward(dacts.ln_f, dlm_head, nullptr, dacts.logits, acts.ln_f, w.lm_head, N, C, V);
  // ln_f = layernorm(x_L)
  const float* x_last = acts.block_out[L - 1];
  layernorm_backward(dacts.block_out[L - 1], grads["ln_f.weight"], grads["ln_f.bias"], dacts.ln_f,
                     x_last, acts.ln_f_mean, acts.ln_f_rstd, w.ln_f_weight, N, C);
  // x_{l+1} = block_l(x_l), from the last block down to the first
  for (int l = L - 1; l >= 0; --l) {
    const float* x_in = l > 0 ? acts.block_out[l - 1] : acts.embeddings;
    float* dx_in = l > 0 ? dacts.block_out[l - 1] : dacts.embeddings;
    block_backward(dx_in, block_grads(grads, l), dacts.blocks[l], dacts.block_out[l], x_in,
                   acts.blocks[l], w.blocks[l], acts.block_config());
  }
  // x_0 = dropout(wte[tokens] + positions)
  if (acts.dropout > 0) {  // the gradient of x ⊙ mask is mask (chapter 06)
    dropout_forward(dacts.embeddings, dacts.embeddings, acts.embedding_dropout, int64_t(N) * C);
  }
  float* dwpe = c.positions == Positions::Learned ? grads["wpe.weight"] : nullptr;
  embedding_backward(grads["wte.weight"], dwpe, dacts.embeddings, tokens, B, T, C, V);
}
// end lesson

}  // namespace gpt
