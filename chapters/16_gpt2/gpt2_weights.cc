// chapters/16_gpt2/gpt2_weights.cc — the name map, applied on the way in and on the way out.
#include "chapters/16_gpt2/gpt2_weights.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "chapters/16_gpt2/conv1d_layout.h"
#include "chapters/16_gpt2/gpt2_presets.h"

namespace gpt {
namespace {

// lesson: name_map
// Our block-relative names → theirs, and which are Conv1D matrices.
struct BlockName {
  const char* ours;
  const char* theirs;
  bool transposed;
};
constexpr BlockName kBlockNames[] = {
    {"ln1.weight", "ln_1.weight", false},
    {"ln1.bias", "ln_1.bias", false},
    {"attn.qkv.weight", "attn.c_attn.weight", true},
    {"attn.qkv.bias", "attn.c_attn.bias", false},
    {"attn.proj.weight", "attn.c_proj.weight", true},
    {"attn.proj.bias", "attn.c_proj.bias", false},
    {"ln2.weight", "ln_2.weight", false},
    {"ln2.bias", "ln_2.bias", false},
    {"mlp.fc.weight", "mlp.c_fc.weight", true},
    {"mlp.fc.bias", "mlp.c_fc.bias", false},
    {"mlp.proj.weight", "mlp.c_proj.weight", true},
    {"mlp.proj.bias", "mlp.c_proj.bias", false},
};
// end lesson

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + ")";
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw SafetensorsError("GPT-2 weights '" + file + "': " + what);
}

// The prefix the file's names carry: "" or "transformer.".
std::string find_prefix(const Safetensors& file, const std::string& name) {
  if (file.has("blocks.0.ln1.weight")) {
    fail(name, "this is one of this course's checkpoints, not GPT-2's published layout");
  }
  if (file.has("wte.weight")) return "";
  if (file.has("transformer.wte.weight")) return "transformer.";
  std::string some;
  const std::vector<std::string> names = file.names();
  for (size_t i = 0; i < names.size() && i < 4; ++i) some += (i ? ", " : "") + names[i];
  if (names.size() > 4) some += ", ...";
  fail(name, "not GPT-2's layout: it has no wte.weight (nor transformer.wte.weight); its "
             "tensors are " + (some.empty() ? std::string("none") : some));
}

// A tensor's 2-D shape, checked to be rank 2.
std::vector<int64_t> matrix_shape(const Safetensors& file, const std::string& tensor,
                                  const std::string& name) {
  if (!file.has(tensor)) fail(name, "missing tensor '" + tensor + "'");
  const std::vector<int64_t> shape = file.shape(tensor);
  if (shape.size() != 2 || shape[0] <= 0 || shape[1] <= 0) {
    fail(name, "tensor '" + tensor + "' has shape " + shape_text(shape) + ", expected a matrix");
  }
  return shape;
}

int int_dimension(int64_t d, const std::string& what, const std::string& name) {
  if (d > (1 << 24)) fail(name, what + " of " + std::to_string(d) + " is beyond any GPT-2");
  return static_cast<int>(d);
}

// The model's shape, from the tensors (and `given` for what they cannot say).
GPTConfig shape_from_tensors(const Safetensors& file, const std::string& prefix,
                             const std::string& name, const Gpt2FileConfig& given) {
  const std::vector<int64_t> wte = matrix_shape(file, prefix + "wte.weight", name);
  const std::vector<int64_t> wpe = matrix_shape(file, prefix + "wpe.weight", name);
  const int V = int_dimension(wte[0], "a vocabulary", name);
  const int C = int_dimension(wte[1], "a width", name);
  const int P = int_dimension(wpe[0], "a context", name);
  if (wpe[1] != C) {
    fail(name, "wpe.weight is " + shape_text(wpe) + " but wte.weight is " + shape_text(wte) +
                   ": both need C = " + std::to_string(C) + " columns");
  }
  int L = 0;
  while (file.has(prefix + "h." + std::to_string(L) + ".ln_1.weight")) ++L;
  if (L == 0) fail(name, "missing tensor '" + prefix + "h.0.ln_1.weight': the file has no blocks");
  const std::vector<int64_t> fc = matrix_shape(file, prefix + "h.0.mlp.c_fc.weight", name);
  const int F = int_dimension(fc[1], "a feed-forward width", name);

  int H = given.heads;
  if (H <= 0) {
    const Gpt2Preset* preset = gpt2_preset_for(L, C);
    if (!preset) {
      fail(name, "the file does not store the number of heads, and L = " + std::to_string(L) +
                     ", C = " + std::to_string(C) +
                     " is none of GPT-2's sizes: put its config.json (with n_head) beside it");
    }
    H = preset->config.heads;
  }
  GPTConfig c = gpt2_shaped(L, H, C, V, P);
  c.ff_dim = F;
  if (given.layernorm_eps > 0) c.layernorm_eps = given.layernorm_eps;
  if (given.activation == "gelu") {
    c.gelu = GeluForm::Erf;
  } else if (!given.activation.empty() && given.activation != "gelu_new" &&
             given.activation != "gelu_pytorch_tanh") {
    fail(name, "config.json's activation_function '" + given.activation +
                   "' is neither gelu_new (tanh) nor gelu (erf)");
  }
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    fail(name, std::string("not a model this course can run: ") + e.what());
  }
  return c;
}

