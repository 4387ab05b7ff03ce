// chapters/16_gpt2/gpt2_weights_test.cc — GPT-2's layout read and written, against PyTorch.
//
// The reference cases (tests/cases/ch16_gpt2.py) are tiny GPT-2-shaped
// models stored exactly as Hugging Face stores GPT-2 — its names, Conv1D's
// (in, out) matrices — with the logits PyTorch's GPT-2 (tests/reference/gpt2.py)
// computes from them. Importing a case and running chapter 07's forward pass
// must give those logits within 1e-4, whether the file is F32, F16 or BF16,
// with or without the "transformer." prefix, masks and an lm_head. Exporting
// must give back the same file, and every way a file can be wrong must end in
// a message that names the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/16_gpt2/conv1d_layout.h"
#include "chapters/16_gpt2/gpt2_presets.h"
#include "chapters/16_gpt2/gpt2_weights.h"
#include "chapters/16_gpt2/model_files.h"
#include "common/random.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using ::testing::HasSubstr;
using testing::message_of;
using testing::config_int;
using testing::load_reference;

// Our float32 forward pass against PyTorch's float64 one on the same (rounded)
// weights: the tiny model's logits are O(1), float32's sums over C = 32 and
// F = 128 terms are off by ~1e-6. 1e-4 is the issue's bound, with room.
constexpr Tolerance kLogitTol{1e-4, 1e-4};


std::string temp_dir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

class ReferenceCase : public ::testing::TestWithParam<const char*> {};

// lesson: parity
TEST_P(ReferenceCase, ImportedModelGivesPyTorchsLogits) {
  const Safetensors ref = load_reference("16_gpt2", GetParam());
  Gpt2FileConfig given;
  given.heads = config_int(ref, "n_head");  // what config.json would say
  const GPTModel model = gpt2_from_safetensors(ref, GetParam(), given);
  EXPECT_EQ(model.config.num_layers, config_int(ref, "n_layer"));
  EXPECT_EQ(model.config.embed_size, config_int(ref, "n_embd"));
  EXPECT_EQ(model.config.vocab_size, config_int(ref, "vocab_size"));
  EXPECT_EQ(model.config.max_length, config_int(ref, "n_positions"));
  EXPECT_TRUE(model.config.tie_weights);
  EXPECT_EQ(model.config.gelu, GeluForm::Tanh);

  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const std::vector<int32_t> tokens = ref.ints("in.tokens");  // (B, T)
  GPTActivations acts(model.config, B, T);
  gpt_forward(acts, tokens.data(), model, B, T);
  const std::vector<float> logits(acts.logits, acts.logits + int64_t(B) * T * model.config.vocab_size);
  EXPECT_PASSES(testing::matches_reference(logits, ref, "out.logits", kLogitTol,
                                           ElementContext{{"b", "t", "v"}, nullptr}));
}
// end lesson

INSTANTIATE_TEST_SUITE_P(Gpt2, ReferenceCase,
                         ::testing::Values("tiny_f32", "tiny_prefixed", "tiny_f16", "tiny_bf16"));

// A GPT-2-shaped model with random weights everywhere (biases and LayerNorms too).
GPTModel random_model(bool tied, uint64_t seed) {
  GPTConfig c = gpt2_shaped(2, 2, 16, 37, 12);
  c.tie_weights = tied;
  GPTModel model(c);
  Rng rng(seed);
  for (size_t i = 0; i < model.params.size(); ++i) model.params.data()[i] = rng.normal(0.0f, 0.1f);
  return model;
}

TEST(Gpt2Weights, ExportThenImportGivesTheSameBits) {
  for (bool tied : {true, false}) {
    const GPTModel model = random_model(tied, 7);
    const Safetensors file = Safetensors::parse(gpt2_to_safetensors(model).serialize(), "export");
    EXPECT_EQ(file.has("lm_head.weight"), !tied);
    EXPECT_EQ(file.shape("h.1.attn.c_attn.weight"), (std::vector<int64_t>{16, 48}));  // (C, 3C)
    EXPECT_EQ(file.shape("h.0.mlp.c_proj.weight"), (std::vector<int64_t>{64, 16}));   // (F, C)
    Gpt2FileConfig given;
    given.heads = 2;
    const GPTModel back = gpt2_from_safetensors(file, "export", given);
    EXPECT_EQ(back.config.tie_weights, tied);
    ASSERT_EQ(back.params.size(), model.params.size());
    EXPECT_TRUE(std::equal(model.params.data(), model.params.data() + model.params.size(),
                           back.params.data()))
        << "tied " << tied;
  }
}

