// chapters/07_gpt/activations.cc — carving one buffer into the forward pass's tensors.
#include "chapters/07_gpt/activations.h"

#include <stdexcept>
#include <string>

namespace gpt {

void ActivationViews::check_capacity(const GPTConfig& config, int max_B, int max_T) {
  if (max_B <= 0 || max_T <= 0 || max_T > config.max_length) {
    throw std::invalid_argument("activations for B=" + std::to_string(max_B) + ", T=" +
                                std::to_string(max_T) + ": need B > 0 and 0 < T <= max_length (" +
                                std::to_string(config.max_length) + ")");
  }
}

void ActivationViews::check_batch(int B, int T, int max_B, int max_T) {
  if (B <= 0 || T <= 0 || B > max_B || T > max_T) {
    throw std::invalid_argument("batch (B=" + std::to_string(B) + ", T=" + std::to_string(T) +
                                ") exceeds the activations' capacity (B=" + std::to_string(max_B) +
                                ", T=" + std::to_string(max_T) + ")");
  }
}

GPTActivations::GPTActivations(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  check_capacity(config, max_B, max_T);
  buffer_.assign(size(config, max_B, max_T), 0.0f);
  ids_.assign(2 * size_t(max_B) * max_T, 0);
  GPTActivations::carve(max_B, max_T);
}

BlockConfig block_config(const GPTConfig& c, int B, int T) {
  return BlockConfig{B, T, c.embed_size, c.heads, c.ff_dim, c.norm, c.gelu, c.layernorm_eps};
}

namespace {

// Floats of the logits: (B·T, V), or what the engine's format asks for them.
size_t logits_floats(const ActivationLayout& layout, size_t BT, int V) {
  return layout.probs ? BT * V : floats_for(layout.logits, BT, V);
}

}  // namespace

size_t ActivationViews::floats(const GPTConfig& c, int B, int T, const ActivationLayout& layout) {
  const size_t BT = size_t(B) * T, C = c.embed_size, V = c.vocab_size;
  const BlockConfig bc = block_config(c, B, T);
  const size_t lse = layout.logsumexp ? BT * c.heads : 0;
  return 2 * BT * C                                        // embeddings and their mask
         + c.num_layers * (BlockActivations::size(bc, layout.block)  // blocks
                           + lse)                          // (and their logsumexp)
         + BT * C + 2 * BT                                 // ln_f, mean, rstd
         + logits_floats(layout, BT, c.vocab_size)         // logits
         + (layout.probs ? BT * V : 0) + BT;               // probs, losses
}

void ActivationViews::carve_views(float* base, int32_t* ids, const GPTConfig& c, int B_, int T_,
                                  const ActivationLayout& layout) {
  B = B_;
  T = T_;
  const size_t BT = size_t(B) * T, C = c.embed_size, V = c.vocab_size;
  const BlockConfig bc = block_config(c, B, T);
  tokens = ids;
  targets = ids + BT;
  float* p = base;
  auto take = [&p](size_t n) {
    float* view = p;
    p += n;
    return view;
  };
  embeddings = take(BT * C);
  embedding_dropout = take(BT * C);
  blocks.clear();
  block_out.clear();
  for (int l = 0; l < c.num_layers; ++l) {
    const size_t block_floats = BlockActivations::size(bc, layout.block);
    blocks.push_back(BlockActivations::carve(take(block_floats), bc, layout.block));
    // A block's output is the last tensor it computes (block.cc): the views
    // share it, and block_forward need not copy it.
    const BlockActivations& a = blocks.back();
    block_out.push_back(c.norm == NormPlacement::Pre ? a.residual2 : a.ln2);
    if (layout.logsumexp) blocks.back().attn.lse = take(BT * c.heads);  // (B, H, T)
  }
  ln_f = take(BT * C);
  ln_f_mean = take(BT);
  ln_f_rstd = take(BT);
  logits = take(logits_floats(layout, BT, c.vocab_size));
  probs = layout.probs ? take(BT * V) : nullptr;
  losses = take(BT);
}

size_t GPTActivations::size(const GPTConfig& c, int B, int T) {
  return ActivationViews::floats(c, B, T);
}

void GPTActivations::carve(int B_, int T_) {
  check_batch(B_, T_, max_B_, max_T_);
  carve_views(buffer_.data(), ids_.data(), config_, B_, T_, ActivationLayout{});
}

}  // namespace gpt
