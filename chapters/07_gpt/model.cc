// chapters/07_gpt/model.cc — building, loading and saving a model.
#include "chapters/07_gpt/model.h"

#include "chapters/02_embeddings/sinusoidal.h"

namespace gpt {

GPTModel::GPTModel(const GPTConfig& c) : config(c), params(c) {
  if (c.positions == Positions::Sinusoidal) {
    sinusoidal.resize(size_t(c.max_length) * c.embed_size);
    sinusoidal_table(sinusoidal.data(), c.max_length, c.embed_size);
  }
}

GPTModel GPTModel::from_safetensors(const Safetensors& file) {
  GPTModel model(GPTConfig::from_metadata(file.metadata));
  model.params.load_from(file);
  return model;
}

Safetensors GPTModel::to_safetensors() const {
  Safetensors file;
  file.metadata = config.to_metadata();
  params.save_to(file);
  return file;
}

}  // namespace gpt
