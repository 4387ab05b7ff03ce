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

EvalActivations::EvalActivations(const GPTConfig& config, int max_B, int max_T,
                                 GPTActivations& lender)
    : config_(config), one_layer_(with_one_layer(config)), max_B_(max_B), max_T_(max_T) {
  check_capacity(config, max_B, max_T);
  if (lender.floats() < GPTActivations::size(config, max_B, max_T)) {
    throw std::invalid_argument("EvalActivations: the lender holds " +
                                std::to_string(lender.floats()) + " floats, fewer than a (B=" +
                                std::to_string(max_B) + ", T=" + std::to_string(max_T) +
                                ") batch of this model needs");
  }
  memory_ = lender.memory();  // size(config, max_B, max_T) <= GPTActivations::size: one layer
  ids_.assign(2 * size_t(max_B) * max_T, 0);
  EvalActivations::carve(max_B, max_T);
}

size_t EvalActivations::size(const GPTConfig& config, int B, int T) {
  return ActivationViews::floats(with_one_layer(config), B, T);
}

// lesson: eval_carve
void EvalActivations::carve(int B_, int T_) {
  check_batch(B_, T_, max_B_, max_T_);
  // The views of a one-layer model: the embeddings, ONE block, the head.
  carve_views(memory_, ids_.data(), one_layer_, B_, T_, ActivationLayout{});
  // Every layer gets that block's views, and its output buffer: layer l reads
  // its input from block_out[l - 1], the buffer it then writes its output to.
  const BlockActivations block = blocks.front();
  float* const out = block_out.front();
  blocks.assign(config_.num_layers, block);
  block_out.assign(config_.num_layers, out);
}
// end lesson

}  // namespace gpt
