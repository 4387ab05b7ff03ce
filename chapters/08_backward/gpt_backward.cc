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

size_t BackwardViews::floats(const GPTConfig& config, int B, int T, bool dlogits,
                             const BlockLayout& block) {
  const size_t BT = size_t(B) * T, C = config.embed_size, V = config.vocab_size;
  return (dlogits ? BT * V : 0) + 3 * BT * C +
         BlockActivations::size(block_config(config, B, T), block);
  // dlogits, dln_f, dstream, dblock
}

void BackwardViews::carve_views(float* base, const GPTConfig& config, int B, int T,
                                bool with_dlogits, const BlockLayout& block) {
  const size_t BT = size_t(B) * T, C = config.embed_size, V = config.vocab_size;
  float* p = base;
  dlogits = with_dlogits ? p : nullptr, p += with_dlogits ? BT * V : 0;
  dln_f = p, p += BT * C;
  dstream[0] = p, p += BT * C;
  dstream[1] = p, p += BT * C;
  dblock = BlockActivations::carve(p, block_config(config, B, T), block);
}

size_t GPTBackwardScratch::size(const GPTConfig& config, int B, int T) {
  return floats(config, B, T);
}

GPTBackwardScratch::GPTBackwardScratch(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  buffer_.assign(size(config, max_B, max_T), 0.0f);
  GPTBackwardScratch::carve(max_B, max_T);
}

void GPTBackwardScratch::carve(int B, int T) {
  if (B <= 0 || T <= 0 || B > max_B_ || T > max_T_) {
    throw std::invalid_argument("backward scratch: batch (B=" + std::to_string(B) + ", T=" +
                                std::to_string(T) + ") exceeds its capacity");
  }
  carve_views(buffer_.data(), config_, B, T);
}

GPTGrads view_grads(ParameterBuffer& g) {
  const GPTConfig& c = g.config();
  GPTGrads grads{g["wte.weight"], c.positions == Positions::Learned ? g["wpe.weight"] : nullptr,
                 {}, g["ln_f.weight"], g["ln_f.bias"],
                 c.tie_weights ? g["wte.weight"] : g["lm_head.weight"]};
  for (int l = 0; l < c.num_layers; ++l) grads.blocks.push_back(block_grads(g, l));
  return grads;
}

// lesson: gpt_backward
void gpt_backward(BackwardOps& ops, const GPTGrads& grads, BackwardViews& scratch,
                  const ActivationViews& acts, const GPTWeights& w, const GPTConfig& c) {
  const int B = acts.B, T = acts.T, C = c.embed_size, V = c.vocab_size, L = c.num_layers;
  const int N = B * T;
  scratch.carve(B, T);
  ops.zero(scratch.dln_f, int64_t(N) * C);
  float* dout = scratch.dstream[0];  // d(output of the block being processed)
  float* dinp = scratch.dstream[1];  // d(its input), filled by its backward
  ops.zero(dout, int64_t(N) * C);

  if (!ops.fuses_classifier_loss(V)) {
    // loss = mean cross-entropy(logits)                       dloss = 1
    ops.zero(scratch.dlogits, int64_t(N) * V);
    ops.cross_entropy_backward(scratch.dlogits, 1.0f, acts.probs, acts.targets, N, V);
    // logits = ln_f · lm_headᵀ (a tied lm_head is wte: its gradient adds to wte's)
    ops.linear_backward(scratch.dln_f, grads.lm_head, nullptr, scratch.dlogits, acts.ln_f,
                        w.lm_head, N, C, V);
  } else {  // an engine that fuses the two (chapter 17), from what its forward left in logits
    ops.classifier_loss_backward(scratch.dln_f, grads.lm_head, acts.logits, acts.ln_f, w.lm_head,
                                 N, C, V);
  }
  // ln_f = layernorm(x_L)
  ops.layernorm_backward(dout, grads.ln_f_weight, grads.ln_f_bias, scratch.dln_f,
                         acts.block_out[L - 1], acts.ln_f_mean, acts.ln_f_rstd, w.ln_f_weight,
                         N, C);
  // x_{l+1} = block_l(x_l), from the last block down to the first
  const BlockConfig bc = block_config(c, B, T);
  for (int l = L - 1; l >= 0; --l) {
    const float* x_in = l > 0 ? acts.block_out[l - 1] : acts.embeddings;
    ops.zero(dinp, int64_t(N) * C);
    block_backward(ops, dinp, grads.blocks[l], scratch.dblock, dout, x_in, acts.blocks[l],
                   w.blocks[l], bc, acts.mode);
    std::swap(dout, dinp);  // block l's input is block l-1's output
  }
  // x_0 = dropout(wte[tokens] + positions); dout now holds d(x_0)
  if (acts.mode == Mode::Train) {  // the gradient of x ⊙ mask is mask (chapter 06)
    ops.apply_mask(dout, acts.embedding_dropout, int64_t(N) * C);
  }
  ops.embedding_backward(grads.wte, grads.wpe, dout, acts.tokens, B, T, C, V);
}
// end lesson

void gpt_backward(ParameterBuffer& grads, GPTBackwardScratch& scratch, const GPTActivations& acts,
                  const GPTModel& model) {
  PlainBackwardOps ops;
  gpt_backward(ops, view_grads(grads), scratch, acts, model.weights(), model.config);
}

}  // namespace gpt
