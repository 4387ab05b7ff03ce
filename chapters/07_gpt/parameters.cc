// chapters/07_gpt/parameters.cc — the parameter table and its named views.
#include "chapters/07_gpt/parameters.h"

#include <stdexcept>

namespace gpt {

// lesson: layout
ParameterLayout::ParameterLayout(const GPTConfig& c) {
  c.validate();
  const int64_t V = c.vocab_size, C = c.embed_size, P = c.max_length, F = c.ff_dim;
  auto add = [this](const std::string& name, std::vector<int64_t> shape) {
    size_t numel = 1;
    for (int64_t d : shape) numel *= static_cast<size_t>(d);
    slots_.push_back({name, std::move(shape), total_, numel});
    total_ += numel;
  };
  add("wte.weight", {V, C});
  if (c.positions == Positions::Learned) add("wpe.weight", {P, C});
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    add(b + "ln1.weight", {C});
    add(b + "ln1.bias", {C});
    add(b + "attn.qkv.weight", {3 * C, C});
    add(b + "attn.qkv.bias", {3 * C});
    add(b + "attn.proj.weight", {C, C});
    add(b + "attn.proj.bias", {C});
    add(b + "ln2.weight", {C});
    add(b + "ln2.bias", {C});
    add(b + "mlp.fc.weight", {F, C});
    add(b + "mlp.fc.bias", {F});
    add(b + "mlp.proj.weight", {C, F});
    add(b + "mlp.proj.bias", {C});
  }
  add("ln_f.weight", {C});
  add("ln_f.bias", {C});
  if (!c.tie_weights) add("lm_head.weight", {V, C});
}
// end lesson

bool ParameterLayout::has(const std::string& name) const {
  for (const ParameterSlot& s : slots_) {
    if (s.name == name) return true;
  }
  return false;
}

const ParameterSlot& ParameterLayout::find(const std::string& name) const {
  for (const ParameterSlot& s : slots_) {
    if (s.name == name) return s;
  }
  throw std::out_of_range("the model has no parameter named '" + name + "'");
}

ParameterBuffer::ParameterBuffer(const GPTConfig& config)
    : config_(config), layout_(config), data_(layout_.total(), 0.0f) {}

void ParameterBuffer::load_from(const Safetensors& file) {
  for (const ParameterSlot& slot : layout_.slots()) {
    if (!file.has(slot.name)) throw SafetensorsError("missing parameter '" + slot.name + "'");
    if (file.shape(slot.name) != slot.shape) {
      throw SafetensorsError("parameter '" + slot.name + "' has the wrong shape for this config");
    }
    const std::vector<float> values = file.floats(slot.name);
    std::copy(values.begin(), values.end(), data_.begin() + static_cast<long>(slot.offset));
  }
}

void ParameterBuffer::save_to(Safetensors& file) const {
  for (const ParameterSlot& slot : layout_.slots()) {
    file.put_floats(slot.name, slot.shape, data_.data() + slot.offset);
  }
}

GPTWeights view_weights(const ParameterBuffer& p, const std::vector<float>& sinusoidal) {
  const GPTConfig& c = p.config();
  GPTWeights w;
  w.wte = p["wte.weight"];
  if (c.positions == Positions::Learned) {
    w.positions = p["wpe.weight"];
  } else {
    if (sinusoidal.size() != size_t(c.max_length) * c.embed_size) {
      throw std::invalid_argument("view_weights: the sinusoidal table has the wrong size");
    }
    w.positions = sinusoidal.data();
  }
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    w.blocks.push_back(BlockParams{
        p[b + "ln1.weight"], p[b + "ln1.bias"],
        AttentionParams{p[b + "attn.qkv.weight"], p[b + "attn.qkv.bias"],
                        p[b + "attn.proj.weight"], p[b + "attn.proj.bias"]},
        p[b + "ln2.weight"], p[b + "ln2.bias"],
        FeedForwardParams{p[b + "mlp.fc.weight"], p[b + "mlp.fc.bias"],
                          p[b + "mlp.proj.weight"], p[b + "mlp.proj.bias"]}});
  }
  w.ln_f_weight = p["ln_f.weight"];
  w.ln_f_bias = p["ln_f.bias"];
  w.lm_head = c.tie_weights ? w.wte : p["lm_head.weight"];
  return w;
}

}  // namespace gpt
