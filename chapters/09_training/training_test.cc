// chapters/09_training/training_test.cc — learning, checked step by step.
//
// The trajectory test replays tests/cases/ch09_training.py: the same initial
// parameters and 20 batches, AdamW (betas 0.9/0.95, eps 1e-8, decay on
// matrices only), gradient clipping, dropout 0. The reference trains in
// float64 and rounds once: it is the exact trajectory, and what separates us
// from it is our own float32 rounding, carried through 20 steps.
//
// Every step's loss and gradient norm must agree within 1e-6 + 1e-4·|x|.
// A loss is a mean over the batch of a log-sum-exp over V logits, a norm a
// sum of squares of every gradient: both average away elementwise rounding.
// Our gradients are off by ~60u of their tensor's size (chapter 08's test:
// at most 3.5e-6 of the RMS), and the weights they are computed at drift by
// about as much per step; measured, the worst of 20 steps is 4.3e-6
// relative. rtol 1e-4 is 20 times that.
//
// The parameters after step 20 are compared tensor by tensor, in norm:
// |ours − exact| <= 1e-4 · |exact − initial|, relative to how far the exact
// run moved them. An Adam step is a ratio of running averages of gradients
// that are ~ε = 3.5e-6 of their size off, so it is ~2ε off, and 20 steps
// (each also taken from slightly different weights) a few times 1e-5 at
// most. A wrong update changes every element's steps: measured, leaving out
// the weight decay puts the ratio at 2.7e-3 or more, leaving out v's bias
// correction at 0.94.
// Not element by element: Adam divides each gradient by its own running
// magnitude √v̂, so where a gradient is tiny, its rounding error becomes a
// visible part of the step. A token whose first two occurrences nearly
// cancel (a gradient of 8e-7 summed from terms of 1e-3) takes a first step
// whose size depends on its gradient through eps/(√v̂ + eps)², ~160 times its
// rounding error: that element of wte ends 5e-6 to 1.7e-5 away from the
// exact run, depending on the build's instruction set, more than an elementwise
// 1e-5 + 1e-4·|x| allows. In the norm it weighs what it is, one of 2080.
//
// One slice is special: the key bias. Adding b to every key adds q·b to all
// of a query's scores, which softmax ignores, so its true gradient is exactly
// 0: the exact run's gradient is ~1e-19, far below eps, and it barely moves
// (~1e-12). Ours is float32 rounding noise, and Adam turns noise that passes
// eps into steps of up to lr (m̂/√v̂ ≈ sign(g)). We check that slice against
// its bound: |m̂/√v̂| <= A_t (adam_step_bound), so 20 steps move it by at most
// lr · Σ_t A_t.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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
const double kFinalParamsTol = 1e-4;  // of |exact − initial|, per tensor, in norm

// The most one AdamW step can move a parameter, in units of lr, at step t:
// m̂/√v̂ = c1·Σ_k β1^k g_k / √(c2·Σ_k β2^k g_k²) with c1 = (1 − β1)/(1 − β1^t),
// c2 = (1 − β2)/(1 − β2^t), and by Cauchy–Schwarz
// |Σ_k β1^k g_k| <= √(Σ_k (β1²/β2)^k) · √(Σ_k β2^k g_k²)   (k < t), so
// |m̂/√v̂| <= c1/√c2 · √(Σ_k (β1²/β2)^k) = 1 at t = 1, ~1.04 at t = 20.
double adam_step_bound(const AdamWConfig& c, int t) {
  double sum = 0;
  for (int k = 0; k < t; ++k) sum += std::pow(double(c.beta1) * c.beta1 / c.beta2, k);
  const double c1 = (1 - c.beta1) / (1 - std::pow(double(c.beta1), t));
  const double c2 = (1 - c.beta2) / (1 - std::pow(double(c.beta2), t));
  return c1 / std::sqrt(c2) * std::sqrt(sum);
}

// The names of a parameter's dimensions, for messages: a table's rows are
// tokens or positions, a matrix's are its outputs.
std::vector<std::string> parameter_dims(const ParameterSlot& slot) {
  if (slot.name == "wte.weight" || slot.name == "lm_head.weight") return {"token", "c"};
  if (slot.name == "wpe.weight") return {"position", "c"};
  if (slot.shape.size() == 2) return {"out", "in"};
  return {};
}

