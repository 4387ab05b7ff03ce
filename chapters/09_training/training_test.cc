// chapters/09_training/training_test.cc — learning, checked step by step.
//
// The trajectory test replays tests/cases/ch09_training.py: the same initial
// parameters and 20 batches, AdamW (betas 0.9/0.95, eps 1e-8, decay on
// matrices only), gradient clipping, dropout 0. Every step's loss and gradient
// norm must agree with PyTorch's within 1e-6 + 1e-4·|torch|.
//
// The parameters after the 20th update agree within 1e-5 + 1e-4·|torch|: Adam
// divides each gradient by its own running magnitude, so where a gradient is
// tiny, float rounding differences between two correct implementations become
// visible in the update (the absolute slack is lr · 1e-3). One slice is
// special: the key bias. Adding b to every key adds q·b to all of a query's
// scores, which softmax ignores, so its true gradient is exactly 0 and what
// autograd or we compute is rounding noise, ~1e-10. Adam turns noise into
// steps of ±lr (m̂/√v̂ ≈ sign(g)), in directions that differ between the two
// implementations. We check that slice only for its bound: 20 steps move
// it by at most 20·lr.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/adamw.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/grad_clip.h"
#include "chapters/09_training/lr_schedule.h"
#include "chapters/09_training/trainer.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

const Tolerance kTrajectoryTol{1e-6, 1e-4};
const Tolerance kFinalParamsTol{1e-5, 1e-4};

class Trajectory : public ::testing::TestWithParam<const char*> {};

TEST_P(Trajectory, TwentyAdamWStepsMatchPyTorch) {
  const Safetensors ref = load_reference("09_training", GetParam());
  TrainingState state(GPTConfig::from_metadata(ref.metadata));
  state.model.params.load_from(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T"), steps = config_int(ref, "steps");
  const float lr = std::stof(ref.metadata.at("lr"));
  const float clip = std::stof(ref.metadata.at("grad_clip"));
  AdamWConfig adamw;
  adamw.weight_decay = std::stof(ref.metadata.at("weight_decay"));
  const std::vector<int32_t> tokens = ref.ints("in.tokens"), targets = ref.ints("in.targets");

  Trainer trainer(state.model.config, B, T);
  Rng rng(0);  // unused: dropout is 0
  std::vector<float> losses, norms;
  for (int s = 0; s < steps; ++s) {
    Batch batch{B, T,
                std::vector<int32_t>(tokens.begin() + s * B * T, tokens.begin() + (s + 1) * B * T),
                std::vector<int32_t>(targets.begin() + s * B * T, targets.begin() + (s + 1) * B * T)};
    const StepResult r = trainer.step(state, batch, lr, clip, adamw, rng);
    losses.push_back(r.loss);
    norms.push_back(static_cast<float>(r.grad_norm));
  }
  EXPECT_MATCHES_REFERENCE(losses, ref, "out.losses", kTrajectoryTol);
  EXPECT_MATCHES_REFERENCE(norms, ref, "out.grad_norms", kTrajectoryTol);
  const size_t C = state.model.config.embed_size;
  for (const ParameterSlot& slot : state.model.params.layout().slots()) {
    const float* p = state.model.params.data() + slot.offset;
    std::vector<float> ours(p, p + slot.numel);
    const std::string name = "out.final." + slot.name;
    if (slot.name.find("attn.qkv.bias") != std::string::npos) {
      // [q | k | v]: compare q and v; the key third only moves within its bound.
      const std::vector<float> initial = ref.floats(slot.name), theirs = ref.floats(name);
      for (size_t i = C; i < 2 * C; ++i) {
        EXPECT_LE(std::abs(ours[i] - initial[i]), steps * lr * 1.001f) << slot.name << "[" << i << "]";
        ours[i] = theirs[i];
      }
    }
    EXPECT_MATCHES_REFERENCE(ours, ref, name, kFinalParamsTol);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Trajectory,
                         ::testing::Values("trajectory_pre", "trajectory_post_tied"));

GPTConfig small_config(float dropout) {
  GPTConfig c;
  c.vocab_size = 11, c.embed_size = 16, c.max_length = 8, c.num_layers = 2, c.heads = 2;
  c.ff_dim = 32, c.dropout = dropout;
  return c;
}

std::vector<int32_t> counting_text(int n, int V) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 7 + i / 3) % V;
  return t;
}

// Runs `steps` steps from `state` with batches and dropout drawn from `rng`.
std::vector<float> run(TrainingState& state, Rng& rng, int steps) {
  const std::vector<int32_t> text = counting_text(500, 11);
  Trainer trainer(state.model.config, 4, 8);
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    const Batch batch = sample_batch(text, 4, 8, rng);
    losses.push_back(trainer.step(state, batch, 3e-3f, 1.0f, AdamWConfig{}, rng).loss);
  }
  return losses;
}

TEST(Checkpoint, ResumingGivesExactlyTheLossesOfAnUninterruptedRun) {
  const GPTConfig config = small_config(0.1f);  // dropout on: the Rng state matters
  TrainingState straight(config);
  Rng init(1);
  init_gpt2(straight.model, init);
  TrainingState first_half = straight;

  Rng rng_straight(42);
  const std::vector<float> expected = run(straight, rng_straight, 12);

  Rng rng(42);
  std::vector<float> losses = run(first_half, rng, 5);
  first_half.rng_state = rng.state();
  first_half.vocabulary = "abcdefghijk";
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/resume.safetensors";
  save_checkpoint(first_half, path);

  TrainingState resumed = load_checkpoint(path);
  EXPECT_EQ(resumed.step, 5);
  EXPECT_EQ(resumed.vocabulary, "abcdefghijk");
  Rng rng_resumed(0);
  rng_resumed.set_state(resumed.rng_state);
  const std::vector<float> rest = run(resumed, rng_resumed, 7);
  losses.insert(losses.end(), rest.begin(), rest.end());
  EXPECT_EQ(losses, expected);  // bit for bit
}

