// chapters/14_cuda_gpt/device_model.cc — chapter 14: one copy up, one copy down.
#include <stdexcept>

#include "chapters/14_cuda_gpt/device_model.h"

namespace gpt::cuda {

float* device_slot(const ParameterLayout& layout, float* buffer, const std::string& name) {
  return buffer + layout.find(name).offset;
}

DeviceModel::DeviceModel(const GPTConfig& config)
    : config_(config),
      layout_(config),
      params_(layout_.total()),
      sinusoidal_(config.positions == Positions::Sinusoidal
                      ? size_t(config.max_length) * config.embed_size
                      : 0),
      weights_(device_weights(config, params_.data(), sinusoidal_.data())) {
  // An unfinished exercise (device_views.cc) must fail a test, not crash it.
  if (weights_.wte == nullptr || weights_.lm_head == nullptr ||
      int(weights_.blocks.size()) != config.num_layers) {
    throw std::logic_error(
        "device_weights returned incomplete views: finish chapter 14's exercise, "
        "device_views.cc (device_views_test checks it without a GPU)");
  }
}

// lesson: upload
void DeviceModel::upload(const GPTModel& model) {
  if (model.params.size() != params_.size()) {
    throw std::invalid_argument("DeviceModel::upload: a model of " +
                                std::to_string(model.params.size()) +
                                " parameters into a buffer of " + std::to_string(params_.size()));
  }
  CUDA_CHECK(cudaMemcpy(params_.data(), model.params.data(), params_.bytes(),
                        cudaMemcpyHostToDevice));  // every parameter, one copy
  if (sinusoidal_.size() > 0) sinusoidal_.to_device(model.sinusoidal);
}

void DeviceModel::download(ParameterBuffer& params) const {
  if (params.size() != params_.size()) {
    throw std::invalid_argument("DeviceModel::download: the buffers' sizes differ");
  }
  CUDA_CHECK(cudaMemcpy(params.data(), params_.data(), params_.bytes(), cudaMemcpyDeviceToHost));
}
// end lesson

}  // namespace gpt::cuda
