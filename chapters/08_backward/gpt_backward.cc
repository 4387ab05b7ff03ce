// chapters/08_backward/gpt_backward.cc — the whole model, backwards.
#include "chapters/08_backward/gpt_backward.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/linear_backward.h"

namespace gpt {

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

size_t GPTBackwardScratch::size(const GPTConfig& config, int B, int T) {
  const size_t BT = size_t(B) * T, C = config.embed_size, V = config.vocab_size;
  const BlockConfig bc{B, T, config.embed_size, config.heads, config.ff_dim};
  return BT * V + 3 * BT * C + BlockActivations::size(bc);  // dlogits, dln_f, dstream, dblock
}

GPTBackwardScratch::GPTBackwardScratch(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  buffer_.assign(size(config, max_B, max_T), 0.0f);
  carve(max_B, max_T);
}

void GPTBackwardScratch::carve(int B, int T) {
  if (B <= 0 || T <= 0 || B > max_B_ || T > max_T_) {
    throw std::invalid_argument("backward scratch: batch (B=" + std::to_string(B) + ", T=" +
                                std::to_string(T) + ") exceeds its capacity");
  }
  const size_t BT = size_t(B) * T, C = config_.embed_size, V = config_.vocab_size;
  float* p = buffer_.data();
  dlogits = p, p += BT * V;
  dln_f = p, p += BT * C;
  dstream[0] = p, p += BT * C;
  dstream[1] = p, p += BT * C;
  dblock = BlockActivations::carve(p, BlockConfig{B, T, config_.embed_size, config_.heads,
                                                  config_.ff_dim});
}

// lesson: gpt_backward
void gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch, const int32_t* tokens,
                  const int32_t* targets, const GPTActivations& acts, const GPTModel& model) {
  const GPTConfig& c = model.config;
  const int B = acts.B, T = acts.T, C = c.embed_size, V = c.vocab_size, L = c.num_layers;
  const int N = B * T;
  const GPTWeights w = model.weights();
  scratch.carve(B, T);
  std::fill_n(scratch.dlogits, size_t(N) * V, 0.0f);
  std::fill_n(scratch.dln_f, size_t(N) * C, 0.0f);
  float* dout = scratch.dstream[0];  // d(output of the block being processed)
  float* dinp = scratch.dstream[1];  // d(its input), filled by its backward
  std::fill_n(dout, size_t(N) * C, 0.0f);

  // loss = mean cross-entropy(logits)                         dloss = 1
  cross_entropy_backward(scratch.dlogits, 1.0f, acts.probs, targets, N, V);
  // logits = ln_f · lm_headᵀ   (a tied lm_head is wte: its gradient adds to wte's)
  float* dlm_head = c.tie_weights ? grads["wte.weight"] : grads["lm_head.weight"];
  linear_backward(scratch.dln_f, dlm_head, nullptr, scratch.dlogits, acts.ln_f, w.lm_head, N, C, V);
  // ln_f = layernorm(x_L)
  layernorm_backward(dout, grads["ln_f.weight"], grads["ln_f.bias"], scratch.dln_f,
                     acts.block_out[L - 1], acts.ln_f_mean, acts.ln_f_rstd, w.ln_f_weight, N, C);
  // x_{l+1} = block_l(x_l), from the last block down to the first
  for (int l = L - 1; l >= 0; --l) {
    const float* x_in = l > 0 ? acts.block_out[l - 1] : acts.embeddings;
    std::fill_n(dinp, size_t(N) * C, 0.0f);
    block_backward(dinp, block_grads(grads, l), scratch.dblock, dout, x_in, acts.blocks[l],
                   w.blocks[l], acts.block_config());
    std::swap(dout, dinp);  // block l's input is block l-1's output
  }
  // x_0 = dropout(wte[tokens] + positions); dout now holds d(x_0)
  if (acts.dropout > 0) {  // the gradient of x ⊙ mask is mask (chapter 06)
    dropout_forward(dout, dout, acts.embedding_dropout, int64_t(N) * C);
  }
  float* dwpe = c.positions == Positions::Learned ? grads["wpe.weight"] : nullptr;
  embedding_backward(grads["wte.weight"], dwpe, dout, tokens, B, T, C, V);
}
// end lesson

}  // namespace gpt
