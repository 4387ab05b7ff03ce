// chapters/14_cuda_gpt/gpu_activations.cc — chapter 14: chapter 07's carving, on device memory.
#include "chapters/14_cuda_gpt/gpu_activations.h"

#include <stdexcept>
#include <string>

namespace gpt::cuda {
namespace {

void check_capacity(const char* what, int B, int T, int max_B, int max_T) {
  if (B <= 0 || T <= 0 || B > max_B || T > max_T) {
    throw std::invalid_argument(std::string(what) + ": batch (B=" + std::to_string(B) + ", T=" +
                                std::to_string(T) + ") exceeds the capacity (B=" +
                                std::to_string(max_B) + ", T=" + std::to_string(max_T) + ")");
  }
}

BlockConfig block_config_of(const GPTConfig& c, int B, int T, float dropout) {
  return BlockConfig{B, T, c.embed_size, c.heads, c.ff_dim, c.norm, c.gelu, c.layernorm_eps,
                     dropout};
}

}  // namespace

GpuActivations::GpuActivations(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  if (max_B <= 0 || max_T <= 0 || max_T > config.max_length) {
    throw std::invalid_argument("GPU activations for B=" + std::to_string(max_B) + ", T=" +
                                std::to_string(max_T) + ": need B > 0 and 0 < T <= max_length (" +
                                std::to_string(config.max_length) + ")");
  }
  buffer_ = DeviceBuffer<float>(size(config, max_B, max_T));
  ids_ = DeviceBuffer<int32_t>(2 * size_t(max_B) * max_T);
  carve(max_B, max_T);
}

BlockConfig GpuActivations::block_config() const { return block_config_of(config_, B, T, dropout); }

// lesson: gpu_activations_size
// Chapter 07's GPTActivations::size, plus one logsumexp per layer.
size_t GpuActivations::size(const GPTConfig& c, int B, int T) {
  const size_t BT = size_t(B) * T, C = c.embed_size, V = c.vocab_size;
  const BlockConfig bc = block_config_of(c, B, T, 0.0f);
  return 2 * BT * C                                                  // embeddings, mask
         + c.num_layers * (BlockActivations::size(bc) + BT * C + BT * c.heads)  // blocks, lse
         + BT * C + 2 * BT                                           // ln_f, mean, rstd
         + 2 * BT * V + BT;                                          // logits, probs, losses
}
// end lesson

void GpuActivations::carve(int B_, int T_) {
  check_capacity("GPU activations", B_, T_, max_B_, max_T_);
  B = B_;
  T = T_;
  const size_t BT = size_t(B) * T, C = config_.embed_size, V = config_.vocab_size;
  const BlockConfig bc = block_config();
  float* p = buffer_.data();
  const auto take = [&p](size_t n) {
    float* view = p;
    p += n;
    return view;
  };
  tokens = ids_.data();
  targets = ids_.data() + BT;
  embeddings = take(BT * C);
  embedding_dropout = take(BT * C);
  blocks.clear();
  block_out.clear();
  lse.clear();
  for (int l = 0; l < config_.num_layers; ++l) {
    blocks.push_back(BlockActivations::carve(take(BlockActivations::size(bc)), bc));
    block_out.push_back(take(BT * C));
    lse.push_back(take(BT * config_.heads));
  }
  ln_f = take(BT * C);
  ln_f_mean = take(BT);
  ln_f_rstd = take(BT);
  logits = take(BT * V);
  probs = take(BT * V);
  losses = take(BT);
}

GpuBackwardScratch::GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T)
    : config_(config), max_B_(max_B), max_T_(max_T) {
  const size_t BT = size_t(max_B) * max_T, C = config.embed_size, V = config.vocab_size;
  const BlockConfig bc = block_config_of(config, max_B, max_T, 0.0f);
  buffer_ = DeviceBuffer<float>(BT * V + 3 * BT * C + BlockActivations::size(bc));
  carve(max_B, max_T);
}

void GpuBackwardScratch::carve(int B, int T) {
  check_capacity("GPU backward scratch", B, T, max_B_, max_T_);
  const size_t BT = size_t(B) * T, C = config_.embed_size, V = config_.vocab_size;
  float* p = buffer_.data();
  dlogits = p, p += BT * V;
  dln_f = p, p += BT * C;
  dstream[0] = p, p += BT * C;
  dstream[1] = p, p += BT * C;
  dblock = BlockActivations::carve(p, block_config_of(config_, B, T, 0.0f));
}

}  // namespace gpt::cuda
