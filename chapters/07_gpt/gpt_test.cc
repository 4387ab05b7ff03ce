// chapters/07_gpt/gpt_test.cc — the whole model against PyTorch's.
//
// Each case in tests/references/07_gpt/ holds a GPT's parameters (GPT-2's
// initialisation plus noise, so that biases and LayerNorm weights matter),
// token ids, targets, and PyTorch's logits and mean loss
// (tests/cases/ch07_gpt.py), computed in float64 and rounded once: the exact
// answers. Tolerances, as the course promises for the whole model: logits
// |ours − torch| <= 1e-5 + 1e-4·|torch|, loss 1e-6 + 1e-5·|torch|. Two blocks
// and an output projection are ~25 ops deep, each a few u = 2^-24 relative
// or, where a sum of C to F terms cancels, ~1e-7 absolute: the logits' errors
// add up to ~1e-6 (measured 1.8e-7), the loss, a mean of log-sum-exps, to a
// few u relative (measured 1.2e-7 relative). Both bounds leave 10× or more.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/07_gpt/model.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

const Tolerance kLogitsTol{1e-5, 1e-4};
const Tolerance kLossTol{1e-6, 1e-5};

class GPTReference : public ::testing::TestWithParam<const char*> {};

TEST_P(GPTReference, LogitsAndLossMatchPyTorch) {
  const Safetensors ref = load_reference("07_gpt", GetParam());
  const GPTModel model = GPTModel::from_safetensors(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  GPTActivations acts(model.config, B, T);
  const float loss = gpt_forward_loss(acts, ref.ints("in.tokens").data(),
                                      ref.ints("in.targets").data(), model, B, T);
  const size_t V = model.config.vocab_size;
  // For failure messages: the logits at (b, t) come after token in.tokens[b, t].
  const std::vector<int32_t> tokens = ref.ints("in.tokens");
  const DescribeInputs token_at = [tokens, V](int64_t flat_index, const std::vector<int64_t>&) {
    return "after token " + std::to_string(tokens[flat_index / V]);
  };
  testing::ReferenceChecks checks(ref);
  checks.add(std::vector<float>(acts.logits, acts.logits + B * T * V), "out.logits", kLogitsTol,
             {{"b", "t", "vocab"}, token_at});
  checks.add(std::vector<float>{loss}, "out.loss", kLossTol);
  EXPECT_PASSES(checks.all_match());
}

TEST_P(GPTReference, ParameterCountMatchesPyTorch) {
  const Safetensors ref = load_reference("07_gpt", GetParam());
  const GPTModel model = GPTModel::from_safetensors(ref);
  EXPECT_EQ(model.num_parameters(), static_cast<size_t>(config_int(ref, "num_parameters")));
}

INSTANTIATE_TEST_SUITE_P(Cases, GPTReference,
                         ::testing::Values("pre_learned", "pre_sinusoidal", "post_learned",
                                           "post_sinusoidal", "tied_tanh", "awkward"));

// A two-layer model with GPT-2's initialisation, V = 20, C = 16, T up to 8.
GPTModel two_layer_model(uint64_t seed) {
  GPTConfig config;
  config.vocab_size = 20, config.embed_size = 16, config.max_length = 8;
  config.num_layers = 2, config.heads = 2, config.ff_dim = 32;
  GPTModel model(config);
  Rng rng(seed);
  init_gpt2(model, rng);
  return model;
}

TEST(GPTModel, SaveAndLoadGiveIdenticalLogits) {
  const GPTModel model = two_layer_model(5);
  const GPTConfig& config = model.config;
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/model.safetensors";
  model.to_safetensors().write(path);
  const GPTModel loaded = GPTModel::from_safetensors(Safetensors::read(path));

  const std::vector<int32_t> tokens = {1, 5, 7, 19, 0, 3};
  GPTActivations a(config, 1, 6), b(config, 1, 6);
  gpt_forward(a, tokens.data(), model, 1, 6);
  gpt_forward(b, tokens.data(), loaded, 1, 6);
  for (int i = 0; i < 6 * 20; ++i) ASSERT_EQ(a.logits[i], b.logits[i]) << "logit " << i;
}

TEST(GPTModel, SeedConfigurationHasTheExpectedParameterCount) {
  // Seed: V=65, C=256, P=64, L=6, H=8, F=1024, learned positions, untied.
  // A block: ln1, qkv, proj, ln2, fc, proj, each weight plus bias.
  const int64_t V = 65, C = 256, P = 64, L = 6, F = 1024;
  const int64_t block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (F * C + F) + (C * F + C);
  const int64_t expected = V * C + P * C + L * block + 2 * C + V * C;
  EXPECT_EQ(GPTModel(GPTConfig{}).num_parameters(), static_cast<size_t>(expected));
  std::cout << "[ params   ] seed configuration: " << expected << " parameters" << std::endl;
}

TEST(GPTModel, Gpt2InitialisationHasTheStatedSpread) {
  GPTConfig config;  // the seed configuration, L = 6
  GPTModel model(config);
  Rng rng(1);
  init_gpt2(model, rng);
  const auto stddev = [&](const std::string& name) {
    const ParameterSlot& s = model.params.layout().find(name);
    double sum2 = 0;
    for (size_t i = 0; i < s.numel; ++i) sum2 += double(model.params.data()[s.offset + i]) * model.params.data()[s.offset + i];
    return std::sqrt(sum2 / s.numel);
  };
  EXPECT_NEAR(stddev("blocks.0.attn.qkv.weight"), 0.02, 0.0005);
  EXPECT_NEAR(stddev("blocks.3.mlp.proj.weight"), 0.02 / std::sqrt(12.0), 0.0003);
  EXPECT_EQ(model.params["blocks.0.ln1.weight"][0], 1.0f);
  EXPECT_EQ(model.params["blocks.0.attn.qkv.bias"][0], 0.0f);
}

TEST(GPTModel, UntrainedLossIsNearLogV) {
  GPTConfig config;
  config.num_layers = 2;
  GPTModel model(config);
  Rng rng(2);
  init_gpt2(model, rng);
  const int B = 4, T = 16;
  std::vector<int32_t> tokens(B * T), targets(B * T);
  for (int i = 0; i < B * T; ++i) tokens[i] = static_cast<int32_t>(rng.below(65));
  for (int i = 0; i < B * T; ++i) targets[i] = static_cast<int32_t>(rng.below(65));
  GPTActivations acts(config, B, T);
  // Small random weights give nearly uniform predictions: loss ≈ log 65 = 4.17.
  EXPECT_NEAR(gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T), std::log(65.0), 0.1);
}