TEST(Checkpoint, SaveThenLoadGivesIdenticalLogitsAndOptimizerState) {
  TrainingState state(small_config(0.0f));
  Rng rng(3);
  init_gpt2(state.model, rng);
  run(state, rng, 3);  // non-zero moments
  state.vocabulary = "abcdefghijk";  // V = 11 characters
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/saved.safetensors";
  save_checkpoint(state, path);
  const TrainingState loaded = load_checkpoint(path);
  for (size_t i = 0; i < state.m.size(); ++i) {
    ASSERT_EQ(loaded.m.data()[i], state.m.data()[i]);
    ASSERT_EQ(loaded.v.data()[i], state.v.data()[i]);
  }
  const std::vector<int32_t> tokens = {1, 2, 3, 4, 5};
  GPTActivations a(state.model.config, 1, 5), b(state.model.config, 1, 5);
  gpt_forward(a, tokens.data(), state.model, 1, 5);
  gpt_forward(b, tokens.data(), loaded.model, 1, 5);
  for (int i = 0; i < 5 * 11; ++i) ASSERT_EQ(a.logits[i], b.logits[i]);
}

TEST(Checkpoint, AFileThatIsNotACheckpointIsAClearError) {
  GPTModel model(small_config(0.0f));
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/model_only.safetensors";
  model.to_safetensors().write(path);
  try {
    load_checkpoint(path);
    FAIL() << "a bare model file was accepted as a checkpoint";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("format"), std::string::npos) << e.what();
  }
}

TEST(Training, OverfitsASingleBatch) {
  TrainingState state(small_config(0.0f));
  Rng rng(5);
  init_gpt2(state.model, rng);
  const Batch batch = sample_batch(counting_text(200, 11), 4, 8, rng);
  Trainer trainer(state.model.config, 4, 8);
  float loss = 0;
  for (int s = 0; s < 300; ++s) loss = trainer.step(state, batch, 1e-2f, 1.0f, AdamWConfig{}, rng).loss;
  std::cout << "[ overfit  ] loss after 300 steps on one batch: " << loss << std::endl;
  EXPECT_LT(loss, 0.05f);  // from log(11) = 2.4
}

TEST(AdamW, FirstStepMovesEachWeightByLrTimesItsSign) {
  // At t = 1, m̂ = g and v̂ = g², so the Adam part is g / (|g| + eps) ≈ sign(g).
  float p[3] = {1.0f, -2.0f, 0.5f};
  const float g[3] = {0.3f, -0.001f, 0.0f};
  float m[3] = {}, v[3] = {};
  AdamWConfig c;
  adamw_update(p, g, m, v, 3, 1, 0.1f, c, 0.0f);
  EXPECT_NEAR(p[0], 0.9f, 1e-6);
  EXPECT_NEAR(p[1], -1.9f, 1e-5);
  EXPECT_FLOAT_EQ(p[2], 0.5f);  // no gradient, no decay: no move
  float q[1] = {2.0f};
  const float zero[1] = {0.0f};
  float mq[1] = {}, vq[1] = {};
  adamw_update(q, zero, mq, vq, 1, 1, 0.1f, c, 0.5f);
  EXPECT_FLOAT_EQ(q[0], 2.0f - 0.1f * 0.5f * 2.0f);  // decoupled decay: θ −= lr·λ·θ
}

TEST(AdamW, DecaysMatricesButNotBiasesOrLayerNorms) {
  const ParameterLayout layout(small_config(0.0f));
  EXPECT_TRUE(decays(layout.find("wte.weight")));
  EXPECT_TRUE(decays(layout.find("blocks.0.attn.qkv.weight")));
  EXPECT_FALSE(decays(layout.find("blocks.0.attn.qkv.bias")));
  EXPECT_FALSE(decays(layout.find("blocks.1.ln2.weight")));
}

TEST(GradClip, ScalesToMaxNormOnlyWhenAbove) {
  float g[2] = {3.0f, 4.0f};  // norm 5
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 2, 1.0f), 5.0);
  EXPECT_NEAR(global_norm(g, 2), 1.0, 1e-6);
  EXPECT_NEAR(g[0] / g[1], 0.75, 1e-6);  // direction kept
  float h[2] = {0.3f, 0.4f};
  clip_grad_norm(h, 2, 1.0f);
  EXPECT_FLOAT_EQ(h[0], 0.3f);  // below the limit: untouched
}

TEST(LrSchedule, WarmsUpThenFollowsACosineToTheMinimum) {
  LrSchedule s;
  s.max_lr = 1.0f, s.min_lr = 0.1f, s.warmup_steps = 10, s.total_steps = 110;
  EXPECT_FLOAT_EQ(s.at(0), 0.1f);
  EXPECT_FLOAT_EQ(s.at(9), 1.0f);
  EXPECT_FLOAT_EQ(s.at(10), 1.0f);
  EXPECT_NEAR(s.at(60), 0.55f, 1e-6);  // halfway: the mean of max and min
  EXPECT_FLOAT_EQ(s.at(110), 0.1f);
  LrSchedule constant;
  constant.max_lr = 3e-4f;
  EXPECT_FLOAT_EQ(constant.at(12345), 3e-4f);
}

}  // namespace
}  // namespace gpt
