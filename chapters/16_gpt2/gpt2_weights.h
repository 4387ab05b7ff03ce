// chapters/16_gpt2/gpt2_weights.h — GPT-2's published weights, in and out.
//
// OpenAI published GPT-2's weights; Hugging Face keeps them as one
// model.safetensors per size (with a config.json beside it). The file holds
// the same numbers our GPT has, under other names and with the linear layers'
// matrices on their side (conv1d_layout.h):
//
//   ours                         Hugging Face's                  stored
//   wte.weight         (V, C)    wte.weight          (V, C)      as is
//   wpe.weight         (P, C)    wpe.weight          (P, C)      as is
//   blocks.i.ln1.*     (C)       h.i.ln_1.*          (C)         as is
//   blocks.i.attn.qkv.weight     h.i.attn.c_attn.weight          (C, 3C): transposed
//                      (3C, C)   (its 3C outputs are [q | k | v], heads side by side, as ours)
//   blocks.i.attn.proj.weight    h.i.attn.c_proj.weight          (C, C): transposed
//   blocks.i.ln2.*               h.i.ln_2.*                      as is
//   blocks.i.mlp.fc.weight       h.i.mlp.c_fc.weight             (C, F): transposed
//   blocks.i.mlp.proj.weight     h.i.mlp.c_proj.weight           (F, C): transposed
//   ln_f.*                       ln_f.*                          as is
//   (tied: no lm_head)           lm_head.weight, if present, equal to wte
//
// Names may carry a "transformer." prefix (a file saved from the language
// model class rather than the bare one); the causal masks some files store
// (h.i.attn.bias, h.i.attn.masked_bias) are constants and are skipped; other
// tensors are ignored. The tensors may be F32, F16 or BF16 (widened to
// float32). The file does not say how many heads the model has: config.json
// beside it does, or else the four sizes (gpt2_presets.h) tell it from
// (L, C).
#pragma once

#include <string>

#include "chapters/07_gpt/model.h"
#include "common/safetensors.h"

namespace gpt {

// The Hugging Face name of our parameter `name` ("blocks.3.attn.qkv.weight"
// → "h.3.attn.c_attn.weight") and whether it is stored transposed.
struct HfName {
  std::string name;
  bool transposed;
};
HfName hf_name(const std::string& name);

// What config.json says, where the tensors cannot: 0 / negative = not known.
struct Gpt2FileConfig {
  int heads = 0;
  float layernorm_eps = -1.0f;
  std::string activation;  // "gelu_new" (tanh) or "gelu" (erf); empty: tanh
};

// Reads config.json ("n_head", "layer_norm_epsilon", "activation_function").
// Throws std::runtime_error naming the file for one that is not JSON or holds
// a value of the wrong kind.
Gpt2FileConfig read_gpt2_config_json(const std::string& path);

// The model in `file` (`name` names it in messages). The shapes come from
// the tensors; the head count from `given.heads`, else the preset of the
// file's (L, C). Throws SafetensorsError naming what is wrong: not GPT-2's
// layout (no wte.weight), a missing tensor, a wrong shape, a value not
// finite, an unknown head count.
GPTModel gpt2_from_safetensors(const Safetensors& file, const std::string& name,
                               const Gpt2FileConfig& given = {});

// What the config.json beside `model_path` (a model.safetensors) says;
// nothing known when there is none.
Gpt2FileConfig gpt2_config_beside(const std::string& model_path);

// Our model in Hugging Face's layout, F32, metadata {"format": "pt"}. Throws
// std::invalid_argument for a model GPT-2's layout cannot hold (post-LN
// blocks, sinusoidal positions).
Safetensors gpt2_to_safetensors(const GPTModel& model);
// Its config.json, in Hugging Face's keys.
std::string gpt2_config_json(const GPTConfig& config);

// Writes `directory`/model.safetensors and `directory`/config.json (the
// directory is created; each file atomically): the directory a PyTorch
// GPT-2 loads.
void write_gpt2_weights(const GPTModel& model, const std::string& directory);

}  // namespace gpt
