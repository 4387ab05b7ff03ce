// chapters/14_cuda_gpt/gpu_activations.cc — chapter 14: chapter 07's carving, on device memory.
#include "chapters/14_cuda_gpt/gpu_activations.h"

#include <stdexcept>
#include <string>

namespace gpt::cuda {
namespace {

void check_fits(const char* what, int B, int T, int max_B, int max_T) {
  if (B <= 0 || T <= 0 || B > max_B || T > max_T) {
    throw std::invalid_argument(std::string(what) + ": batch (B=" + std::to_string(B) + ", T=" +
                                std::to_string(T) + ") exceeds the capacity (B=" +
                                std::to_string(max_B) + ", T=" + std::to_string(max_T) + ")");
  }
}

}  // namespace

GpuActivations::GpuActivations(const GPTConfig& config, int max_B, int max_T,
                               bool attention_weights, bool probs)
    : config_(config),
      max_B_(max_B),
      max_T_(max_T),
      attention_weights_(attention_weights),
      probs_(probs) {
  check_capacity(config, max_B, max_T);  // ActivationViews' (chapter 07)
  buffer_ = DeviceBuffer<float>(floats(config, max_B, max_T, layout()));
  ids_ = DeviceBuffer<int32_t>(2 * size_t(max_B) * max_T);
  GpuActivations::carve(max_B, max_T);
}

// lesson: gpu_activations_size
// Chapter 07's tensors and layout, plus one logsumexp per layer, and without
// the (B, H, T, T) weights when only the fused attention will run (nor the
// probs when the format fuses the loss head: chapter 17).
ActivationLayout GpuActivations::layout() const {
  return ActivationLayout{attention_weights_, /*logsumexp=*/true, probs_};
}
// end lesson

void GpuActivations::carve(int B_, int T_) {
  check_batch(B_, T_, max_B_, max_T_);  // ActivationViews' (chapter 07)
  carve_views(buffer_.data(), ids_.data(), config_, B_, T_, layout());
}

GpuBackwardScratch::GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T,
                                       bool dlogits)
    : config_(config), max_B_(max_B), max_T_(max_T), dlogits_(dlogits) {
  buffer_ = DeviceBuffer<float>(floats(config, max_B, max_T, dlogits));
  GpuBackwardScratch::carve(max_B, max_T);
}

void GpuBackwardScratch::carve(int B, int T) {
  check_fits("GPU backward scratch", B, T, max_B_, max_T_);
  carve_views(buffer_.data(), config_, B, T, dlogits_);
}

}  // namespace gpt::cuda