// The exported names and shapes are the reference case's, tensor for tensor.
TEST(Gpt2Weights, ExportHasThePublishedNamesAndShapes) {
  const Safetensors ref = load_reference("16_gpt2", "tiny_f32");
  Gpt2FileConfig given;
  given.heads = config_int(ref, "n_head");
  const Safetensors exported = gpt2_to_safetensors(gpt2_from_safetensors(ref, "tiny_f32", given));
  std::set<std::string> published;
  for (const std::string& name : ref.names()) {
    if (name.rfind("in.", 0) != 0 && name.rfind("out.", 0) != 0) published.insert(name);
  }
  const std::vector<std::string> names = exported.names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), published);
  for (const std::string& name : names) {
    EXPECT_EQ(exported.shape(name), ref.shape(name)) << name;
    EXPECT_EQ(exported.floats(name), ref.floats(name)) << name;
  }
}

// The exercise, on a matrix small enough to read: (in 2, out 3) → (out 3, in 2).
TEST(Conv1dLayout, TransposesInOutToOutIn) {
  const float conv1d[] = {1, 2, 3,   // input 0's weights to outputs 0, 1, 2
                          4, 5, 6};  // input 1's
  float linear[6] = {};
  conv1d_to_linear(linear, conv1d, 2, 3);
  EXPECT_THAT(linear, ::testing::ElementsAre(1, 4, 2, 5, 3, 6));
  float back[6] = {};
  linear_to_conv1d(back, linear, 2, 3);
  EXPECT_THAT(back, ::testing::ElementsAreArray(conv1d));
}

TEST(Gpt2Weights, NameMap) {
  EXPECT_EQ(hf_name("blocks.3.attn.qkv.weight").name, "h.3.attn.c_attn.weight");
  EXPECT_TRUE(hf_name("blocks.3.attn.qkv.weight").transposed);
  EXPECT_EQ(hf_name("blocks.11.ln2.bias").name, "h.11.ln_2.bias");
  EXPECT_FALSE(hf_name("blocks.11.mlp.fc.bias").transposed);
  EXPECT_EQ(hf_name("wte.weight").name, "wte.weight");
  EXPECT_THAT(message_of<std::invalid_argument>([] { hf_name("blocks.0.attn.rotary"); }),
              HasSubstr("'blocks.0.attn.rotary'"));
}

// GPT-2's published sizes, counted by our parameter table (tied: wte once).
TEST(Gpt2Presets, ParameterCountsAreThePublishedOnes) {
  const std::map<std::string, size_t> published = {{"gpt2", 124439808},
                                                   {"gpt2-medium", 354823168},
                                                   {"gpt2-large", 774030080},
                                                   {"gpt2-xl", 1557611200}};
  for (const Gpt2Preset& preset : gpt2_presets()) {
    EXPECT_EQ(ParameterLayout(preset.config).total(), published.at(preset.name)) << preset.name;
    EXPECT_EQ(preset.config.head_size(), 64) << preset.name;
    EXPECT_EQ(gpt2_preset_for(preset.config.num_layers, preset.config.embed_size), &preset);
  }
  EXPECT_THAT(message_of<std::invalid_argument>([] { gpt2_preset("gpt3"); }),
              HasSubstr("gpt2, gpt2-medium, gpt2-large, gpt2-xl"));
}

// The tiny case's file with one tensor left out, or replaced.
Safetensors edited(const Safetensors& from, const std::string& drop,
                   const std::string& reshape = "", std::vector<int64_t> shape = {}) {
  Safetensors file;
  for (const std::string& name : from.names()) {
    if (name == drop) continue;
    std::vector<float> values = from.floats(name);
    std::vector<int64_t> s = from.shape(name);
    if (name == reshape) {
      s = shape;
      int64_t n = 1;
      for (int64_t d : s) n *= d;
      values.assign(n, 0.5f);
    }
    file.put_floats(name, s, values.data());
  }
  return file;
}

Safetensors exported_tiny() { return gpt2_to_safetensors(random_model(true, 3)); }
Gpt2FileConfig two_heads() {
  Gpt2FileConfig c;
  c.heads = 2;
  return c;
}

TEST(Gpt2WeightsErrors, MissingTensorIsNamed) {
  const Safetensors file = edited(exported_tiny(), "h.1.mlp.c_proj.bias");
  EXPECT_THAT(message_of<SafetensorsError>([&] { gpt2_from_safetensors(file, "f.st", two_heads()); }),
              HasSubstr("missing tensor 'h.1.mlp.c_proj.bias'"));
}