// Copies file tensor `theirs` into our slot, transposing a Conv1D matrix.
void import_tensor(const Safetensors& file, const std::string& theirs, bool transposed,
                   const ParameterSlot& slot, float* out, const std::string& name) {
  if (!file.has(theirs)) fail(name, "missing tensor '" + theirs + "'");
  std::vector<int64_t> expected = slot.shape;
  if (transposed) std::swap(expected[0], expected[1]);
  const std::vector<int64_t> shape = file.shape(theirs);
  if (shape != expected) {
    fail(name, "tensor '" + theirs + "' has shape " + shape_text(shape) + " but this model needs " +
                   shape_text(expected) + (transposed ? " (Conv1D: (in, out))" : ""));
  }
  std::vector<float> values;
  try {
    values = file.widened_floats(theirs);
  } catch (const SafetensorsError& e) {
    fail(name, e.what());
  }
  for (float v : values) {
    if (!std::isfinite(v)) fail(name, "tensor '" + theirs + "' holds a value that is not finite");
  }
  if (transposed) {
    conv1d_to_linear(out, values.data(), static_cast<int>(shape[0]), static_cast<int>(shape[1]));
  } else {
    std::copy(values.begin(), values.end(), out);
  }
}

}  // namespace

HfName hf_name(const std::string& name) {
  const std::string blocks = "blocks.";
  if (name.rfind(blocks, 0) == 0) {
    const size_t dot = name.find('.', blocks.size());
    const std::string index = name.substr(blocks.size(), dot - blocks.size());
    const std::string rest = dot == std::string::npos ? "" : name.substr(dot + 1);
    for (const BlockName& b : kBlockNames) {
      if (rest == b.ours) return {"h." + index + "." + b.theirs, b.transposed};
    }
  } else if (name == "wte.weight" || name == "wpe.weight" || name == "ln_f.weight" ||
             name == "ln_f.bias" || name == "lm_head.weight") {
    return {name, false};
  }
  throw std::invalid_argument("GPT-2's layout has no tensor for our parameter '" + name + "'");
}

