// chapters/07_gpt/activations.cc — carving one buffer into the forward pass's tensors.
#include "chapters/07_gpt/activations.h"

#include <stdexcept>
#include <string>

namespace gpt {

GPTActivations::GPTActivations(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  if (max_B <= 0 || max_T <= 0 || max_T > config.max_length) {
    throw std::invalid_argument("activations for B=" + std::to_string(max_B) + ", T=" +
                                std::to_string(max_T) + ": need B > 0 and 0 < T <= max_length (" +
                                std::to_string(config.max_length) + ")");
  }
  buffer_.assign(size(config, max_B, max_T), 0.0f);
  carve(max_B, max_T);
}

BlockConfig GPTActivations::block_config() const {
  return BlockConfig{B, T, config_.embed_size, config_.heads, config_.ff_dim,
                     config_.norm, config_.gelu, config_.layernorm_eps, dropout};
}

size_t GPTActivations::size(const GPTConfig& c, int B, int T) {
  const size_t BT = size_t(B) * T, C = c.embed_size, V = c.vocab_size;
  const BlockConfig bc{B, T, c.embed_size, c.heads, c.ff_dim, c.norm, c.gelu, c.layernorm_eps};
  return 2 * BT * C                                        // embeddings and their mask
         + c.num_layers * (BlockActivations::size(bc) + BT * C)  // blocks and their outputs
         + BT * C + 2 * BT                                 // ln_f, mean, rstd
         + 2 * BT * V + BT;                                // logits, probs, losses
}

void GPTActivations::carve(int B_, int T_) {
  if (B_ <= 0 || T_ <= 0 || B_ > max_B_ || T_ > max_T_) {
    throw std::invalid_argument("batch (B=" + std::to_string(B_) + ", T=" + std::to_string(T_) +
                                ") exceeds the activations' capacity (B=" + std::to_string(max_B_) +
                                ", T=" + std::to_string(max_T_) + ")");
  }
  B = B_;
  T = T_;
  const size_t BT = size_t(B) * T, C = config_.embed_size, V = config_.vocab_size;
  const BlockConfig bc = block_config();
  float* p = buffer_.data();
  auto take = [&p](size_t n) {
    float* view = p;
    p += n;
    return view;
  };
  embeddings = take(BT * C);
  embedding_dropout = take(BT * C);
  blocks.clear();
  block_out.clear();
  for (int l = 0; l < config_.num_layers; ++l) {
    blocks.push_back(BlockActivations::carve(take(BlockActivations::size(bc)), bc));
    block_out.push_back(take(BT * C));
  }
  ln_f = take(BT * C);
  ln_f_mean = take(BT);
  ln_f_rstd = take(BT);
  logits = take(BT * V);
  probs = take(BT * V);
  losses = take(BT);
}

}  // namespace gpt