TEST(Gpt2WeightsErrors, WrongShapeIsNamedWithBothShapes) {
  // Stored the way our layout stores it, (3C, C), instead of Conv1D's (C, 3C).
  const Safetensors file = edited(exported_tiny(), "", "h.0.attn.c_attn.weight", {48, 16});
  const std::string message =
      message_of<SafetensorsError>([&] { gpt2_from_safetensors(file, "f.st", two_heads()); });
  EXPECT_THAT(message, HasSubstr("'h.0.attn.c_attn.weight' has shape (48, 16)"));
  EXPECT_THAT(message, HasSubstr("(16, 48) (Conv1D: (in, out))"));
}

TEST(Gpt2WeightsErrors, AnotherArchitectureIsRefused) {
  Safetensors llama;
  const float one[] = {1.0f};
  llama.put_floats("model.embed_tokens.weight", {1, 1}, one);
  llama.put_floats("model.layers.0.self_attn.q_proj.weight", {1, 1}, one);
  const std::string message =
      message_of<SafetensorsError>([&] { gpt2_from_safetensors(llama, "llama.st"); });
  EXPECT_THAT(message, HasSubstr("not GPT-2's layout"));
  EXPECT_THAT(message, HasSubstr("model.embed_tokens.weight"));
}

TEST(Gpt2WeightsErrors, OurCheckpointIsNamedAsSuch) {
  const Safetensors ours = random_model(true, 1).to_safetensors();
  EXPECT_THAT(message_of<SafetensorsError>([&] { gpt2_from_safetensors(ours, "ckpt.st"); }),
              HasSubstr("one of this course's checkpoints"));
}

TEST(Gpt2WeightsErrors, UnknownHeadCountAsksForConfigJson) {
  EXPECT_THAT(message_of<SafetensorsError>([&] { gpt2_from_safetensors(exported_tiny(), "f.st"); }),
              HasSubstr("put its config.json (with n_head) beside it"));
}

TEST(Gpt2WeightsErrors, ValuesMustBeFinite) {
  Safetensors file = edited(exported_tiny(), "ln_f.bias");
  const float bad[16] = {0, 0, std::nanf("")};
  file.put_floats("ln_f.bias", {16}, bad);
  EXPECT_THAT(message_of<SafetensorsError>([&] { gpt2_from_safetensors(file, "f.st", two_heads()); }),
              HasSubstr("'ln_f.bias' holds a value that is not finite"));
}

TEST(Gpt2WeightsErrors, ExportRefusesWhatTheLayoutCannotHold) {
  GPTConfig c = gpt2_shaped(1, 2, 16, 37, 12);
  c.norm = NormPlacement::Post;
  EXPECT_THAT(message_of<std::invalid_argument>([&] { gpt2_to_safetensors(GPTModel(c)); }),
              HasSubstr("pre-LN"));
  c = gpt2_shaped(1, 2, 16, 37, 12);
  c.positions = Positions::Sinusoidal;
  EXPECT_THAT(message_of<std::invalid_argument>([&] { gpt2_to_safetensors(GPTModel(c)); }),
              HasSubstr("sinusoidal"));
}

// A directory as `convert` and Hugging Face write it: config.json says the
// heads (and its activation), model.safetensors the rest.
TEST(Gpt2Weights, DirectoryWithConfigJsonReadsBack) {
  const GPTModel model = random_model(true, 11);
  const std::string dir = temp_dir() + "/gpt2_dir";
  write_gpt2_weights(model, dir);
  const TrainingState state = read_model_file(dir);  // the directory stands for its model.safetensors
  EXPECT_EQ(state.model.config.heads, 2);
  EXPECT_EQ(state.tokenizer, "gpt2");
  EXPECT_TRUE(std::equal(model.params.data(), model.params.data() + model.params.size(),
                         state.model.params.data()));
  std::ofstream(dir + "/config.json") << R"({"model_type": "llama", "n_head": 2})";
  EXPECT_THAT(message_of<std::runtime_error>([&] { read_model_file(dir); }),
              HasSubstr("model_type is 'llama', not gpt2"));
  std::ofstream(dir + "/config.json") << R"({"n_head": "two"})";
  EXPECT_THAT(message_of<std::runtime_error>([&] { read_model_file(dir); }),
              HasSubstr("not a GPT-2 config.json"));
}

// A checkpoint of this course reads as a checkpoint.
TEST(Gpt2Weights, ModelFileReadsOurCheckpointsToo) {
  TrainingState state(random_model(true, 5).config);
  state.model = random_model(true, 5);
  state.step = 42;
  state.vocabulary = "abcdefghijklmnopqrstuvwxyz0123456789.";  // 37 characters, V = 37
  const std::string path = temp_dir() + "/ckpt.safetensors";
  save_checkpoint(state, path);
  const TrainingState back = read_model_file(path);
  EXPECT_EQ(back.step, 42);
  EXPECT_EQ(back.tokenizer, "char");
}

}  // namespace
}  // namespace gpt