Gpt2FileConfig read_gpt2_config_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  Gpt2FileConfig config;
  try {
    const nlohmann::json json = nlohmann::json::parse(in);
    if (!json.is_object()) throw std::runtime_error("not a JSON object");
    if (json.contains("n_head")) config.heads = json.at("n_head").get<int>();
    if (json.contains("layer_norm_epsilon")) {
      config.layernorm_eps = json.at("layer_norm_epsilon").get<float>();
    }
    if (json.contains("activation_function")) {
      config.activation = json.at("activation_function").get<std::string>();
    }
    if (json.contains("model_type") && json.at("model_type").get<std::string>() != "gpt2") {
      throw std::runtime_error("model_type is '" + json.at("model_type").get<std::string>() +
                               "', not gpt2");
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("'" + path + "' is not a GPT-2 config.json: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("'" + path + "' is not a GPT-2 config.json: " + e.what());
  }
  if (config.heads < 0 || config.heads > 4096) {
    throw std::runtime_error("'" + path + "': n_head " + std::to_string(config.heads) +
                             " is out of range");
  }
  return config;
}

// lesson: import
GPTModel gpt2_from_safetensors(const Safetensors& file, const std::string& name,
                               const Gpt2FileConfig& given) {
  const std::string prefix = find_prefix(file, name);
  GPTConfig config = shape_from_tensors(file, prefix, name, given);
  // An output layer of its own, unless it is wte again (tied, as GPT-2's is).
  // (The language-model class stores it without the "transformer." prefix.)
  const std::string lm_head = file.has("lm_head.weight") ? "lm_head.weight" : "";
  if (!lm_head.empty()) {
    const std::vector<float> head = file.widened_floats(lm_head);
    const std::vector<float> wte = file.widened_floats(prefix + "wte.weight");
    config.tie_weights = head == wte;
  }
  GPTModel model(config);
  for (const ParameterSlot& slot : model.params.layout().slots()) {
    const HfName theirs = hf_name(slot.name);
    const std::string stored = slot.name == "lm_head.weight" ? lm_head : prefix + theirs.name;
    import_tensor(file, stored, theirs.transposed, slot, model.params.data() + slot.offset, name);
  }
  return model;
}
// end lesson

Gpt2FileConfig gpt2_config_beside(const std::string& model_path) {
  const std::filesystem::path config_json =
      std::filesystem::path(model_path).parent_path() / "config.json";
  std::error_code error;
  if (!std::filesystem::is_regular_file(config_json, error)) return {};
  return read_gpt2_config_json(config_json.string());
}

Safetensors gpt2_to_safetensors(const GPTModel& model) {
  const GPTConfig& c = model.config;
  if (c.norm != NormPlacement::Pre) {
    throw std::invalid_argument("GPT-2's layout holds pre-LN blocks only; this model is post-LN");
  }
  if (c.positions != Positions::Learned) {
    throw std::invalid_argument(
        "GPT-2's layout holds learned positions (wpe) only; this model's are sinusoidal");
  }
  Safetensors file;
  file.metadata["format"] = "pt";  // what PyTorch's writers record
  std::vector<float> conv1d;
  for (const ParameterSlot& slot : model.params.layout().slots()) {
    const HfName theirs = hf_name(slot.name);
    const float* values = model.params.data() + slot.offset;
    if (!theirs.transposed) {
      file.put_floats(theirs.name, slot.shape, values);
      continue;
    }
    const int out = static_cast<int>(slot.shape[0]), in = static_cast<int>(slot.shape[1]);
    conv1d.resize(slot.numel);
    linear_to_conv1d(conv1d.data(), values, in, out);
    file.put_floats(theirs.name, {in, out}, conv1d.data());
  }
  return file;
}

std::string gpt2_config_json(const GPTConfig& c) {
  nlohmann::ordered_json json = {
      {"architectures", {"GPT2LMHeadModel"}},
      {"model_type", "gpt2"},
      {"activation_function", c.gelu == GeluForm::Tanh ? "gelu_new" : "gelu"},
      {"vocab_size", c.vocab_size},
      {"n_positions", c.max_length},
      {"n_ctx", c.max_length},
      {"n_embd", c.embed_size},
      {"n_layer", c.num_layers},
      {"n_head", c.heads},
      {"n_inner", c.ff_dim == 4 * c.embed_size ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(c.ff_dim)},
      {"layer_norm_epsilon", c.layernorm_eps},
      {"tie_word_embeddings", c.tie_weights},
      {"bos_token_id", 50256},
      {"eos_token_id", 50256},
  };
  return json.dump(2) + "\n";
}

void write_gpt2_weights(const GPTModel& model, const std::string& directory) {
  const Safetensors file = gpt2_to_safetensors(model);  // refuses before anything is written
  std::filesystem::create_directories(directory);
  const std::filesystem::path dir(directory);
  file.write((dir / "model.safetensors").string());
  // config.json, atomically too: written beside, then renamed over.
  const std::filesystem::path config = dir / "config.json";
  const std::filesystem::path temporary = dir / "config.json.tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << gpt2_config_json(model.config);
    out.flush();
    if (!out) throw std::runtime_error("cannot write '" + temporary.string() + "'");
  }
  std::filesystem::rename(temporary, config);
}

}  // namespace gpt
