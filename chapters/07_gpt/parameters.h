// chapters/07_gpt/parameters.h — every weight of the model in one buffer.
//
// A GPT is a few dozen tensors. We keep them all in ONE contiguous float
// buffer and a table of (name, shape, offset): a tensor is a named view.
// Then "save a checkpoint", "zero the gradients", "take an AdamW step",
// "copy to the GPU" are each one loop over one buffer, and the gradients and
// optimizer moments (chapters 08–09) are buffers with the same table.
// The names are the PyTorch reference model's (tests/reference/gpt.py), so a
// reference case or a checkpoint loads here, and ours loads there, unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/config.h"
#include "common/aligned_vector.h"
#include "common/safetensors.h"

namespace gpt {

struct ParameterSlot {
  std::string name;            // "blocks.3.attn.qkv.weight"
  std::vector<int64_t> shape;  // {3C, C}
  size_t offset;               // where it starts in the buffer, in floats
  size_t numel;                // how many floats it holds
};

// The table: every parameter's slot, in the reference model's order.
class ParameterLayout {
 public:
  explicit ParameterLayout(const GPTConfig& config);
  const std::vector<ParameterSlot>& slots() const { return slots_; }
  size_t total() const { return total_; }  // the number of parameters
  bool has(const std::string& name) const;
  const ParameterSlot& find(const std::string& name) const;  // throws std::out_of_range

 private:
  std::vector<ParameterSlot> slots_;
  size_t total_ = 0;
};

// A buffer laid out by a ParameterLayout: the parameters, or their gradients,
// or an optimizer moment.
class ParameterBuffer {
 public:
  explicit ParameterBuffer(const GPTConfig& config);  // all zeros
  const GPTConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  size_t size() const { return data_.size(); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }

  float* operator[](const std::string& name) { return data_.data() + layout_.find(name).offset; }
  const float* operator[](const std::string& name) const {
    return data_.data() + layout_.find(name).offset;
  }

  // Copies every parameter from `file`, which must hold each name of the
  // layout as F32 with the right shape (other tensors are ignored). Throws
  // SafetensorsError naming the first missing or mis-shaped tensor.
  void load_from(const Safetensors& file);
  void save_to(Safetensors& file) const;

 private:
  GPTConfig config_;
  ParameterLayout layout_;
  AlignedVector<float> data_;  // 64-byte aligned: reproducible sums (aligned_vector.h)
};

// Read-only views the forward pass needs.
struct GPTWeights {
  const float* wte;        // (V, C)
  const float* positions;  // (P, C): wpe, or the sinusoidal table
  std::vector<BlockParams> blocks;
  const float* ln_f_weight;  // (C)
  const float* ln_f_bias;    // (C)
  const float* lm_head;      // (V, C): its own, or wte when tied
};

// `sinusoidal` must hold the (P, C) sinusoidal table when the config asks for
// sinusoidal positions (it is not a parameter: nothing learns it).
GPTWeights view_weights(const ParameterBuffer& params, const std::vector<float>& sinusoidal);

}  // namespace gpt