TEST(GPTConfig, BadConfigurationsAreClearErrors) {
  GPTConfig c;
  c.heads = 5;
  try {
    c.validate();
    FAIL() << "heads=5, embed_size=256 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "heads (5) must divide embed_size (256)");
  }
  c = GPTConfig{};
  c.num_layers = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = GPTConfig{};
  c.dropout = 1.0f;
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(GPTForward, SequenceLongerThanMaxLengthIsAClearError) {
  GPTConfig config;
  config.max_length = 4, config.num_layers = 1;
  GPTModel model(config);
  GPTActivations acts(config, 1, 4);
  const std::vector<int32_t> tokens(5, 0);
  EXPECT_THROW(gpt_forward(acts, tokens.data(), model, 1, 5), std::invalid_argument);
}

// LogitRows::None, for an engine whose loss head makes its own logits
// (chapter 17): the same ln_f as All, bit for bit, and the logits untouched.
TEST(GPTForward, LogitRowsNoneStopsAtLnF) {
  const GPTModel model = two_layer_model(6);
  const GPTConfig& config = model.config;
  const int B = 2, T = 5;
  const std::vector<int32_t> tokens = {1, 5, 7, 19, 0, 3, 3, 8, 2, 11};
  GPTActivations acts(config, B, T);
  gpt_forward(acts, tokens.data(), model, B, T);  // LogitRows::All
  const std::vector<float> ln_f(acts.ln_f, acts.ln_f + B * T * config.embed_size);
  std::fill(acts.ln_f, acts.ln_f + ln_f.size(), 0.0f);
  std::fill(acts.logits, acts.logits + B * T * config.vocab_size, -7.0f);
  PlainModelOps ops;
  gpt_forward_tokens(ops, acts, model.weights(), config, B, T, 0, Mode::Eval, LogitRows::None);
  for (size_t i = 0; i < ln_f.size(); ++i) ASSERT_EQ(acts.ln_f[i], ln_f[i]) << "ln_f " << i;
  for (int i = 0; i < B * T * config.vocab_size; ++i) {
    ASSERT_EQ(acts.logits[i], -7.0f) << "logit " << i << " written";
  }
}

// The stream after block l is the block's own last tensor, so that the block
// copies nothing: residual2 for pre-LN, ln2 for post-LN.
TEST(GPTActivations, EachBlockOutputIsTheBlocksLastTensor) {
  for (NormPlacement norm : {NormPlacement::Pre, NormPlacement::Post}) {
    GPTConfig config;
    config.num_layers = 3, config.norm = norm;
    GPTActivations acts(config, 2, 8);
    ASSERT_EQ(acts.block_out.size(), 3u);
    for (int l = 0; l < 3; ++l) {
      const BlockActivations& a = acts.blocks[l];
      EXPECT_EQ(acts.block_out[l], norm == NormPlacement::Pre ? a.residual2 : a.ln2)
          << "layer " << l << (norm == NormPlacement::Pre ? ", pre-LN" : ", post-LN");
    }
  }
}

TEST(CrossEntropy, UniformLogitsGiveLogV) {
  const int N = 3, V = 7;
  std::vector<float> logits(N * V, 0.5f), probs(N * V), losses(N);
  const std::vector<int32_t> targets = {0, 3, 6};
  // exp(0) = 1 and 7·1 are exact: only log 7 (a few ulps of 1.95) and
  // 1/7 (u/2 of 0.14) round.
  EXPECT_NEAR(cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), N, V),
              std::log(7.0), 1e-6);
  EXPECT_NEAR(probs[4], 1.0 / 7, 1e-7);
}

TEST(CrossEntropy, HugeLogitsDoNotOverflow) {
  const std::vector<float> logits = {1000.0f, 0.0f};
  std::vector<float> probs(2), losses(1);
  const std::vector<int32_t> target = {1};
  const float loss = cross_entropy_forward(losses.data(), probs.data(), logits.data(), target.data(), 1, 2);
  EXPECT_NEAR(loss, 1000.0f, 1e-3);  // float's spacing at 1000 is 6e-5
  EXPECT_TRUE(std::isfinite(loss));
}

}  // namespace
}  // namespace gpt