// |ours − exact| against |exact − initial| over one tensor, with its worst
// element. Printed when it passes; when it fails, the line is the message.
::testing::AssertionResult moved_like_the_exact_run(const ParameterSlot& slot,
                                                    const std::vector<float>& ours,
                                                    const std::vector<float>& exact,
                                                    const std::vector<float>& initial) {
  double error2 = 0, moved2 = 0, worst = -1;
  size_t w = 0;
  bool never_moved = true;  // ours still the initial values
  for (size_t i = 0; i < ours.size(); ++i) {
    const double e = double(ours[i]) - exact[i], m = double(exact[i]) - initial[i];
    error2 += e * e, moved2 += m * m;
    if (std::abs(e) > worst) worst = std::abs(e), w = i;
    never_moved = never_moved && ours[i] == initial[i];
  }
  const double ratio = moved2 > 0 ? std::sqrt(error2 / moved2) : (error2 > 0 ? INFINITY : 0.0);
  char line[400];
  std::snprintf(line, sizeof line,
                "%s: %s, |ours - exact| = %.3g of |exact - initial| = %.3g (allowed %.0e); "
                "worst at %s: ours %.9g, exact %.9g, initial %.9g",
                slot.name.c_str(), ratio <= kFinalParamsTol ? "ok" : "MISMATCH", ratio,
                std::sqrt(moved2), kFinalParamsTol,
                position_of(int64_t(w), slot.shape, parameter_dims(slot)).c_str(), ours[w],
                exact[w], initial[w]);
  if (ratio > kFinalParamsTol) {
    return ::testing::AssertionFailure()
           << line << (never_moved ? " (ours never moved from the initial values)" : "");
  }
  std::cout << "[ final    ] " << line << std::endl;
  return ::testing::AssertionSuccess();
}

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
  testing::ReferenceChecks trajectory(ref);
  trajectory.add(losses, "out.losses", kTrajectoryTol, {{"step"}, {}});
  trajectory.add(norms, "out.grad_norms", kTrajectoryTol, {{"step"}, {}});
  EXPECT_PASSES(trajectory.all_match());
  const size_t C = state.model.config.embed_size;
  double key_bias_bound = 0;  // in parameter units, plus the rounding of the updates
  for (int t = 1; t <= steps; ++t) key_bias_bound += lr * adam_step_bound(adamw, t);
  key_bias_bound *= 1 + 1e-5;
  std::string differences;  // one line per parameter that ended up elsewhere
  int differing = 0;
  for (const ParameterSlot& slot : state.model.params.layout().slots()) {
    const float* p = state.model.params.data() + slot.offset;
    std::vector<float> ours(p, p + slot.numel);
    const std::vector<float> initial = ref.floats(slot.name), exact = ref.floats("out.final." + slot.name);
    if (slot.name.find("attn.qkv.bias") != std::string::npos) {
      // [q | k | v]: compare q and v; the key third only moves within its bound.
      double moved = 0;
      bool within = true;  // false too where a move is NaN
      for (size_t i = C; i < 2 * C; ++i) {
        const double move = std::abs(ours[i] - initial[i]);
        moved = std::max(moved, move);
        within = within && move <= key_bias_bound;
        ours[i] = exact[i];
      }
      std::printf("[ key bias ] %s: the key third moved by at most %.3g (exact run: ~0; bound %.3g)\n",
                  slot.name.c_str(), moved, key_bias_bound);
      EXPECT_HOLDS(within) << slot.name
                           << ": the key third of the bias gets no gradient (softmax ignores a "
                           << "shift of all scores), so only AdamW's updates move it, by at most "
                           << key_bias_bound << "; it moved by " << moved;
    }
    const ::testing::AssertionResult result = moved_like_the_exact_run(slot, ours, exact, initial);
    if (!result && ++differing <= 8) differences += std::string("\n  ") + result.message();
  }
  EXPECT_HOLDS(differing == 0) << differing << " parameters ended the 20 steps away from "
                               << "PyTorch's (up to 8 listed):" << differences;
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
  EXPECT_HOLDS(loss < 0.05f) << "300 steps on one batch should drive its loss from ln(11) = 2.4 "
                                "below 0.05; it is "
                             << loss;
}

