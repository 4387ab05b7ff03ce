// chapters/14_cuda_gpt/gpu_activations.cc — chapter 14: chapter 07's carving, on device memory.
#include "chapters/14_cuda_gpt/gpu_activations.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace gpt::cuda {
namespace {

void check_fits(const char* what, int B, int T, int max_B, int max_T) {
  if (B <= 0 || T <= 0 || B > max_B || T > max_T) {
    throw std::invalid_argument(std::string(what) + ": batch (B=" + std::to_string(B) + ", T=" +
                                std::to_string(T) + ") exceeds the capacity (B=" +
                                std::to_string(max_B) + ", T=" + std::to_string(max_T) + ")");
  }
}

// A carve reaches no further than the buffer: a size counted one way and
// carved another fails here, not in a kernel writing past the end.
void check_carved(const char* what, size_t carved, size_t allocated) {
  if (carved > allocated) {
    throw std::logic_error(std::string(what) + ": the carve takes " + std::to_string(carved) +
                           " floats of a buffer of " + std::to_string(allocated));
  }
}

}  // namespace

GpuActivations::GpuActivations(const GPTConfig& config, int max_B, int max_T,
                               ActivationLayout layout)
    : config_(config), max_B_(max_B), max_T_(max_T), layout_(std::move(layout)) {
  check_capacity(config, max_B, max_T);  // ActivationViews' (chapter 07)
  layout_.logsumexp = true;  // chapter 13's fused attention keeps one per query
  buffer_ = DeviceBuffer<float>(floats(config, max_B, max_T, layout_));
  ids_ = DeviceBuffer<int32_t>(2 * size_t(max_B) * max_T);
  GpuActivations::carve(max_B, max_T);
}

void GpuActivations::carve(int B_, int T_) {
  check_batch(B_, T_, max_B_, max_T_);  // ActivationViews' (chapter 07)
  check_carved("GPU activations", floats(config_, B_, T_, layout_), buffer_.size());
  carve_views(buffer_.data(), ids_.data(), config_, B_, T_, layout_);
}

GpuBackwardScratch::GpuBackwardScratch(const GPTConfig& config, int max_B, int max_T,
                                       const ActivationLayout& layout)
    : config_(config),
      max_B_(max_B),
      max_T_(max_T),
      keeps_dlogits_(layout.probs),
      block_(layout.block) {
  block_.attention.weights = false;  // the backward's scratch for them is never read
  buffer_ = DeviceBuffer<float>(floats(config, max_B, max_T, keeps_dlogits_, block_));
  GpuBackwardScratch::carve(max_B, max_T);
}

void GpuBackwardScratch::carve(int B, int T) {
  check_fits("GPU backward scratch", B, T, max_B_, max_T_);
  check_carved("GPU backward scratch", floats(config_, B, T, keeps_dlogits_, block_),
               buffer_.size());
  carve_views(buffer_.data(), config_, B, T, keeps_dlogits_, block_);
}

}  // namespace gpt::cuda
