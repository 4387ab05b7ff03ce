// chapters/14_cuda_gpt/device_model.h — chapter 14: the model's one buffer, on the GPU.
//
// Chapter 07 put every parameter in ONE float buffer with a table of names,
// shapes and offsets. On the GPU we keep exactly that buffer: one DeviceBuffer
// (chapter 11) of the same size, the same offsets. Then
//   upload    = one cudaMemcpy of the whole buffer,
//   download  = one cudaMemcpy back (a checkpoint written from the GPU is the
//               CPU's checkpoint, byte for byte in layout),
// and gradients and AdamW's moments are DeviceBuffers of the same layout too.
// A named view into the device buffer is the host's offset added to the
// device's base pointer (device_views.cc): the same table, another address.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chapters/07_gpt/model.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"

namespace gpt::cuda {

// lesson: device_views
// The forward pass's read-only views (chapter 07's GPTWeights), pointing into
// the DEVICE buffer `params` laid out by ParameterLayout(config). `sinusoidal`
// is the device copy of the (P, C) table when the config uses sinusoidal
// positions (else ignored). A tied lm_head is wte.
GPTWeights device_weights(const GPTConfig& config, const float* params, const float* sinusoidal);

// Block l's gradient views (chapter 08's BlockGrads) into the DEVICE buffer
// `grads`, laid out like the parameters.
BlockGrads device_block_grads(const ParameterLayout& layout, float* grads, int l);
// end lesson

// The parameter `name`'s first float in a device buffer laid out by `layout`.
float* device_slot(const ParameterLayout& layout, float* buffer, const std::string& name);

// A GPTModel's parameters (and sinusoidal table) in device memory.
class DeviceModel {
 public:
  explicit DeviceModel(const GPTConfig& config);  // allocated, not yet uploaded

  void upload(const GPTModel& model);             // host -> device, one copy
  void download(ParameterBuffer& params) const;   // device -> host, one copy

  const GPTConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  const GPTWeights& weights() const { return weights_; }  // device pointers
  float* params() { return params_.data(); }              // the whole buffer
  const float* params() const { return params_.data(); }
  size_t size() const { return params_.size(); }
  size_t bytes() const { return params_.bytes() + sinusoidal_.bytes(); }  // device memory held

 private:
  GPTConfig config_;
  ParameterLayout layout_;
  DeviceBuffer<float> params_;      // (layout.total())
  DeviceBuffer<float> sinusoidal_;  // (P, C) or empty
  GPTWeights weights_;
};

}  // namespace gpt::cuda
