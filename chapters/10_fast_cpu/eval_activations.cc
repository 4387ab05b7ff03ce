// chapters/10_fast_cpu/eval_activations.cc — one layer's buffers for every layer.
#include "chapters/10_fast_cpu/eval_activations.h"

#include <stdexcept>
#include <string>

namespace gpt {
namespace {

GPTConfig with_one_layer(GPTConfig config) {
  config.num_layers = 1;
  return config;
}

}  // namespace

EvalActivations::EvalActivations(const GPTConfig& config, int max_B, int max_T)
    : config_(config), one_layer_(with_one_layer(config)), max_B_(max_B), max_T_(max_T) {
  if (max_B <= 0 || max_T <= 0 || max_T > config.max_length) {
    throw std::invalid_argument("activations for B=" + std::to_string(max_B) + ", T=" +
                                std::to_string(max_T) + ": need B > 0 and 0 < T <= max_length (" +
                                std::to_string(config.max_length) + ")");
  }
  buffer_.assign(size(config, max_B, max_T), 0.0f);
  ids_.assign(2 * size_t(max_B) * max_T, 0);
  EvalActivations::carve(max_B, max_T);
}

size_t EvalActivations::size(const GPTConfig& config, int B, int T) {
  return ActivationViews::floats(with_one_layer(config), B, T);
}

// lesson: eval_carve
void EvalActivations::carve(int B_, int T_) {
  if (B_ <= 0 || T_ <= 0 || B_ > max_B_ || T_ > max_T_) {
    throw std::invalid_argument("batch (B=" + std::to_string(B_) + ", T=" + std::to_string(T_) +
                                ") exceeds the activations' capacity (B=" + std::to_string(max_B_) +
                                ", T=" + std::to_string(max_T_) + ")");
  }
  // The views of a one-layer model: the embeddings, ONE block, the head.
  carve_views(buffer_.data(), ids_.data(), one_layer_, B_, T_, ActivationLayout{});
  // Every layer gets that block's views, and its output buffer: layer l reads
  // its input from block_out[l - 1], the buffer it then writes its output to.
  blocks.assign(config_.num_layers, blocks.front());
  block_out.assign(config_.num_layers, block_out.front());
}
// end lesson

}  // namespace gpt