TEST(AdamW, FirstStepMovesEachWeightByLrTimesItsSign) {
  // At t = 1, m̂ = g and v̂ = g², so the Adam part is g / (|g| + eps) ≈ sign(g).
  float p[3] = {1.0f, -2.0f, 0.5f};
  const float g[3] = {0.3f, -0.001f, 0.0f};
  float m[3] = {}, v[3] = {};
  AdamWConfig c;
  adamw_update(p, g, m, v, 3, 1, 0.1f, c, 0.0f);
  // Exactly: g / (|g| + eps) is 1 − eps/|g|, so p moves by lr·(1 − 3e-8) and
  // lr·(1 − 1e-5); the float arithmetic adds ~8 roundings of values <= 2:
  // ~1e-6 at most.
  EXPECT_HOLDS(std::abs(p[0] - 0.9f) <= 1e-6 && std::abs(p[1] + 1.9f) <= 1e-5)
      << "the first step (lr 0.1, no decay) should move p = [1, -2] with gradients [0.3, -0.001] "
         "by lr against the gradients' signs, to [0.9, -1.9] (within 1e-6 and 1e-5); it gives ["
      << p[0] << ", " << p[1] << "]" << (p[0] == 1.0f && p[1] == -2.0f ? ": p never moved" : "");
  EXPECT_FLOAT_EQ(p[2], 0.5f) << "no gradient, no decay: no move";
  float q[1] = {2.0f};
  const float zero[1] = {0.0f};
  float mq[1] = {}, vq[1] = {};
  adamw_update(q, zero, mq, vq, 1, 1, 0.1f, c, 0.5f);
  EXPECT_FLOAT_EQ(q[0], 2.0f - 0.1f * 0.5f * 2.0f)
      << "decoupled weight decay with no gradient: θ -= lr·λ·θ, 2 - 0.1·0.5·2 = 1.9";
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
  // The scale is max_norm / (norm + 1e-6) (PyTorch's): the norm after is
  // 1 − 2e-7, plus a few roundings (u = 6e-8) of the scale and the products.
  EXPECT_NEAR(global_norm(g, 2), 1.0, 1e-6);
  EXPECT_NEAR(g[0] / g[1], 0.75, 1e-6);  // direction kept: both scaled alike, 3u
  float h[2] = {0.3f, 0.4f};
  clip_grad_norm(h, 2, 1.0f);
  EXPECT_FLOAT_EQ(h[0], 0.3f);  // below the limit: untouched
}

TEST(GradClip, ScaleIsOneWithoutClipping) {
  EXPECT_EQ(clip_scale(5.0, 1.0f), 1.0 / (5.0 + 1e-6));  // the rule, to the bit
  EXPECT_EQ(clip_scale(0.5, 1.0f), 1.0);                 // below the limit
  EXPECT_EQ(clip_scale(5.0, 0.0f), 1.0);                 // clipping off
  EXPECT_EQ(clip_scale(5.0, -1.0f), 1.0);
}

TEST(LrSchedule, WarmsUpThenFollowsACosineToTheMinimum) {
  LrSchedule s;
  s.max_lr = 1.0f, s.min_lr = 0.1f, s.warmup_steps = 10, s.total_steps = 110;
  EXPECT_FLOAT_EQ(s.at(0), 0.1f);
  EXPECT_FLOAT_EQ(s.at(9), 1.0f);
  EXPECT_FLOAT_EQ(s.at(10), 1.0f);
  EXPECT_NEAR(s.at(60), 0.55f, 1e-6);  // halfway: the mean of max and min, a few u
  EXPECT_FLOAT_EQ(s.at(110), 0.1f);
  LrSchedule constant;
  constant.max_lr = 3e-4f;
  EXPECT_FLOAT_EQ(constant.at(12345), 3e-4f);
}

}  // namespace
}  // namespace gpt
