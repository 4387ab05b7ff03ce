// chapters/10_fast_cpu/fast_gpt_test.cc — the fast model is the same model.
//
// Against PyTorch, through the reference cases of chapters 07–09 (float64,
// rounded once: the exact answers): logits and loss (07_gpt: pre/post-LN,
// learned/sinusoidal, tied + tanh, an awkward shape), every parameter's
// gradient (08_backward) and the losses and gradient norms of 20 AdamW steps
// (09_training), at the tolerances those chapters state, plus a little slack
// where the fast path rounds differently (float LayerNorm, vectorized erf,
// blocked sums, each a few u = 2^-24 more per op): logits 2e-5 + 1e-4·|x|,
// gradients 1e-6 + 2e-4·|x|. Measured worst, on AVX-512, AVX2 and at -O1:
// 0.03 of these tolerances.
// Against chapters 07–09's C++: with dropout, where PyTorch's masks differ.
// And against itself: 1 thread and 2 give the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/09_training/trainer.h"
#include "chapters/10_fast_cpu/eval_activations.h"
#include "chapters/10_fast_cpu/fast_gpt.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/fast_train_ops.h"
#include "chapters/10_fast_cpu/fast_trainer.h"
#include "common/compare.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

const Tolerance kLogitsTol{2e-5, 1e-4};
const Tolerance kLossTol{1e-6, 2e-5};
const Tolerance kGradTol{1e-6, 2e-4};

class FastForward : public ::testing::TestWithParam<const char*> {};

TEST_P(FastForward, LogitsAndLossMatchPyTorch) {
  const Safetensors ref = load_reference("07_gpt", GetParam());
  const GPTModel model = GPTModel::from_safetensors(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  for (int threads : {1, 2}) {
    GPTActivations acts(model.config, B, T);
    const float loss = fast_gpt_forward(acts, ref.ints("in.tokens").data(),
                                        ref.ints("in.targets").data(), model, B, T, threads);
    const size_t V = model.config.vocab_size;
    testing::ReferenceChecks checks(ref);
    checks.add(std::vector<float>(acts.logits, acts.logits + size_t(B) * T * V), "out.logits",
               kLogitsTol, {{"b", "t", "vocab"}, {}});
    checks.add(std::vector<float>{loss}, "out.loss", kLossTol);
    EXPECT_PASSES(checks.all_match()) << "with " << threads << " thread(s)";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FastForward,
                         ::testing::Values("pre_learned", "pre_sinusoidal", "post_learned",
                                           "post_sinusoidal", "tied_tanh", "awkward"));

class FastBackward : public ::testing::TestWithParam<const char*> {};

TEST_P(FastBackward, EveryGradientMatchesAutograd) {
  const Safetensors ref = load_reference("08_backward", GetParam());
  const GPTModel model = GPTModel::from_safetensors(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const std::vector<int32_t> tokens = ref.ints("in.tokens"), targets = ref.ints("in.targets");
  GPTActivations acts(model.config, B, T);
  GPTBackwardScratch dacts(model.config, B, T);
  fast_gpt_forward(acts, tokens.data(), targets.data(), model, B, T, 2);
  ParameterBuffer grads(model.config);
  fast_gpt_backward(grads, dacts, acts, model, 2);
  // From the output back to the embeddings, as the backward computes them:
  // the first listed as differing is where a wrong gradient starts.
  const std::vector<ParameterSlot>& slots = grads.layout().slots();
  testing::ReferenceChecks checks(ref);
  for (auto slot = slots.rbegin(); slot != slots.rend(); ++slot) {
    const float* g = grads.data() + slot->offset;
    checks.add(std::vector<float>(g, g + slot->numel), "grad." + slot->name, kGradTol);
  }
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, FastBackward,
                         ::testing::Values("gpt_pre_learned", "gpt_post_sinusoidal",
                                           "gpt_tied_tanh"));

class FastTrajectory : public ::testing::TestWithParam<const char*> {};

// Chapter 09's test, with FastTrainer: the losses and gradient norms of 20
// steps within 1e-6 + 1e-4·|x| of PyTorch's.
TEST_P(FastTrajectory, TwentyAdamWStepsMatchPyTorch) {
  const Safetensors ref = load_reference("09_training", GetParam());
  TrainingState state(GPTConfig::from_metadata(ref.metadata));
  state.model.params.load_from(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T"), steps = config_int(ref, "steps");
  const float lr = std::stof(ref.metadata.at("lr"));
  const float clip = std::stof(ref.metadata.at("grad_clip"));
  AdamWConfig adamw;
  adamw.weight_decay = std::stof(ref.metadata.at("weight_decay"));
  const std::vector<int32_t> tokens = ref.ints("in.tokens"), targets = ref.ints("in.targets");
  FastTrainer trainer(state.model.config, B, T, 2);
  Rng rng(0);
  std::vector<float> losses, norms;
  for (int s = 0; s < steps; ++s) {
    Batch batch{B, T,
                std::vector<int32_t>(tokens.begin() + s * B * T, tokens.begin() + (s + 1) * B * T),
                std::vector<int32_t>(targets.begin() + s * B * T, targets.begin() + (s + 1) * B * T)};
    const StepResult r = trainer.step(state, batch, lr, clip, adamw, rng);
    losses.push_back(r.loss);
    norms.push_back(static_cast<float>(r.grad_norm));
  }
  const Tolerance tol{1e-6, 1e-4};
  testing::ReferenceChecks checks(ref);
  checks.add(losses, "out.losses", tol, {{"step"}, {}});
  checks.add(norms, "out.grad_norms", tol, {{"step"}, {}});
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, FastTrajectory,
                         ::testing::Values("trajectory_pre", "trajectory_post_tied"));

// A model with every option that the PyTorch cases leave out: dropout. And
// with max_length 64, the length at which attention works in its (T, T)
// weights directly (fast_attention.cc) instead of in padded scratch.
GPTConfig dropout_config(NormPlacement norm, int max_length = 19) {
  GPTConfig c;
  c.vocab_size = 23, c.embed_size = 48, c.max_length = max_length, c.num_layers = 2, c.heads = 4;
  c.ff_dim = 100, c.norm = norm, c.dropout = 0.2f;
  return c;
}

// Two training states with the same GPT-2 initial weights (drawn from
// `seed`): one for the engine under test, one for its reference twin.
void same_start(TrainingState& a, TrainingState& b, uint64_t seed) {
  Rng init(seed);
  init_gpt2(a.model, init);
  b.model.params = a.model.params;
}

Batch random_batch(int B, int T, int V, Rng& rng) {
  Batch batch{B, T, std::vector<int32_t>(B * T), std::vector<int32_t>(B * T)};
  for (int32_t& t : batch.inputs) t = static_cast<int32_t>(rng.next_u64() % V);
  for (int32_t& t : batch.targets) t = static_cast<int32_t>(rng.next_u64() % V);
  return batch;
}

// Five steps with dropout: chapter 09's Trainer and FastTrainer draw the same
// masks from the same generator, so their losses agree to rounding: both are
// a few u·depth from the exact loss (chapter 09's test: 4.5e-7 relative at
// most), well inside 1e-6 + 1e-4·|x|.
// Chapter 10's backward ops add into their outputs, as chapter 08's do. Each
// runs on a zeroed buffer (giving x) and on one filled with 1: the second must
// be 1 + x, to within the rounding of the sum and, since the compiler may fuse
// the add with the op's last product, that of the product: u·(|1 + x| + |x|),
// u = 2^-24, allowed twice over.
void expect_adds_one(const char* op, const std::vector<float>& from_zero,
                     const std::vector<float>& from_one) {
  double worst = 0, bound = 0;
  size_t at = 0;
  for (size_t i = 0; i < from_zero.size(); ++i) {
    const double x = from_zero[i];
    const double error = std::fabs(from_one[i] - (1.0 + x));
    const double allowed = 2 * kFloatRoundoff * (std::fabs(1.0 + x) + std::fabs(x));
    if (error - allowed > worst - bound) worst = error, bound = allowed, at = i;
  }
  EXPECT_LE(worst, bound) << op << ": element " << at << " started at 1 and became "
                          << from_one[at] << "; from 0 it became " << from_zero[at];
}

// Two ways to the same numbers, bit for bit: an op that overwrites a scratch
// gradient against zeroing it and adding into it, or one thread count against
// another.
void expect_same_bits(const char* op, const std::vector<float>& expected,
                      const std::vector<float>& actual) {
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(std::memcmp(&expected[i], &actual[i], sizeof(float)), 0)
        << op << ": element " << i << " is " << actual[i] << ", not " << expected[i];
  }
}

// fast_adamw_update against chapter 09's adamw_update, bit for bit: the
// moments, then 3 steps of each, with and without decay, on 8k + 5 floats
// (8-float lanes and chapter 09's loop for the last 5), gradients spread over
// 12 orders of magnitude so that every rounding matters.
TEST(FastAdamW, SameBitsAsChapter09) {
  Rng rng(9);
  const size_t n = 8 * 37 + 5;
  std::vector<float> p0(n), g(n);
  for (size_t i = 0; i < n; ++i) {
    p0[i] = rng.normal(0.0f, 1.0f);
    g[i] = rng.normal(0.0f, 1.0f) * std::pow(10.0f, rng.uniform() * 12.0f - 9.0f);
  }
  const AdamWConfig config;
  for (float decay : {0.0f, config.weight_decay}) {
    std::vector<float> p_fast = p0, m_fast(n, 0.0f), v_fast(n, 0.0f);
    std::vector<float> p_plain = p0, m_plain(n, 0.0f), v_plain(n, 0.0f);
    for (int t = 1; t <= 3; ++t) {
      fast_adamw_update(p_fast.data(), g.data(), m_fast.data(), v_fast.data(), n, t, 3e-4f,
                        config, decay);
      adamw_update(p_plain.data(), g.data(), m_plain.data(), v_plain.data(), n, t, 3e-4f, config,
                   decay);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(p_fast[i], p_plain[i]) << "parameter " << i << " at step " << t << ", decay "
                                         << decay << ", gradient " << g[i];
        ASSERT_EQ(m_fast[i], m_plain[i]) << "first moment " << i << " at step " << t;
        ASSERT_EQ(v_fast[i], v_plain[i]) << "second moment " << i << " at step " << t;
      }
    }
  }
}

// Gradients add into their buffers; with `overwrite` a scratch buffer is written as if zeroed first.
TEST(FastBackwardOps, AddIntoTheirOutputsOrOverwriteScratch) {
  Rng rng(5);
  const auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.normal(0.0f, 1.0f);
    return v;
  };
  const int B = 2, T = 5, C = 8, H = 2, N = B * T, V = 7;
  // GELU: dhidden += dactivated ⊙ gelu'(hidden), 16 floats at a time: a
  // count that is a multiple of 16, and one that leaves a padded tail.
  const std::vector<float> dactivated = random(N * C), hidden = random(N * C);
  for (const int count : {N * C, N * C - 3}) {
    for (GeluForm form : {GeluForm::Erf, GeluForm::Tanh}) {
      std::vector<float> zero(count, 0.0f), one(count, 1.0f);
      fast_gelu_backward(zero.data(), dactivated.data(), hidden.data(), count, form, 1);
      fast_gelu_backward(one.data(), dactivated.data(), hidden.data(), count, form, 1);
      expect_adds_one(("fast_gelu_backward, " + std::to_string(count) + " floats").c_str(), zero,
                      one);
      // overwrite: as if it had been zeroed, wherever the output lies (a vector
      // loop treats the elements before an aligned address differently): at
      // each of 16 float offsets from a 64-byte boundary, and nothing written
      // past the count.
      for (int shift = 0; shift < 16; ++shift) {
        alignas(64) float storage[N * C + 16];
        std::fill(storage, storage + N * C + 16, 7.0f);
        fast_gelu_backward(storage + shift, dactivated.data(), hidden.data(), count, form, 1, true);
        const std::vector<float> stale(storage + shift, storage + shift + count);
        const std::string op = "fast_gelu_backward with overwrite, " + std::to_string(count) +
                               " floats, output at float " + std::to_string(shift) +
                               " of a 64-byte line";
        expect_same_bits(op.c_str(), zero, stale);
        EXPECT_EQ(storage[shift + count], 7.0f) << op << ": wrote past the count";
      }
    }
  }
  // Attention: dqkv += d(qkv). hs = 4 goes through padded scratch, at a T in
  // padded scratch and at T = 64 (P read in the weights directly); hs = 16
  // needs no padding when T is a multiple of 4, and `overwrite` then writes
  // straight into dqkv.
  struct Shape {
    int t, c, h;
  };
  for (const Shape& shape : {Shape{T, C, H}, Shape{64, C, H}, Shape{8, 32, 2}, Shape{64, 32, 2}}) {
    const int t = shape.t, c = shape.c, h = shape.h, n = B * t;
    const std::vector<float> dout = random(n * c), qkv = random(n * 3 * c);
    std::vector<float> weights = random(size_t(B) * h * t * t);  // (B, h, t, t)
    for (size_t at = 0; at < weights.size(); ++at) {  // causal, as the forward leaves them
      if (int(at % t) > int(at / t % t)) weights[at] = 0.0f;
    }
    std::vector<float> zero(n * 3 * c, 0.0f), one(n * 3 * c, 1.0f);
    fast_attention_backward(zero.data(), dout.data(), qkv.data(), weights.data(), B, t, c, h, 1);
    fast_attention_backward(one.data(), dout.data(), qkv.data(), weights.data(), B, t, c, h, 1);
    expect_adds_one("fast_attention_backward", zero, one);
    std::vector<float> stale(n * 3 * c, 7.0f);
    fast_attention_backward(stale.data(), dout.data(), qkv.data(), weights.data(), B, t, c, h, 1,
                            /*overwrite=*/true);
    expect_same_bits("fast_attention_backward with overwrite", zero, stale);
  }
  // Cross-entropy: dlogits += dloss · (probs − onehot) / N
  std::vector<float> probs(N * V);
  for (float& p : probs) p = rng.uniform();
  std::vector<int32_t> targets(N);
  for (int32_t& t : targets) t = static_cast<int32_t>(rng.uniform() * V) % V;
  std::vector<float> dzero(N * V, 0.0f), done(N * V, 1.0f), twice(N * V, 0.0f);
  fast_cross_entropy_backward(dzero.data(), 1.0f, probs.data(), targets.data(), N, V, 1);
  fast_cross_entropy_backward(done.data(), 1.0f, probs.data(), targets.data(), N, V, 1);
  expect_adds_one("fast_cross_entropy_backward", dzero, done);
  fast_cross_entropy_backward(twice.data(), 2.0f, probs.data(), targets.data(), N, V, 1);
  for (int i = 0; i < N * V; ++i) {  // dloss = 2 doubles each term exactly
    ASSERT_EQ(twice[i], 2.0f * dzero[i]) << "fast_cross_entropy_backward with dloss 2, element " << i;
  }
}

// The fused cross-entropy against chapter 07's, on rows of any length: a
// row goes a register at a time (16 or 8 floats), so the lengths around
// those widths and a last block of 1 (V = 65) are the edges. The logits are
// exactly N·V floats, so a read past the last row's end would be caught by
// ASan. A −inf logit gives probability 0 there and, with the AVX2 build's
// vector exp, about 3e-39 / Σ here: inside the tolerance. A NaN logit makes
// its row's loss NaN on both. 1 and 2 threads give the same bits.
TEST(FastCrossEntropy, MatchesChapter07OnAnyRowLength) {
  Rng rng(11);
  const int N = 6;
  for (int V : {1, 7, 8, 9, 15, 16, 17, 33, 65}) {
    std::vector<float> logits(size_t(N) * V);
    for (float& z : logits) z = rng.normal(0.0f, 3.0f);
    std::vector<int32_t> targets(N);
    for (int n = 0; n < N; ++n) targets[n] = (n * 5) % V;
    if (V > 1) logits[size_t(1) * V + (targets[1] + 1) % V] = -INFINITY;  // row 1: a ruled-out token
    logits[size_t(2) * V + V - 1] = std::nanf("");                        // row 2: a NaN
    std::vector<float> want_losses(N), want_probs(size_t(N) * V);
    cross_entropy_forward(want_losses.data(), want_probs.data(), logits.data(), targets.data(), N,
                          V);
    std::vector<float> losses(N), probs(size_t(N) * V);
    fast_cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), N, V, 1);
    double worst = 0;  // the largest error, in tolerances (kLossTol: 1e-6 + 2e-5·|x|)
    std::string worst_at = "none";
    const auto check = [&](float got, float want, const std::string& what) {
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << what << " should be NaN, is " << got;
        return;
      }
      const double error = std::abs(double(got) - want) / (1e-6 + 2e-5 * std::abs(want));
      if (error > worst) worst = error, worst_at = what + ": " + std::to_string(got) + " against " +
                                                   std::to_string(want);
    };
    for (int n = 0; n < N; ++n) {
      check(losses[n], want_losses[n], "V " + std::to_string(V) + ", loss " + std::to_string(n));
      for (int v = 0; v < V; ++v) {
        const size_t at = size_t(n) * V + v;
        check(probs[at], want_probs[at], "V " + std::to_string(V) + ", prob (" +
                                             std::to_string(n) + ", " + std::to_string(v) +
                                             "), logit " + std::to_string(logits[at]));
      }
    }
    EXPECT_LE(worst, 1.0) << "worst error " << worst << " tolerances, at " << worst_at;
    std::vector<float> losses2(N), probs2(size_t(N) * V);
    fast_cross_entropy_forward(losses2.data(), probs2.data(), logits.data(), targets.data(), N, V,
                               2);
    EXPECT_EQ(0, std::memcmp(losses.data(), losses2.data(), sizeof(float) * N)) << "V " << V;
    EXPECT_EQ(0, std::memcmp(probs.data(), probs2.data(), sizeof(float) * N * V)) << "V " << V;
  }
}

// LayerNorm's backward: dinp row by row on any thread, dweight and dbias by
// columns, each column summed over the rows in order by one thread. Row
// counts 1, 31, 32, 33 and 100, widths around a register (8, 20, 128), and
// column ranges of 16 and 4 (C = 20 on 2 or 3 threads). From zeros, against
// chapter 08's at the gradients' tolerance, and 1, 2 and 3 threads give the
// same bits. It adds into its outputs: from 1 it gives 1 + the gradient to
// within 1e-4·(1 + |gradient|) (dweight and dbias add row by row into the 1,
// so every partial sum rounds differently from the sum started at 0; an op
// that overwrote would be off by 1). With overwrite_dinp, a stale dinp is
// written as if zeroed.
TEST(FastLayerNormBackward, MatchesChapter08OnAnyRowCountAndThreadCount) {
  Rng rng(21);
  for (int C : {8, 20, 128}) {
    for (int N : {1, 31, 32, 33, 100}) {
      const auto random = [&](size_t n, float mean, float std) {
        std::vector<float> v(n);
        for (float& x : v) x = rng.normal(mean, std);
        return v;
      };
      const std::vector<float> x = random(size_t(N) * C, 0.5f, 2.0f);
      const std::vector<float> dout = random(size_t(N) * C, 0.0f, 1.0f);
      const std::vector<float> weight = random(C, 1.0f, 0.3f);
      std::vector<float> mean(N), rstd(N), y(size_t(N) * C);
      const std::vector<float> bias(C, 0.0f);
      fast_layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), weight.data(),
                             bias.data(), N, C, 1e-5f, 1);
      // Each output as (dinp, dweight, dbias), all starting at `start`.
      const auto backward = [&](float start, int threads, auto&& run) {
        std::vector<std::vector<float>> d = {std::vector<float>(size_t(N) * C, start),
                                             std::vector<float>(C, start),
                                             std::vector<float>(C, start)};
        run(d[0].data(), d[1].data(), d[2].data(), threads);
        return d;
      };
      const auto chapter08 = [&](float* dx, float* dw, float* db, int) {
        layernorm_backward(dx, dw, db, dout.data(), x.data(), mean.data(), rstd.data(),
                           weight.data(), N, C);
      };
      const auto fast = [&](float* dx, float* dw, float* db, int threads) {
        fast_layernorm_backward(dx, dw, db, dout.data(), x.data(), mean.data(), rstd.data(),
                                weight.data(), N, C, threads);
      };
      const std::string shape = "N " + std::to_string(N) + ", C " + std::to_string(C);
      const char* names[3] = {"dinp", "dweight", "dbias"};
      const auto want = backward(0.0f, 1, chapter08);
      const auto got = backward(0.0f, 1, fast);
      for (int k = 0; k < 3; ++k) {
        const CompareReport report =
            compare(got[k].data(), want[k].data(), {int64_t(got[k].size())}, kGradTol);
        EXPECT_TRUE(report.ok) << report.describe(std::string(names[k]) + ", " + shape, kGradTol);
      }
      for (int threads = 2; threads <= 3; ++threads) {
        const auto other = backward(0.0f, threads, fast);
        for (int k = 0; k < 3; ++k) {
          const std::string op = std::string(names[k]) + ", " + shape + ", " +
                                 std::to_string(threads) + " threads";
          expect_same_bits(op.c_str(), got[k], other[k]);
        }
      }
      const auto from_one = backward(1.0f, 2, fast);
      for (int k = 0; k < 3; ++k) {
        double worst = 0;  // in tolerances of 1e-4·(1 + |gradient|)
        size_t at = 0;
        for (size_t i = 0; i < got[k].size(); ++i) {
          const double g = got[k][i];
          const double error = std::fabs(from_one[k][i] - (1.0 + g)) / (1e-4 * (1.0 + std::fabs(g)));
          if (error > worst) worst = error, at = i;
        }
        EXPECT_LE(worst, 1.0) << names[k] << ", " << shape << ": element " << at
                              << " started at 1 and became " << from_one[k][at]
                              << "; from 0 it became " << got[k][at];
      }
      std::vector<float> stale(size_t(N) * C, 7.0f), w(C, 0.0f), b(C, 0.0f);
      fast_layernorm_backward(stale.data(), w.data(), b.data(), dout.data(), x.data(), mean.data(),
                              rstd.data(), weight.data(), N, C, 2, /*overwrite_dinp=*/true);
      expect_same_bits(("dinp with overwrite, " + shape).c_str(), got[0], stale);
    }
  }
}

// The weight gradient sums two fixed halves of the tokens: 1, 2 or 3 threads
// give the same bits, it adds into dW and db, and a token count of 1 (an
// empty first half) or an odd one works.
TEST(FastWeightGradient, SameBitsOnAnyThreadCountAndAddsIntoItsOutputs) {
  Rng rng(3);
  const int I = 20, O = 13;
  for (int N : {1, 7, 64}) {
    std::vector<float> dout(size_t(N) * O), inp(size_t(N) * I);
    for (float& x : dout) x = rng.normal(0.0f, 1.0f);
    for (float& x : inp) x = rng.normal(0.0f, 1.0f);
    std::vector<float> dw_zero(size_t(O) * I, 0.0f), db_zero(O, 0.0f);
    fast_weight_gradient(dw_zero.data(), db_zero.data(), dout.data(), inp.data(), N, I, O, 1);
    for (int threads : {2, 3}) {
      std::vector<float> dw(size_t(O) * I, 0.0f), db(O, 0.0f);
      fast_weight_gradient(dw.data(), db.data(), dout.data(), inp.data(), N, I, O, threads);
      expect_same_bits("fast_weight_gradient's dW on more threads", dw_zero, dw);
      expect_same_bits("fast_weight_gradient's db on more threads", db_zero, db);
    }
    // From 1 instead of 0: (1 + H0) + H1 against 1 + (H0 + H1), the halves'
    // sums H0, H1 each at most S = Σ_n |term| in size: four roundings apart,
    // so within 4u·(1 + S).
    std::vector<float> dw_one(size_t(O) * I, 1.0f), db_one(O, 1.0f);
    fast_weight_gradient(dw_one.data(), db_one.data(), dout.data(), inp.data(), N, I, O, 2);
    double worst = 0;  // the largest error, in units of its bound
    std::string where;
    for (int o = 0; o < O; ++o) {
      for (int i = 0; i <= I; ++i) {  // i == I: the bias
        double S = 0;
        for (int n = 0; n < N; ++n) {
          S += std::fabs(double(dout[size_t(n) * O + o]) * (i < I ? inp[size_t(n) * I + i] : 1.0));
        }
        const double from_zero = i < I ? dw_zero[size_t(o) * I + i] : db_zero[o];
        const double from_one = i < I ? dw_one[size_t(o) * I + i] : db_one[o];
        const double error = std::fabs(from_one - (1.0 + from_zero)) / (4 * kFloatRoundoff * (1 + S));
        if (!(error <= worst)) {
          worst = std::isnan(error) ? INFINITY : error;
          where = (i < I ? "dW[" + std::to_string(o) + ", " + std::to_string(i) + "]"
                         : "db[" + std::to_string(o) + "]") +
                  " became " + std::to_string(from_one) + " from 1, " +
                  std::to_string(from_zero) + " from 0";
        }
      }
    }
    EXPECT_LE(worst, 1.0) << "N = " << N << ": fast_weight_gradient should add into dW and db; "
                          << where;
  }
}

// The backward reads P down its columns and counts on exact zeros above the
// diagonal, whatever the scores hold. A NaN in one head's query row i (its
// row of P is NaN) and in another head's key row j (rows from j on see it)
// must leave every entry above the diagonal +0, and the rows before j of
// that head untouched by it: finite. In P itself (T = 64) and through the
// padded scratch (T = 37, hs = 13).
TEST(FastAttentionBadScores, ZerosAboveTheDiagonalAndEarlierRowsUntouched) {
  struct Case {
    int T, hs;
  };
  for (const Case& c : {Case{64, 32}, Case{37, 13}}) {
    SCOPED_TRACE("T " + std::to_string(c.T) + ", hs " + std::to_string(c.hs));
    const int B = 1, H = 2, T = c.T, C = H * c.hs;
    std::vector<float> qkv(size_t(B) * T * 3 * C);  // (B, T, 3C)
    for (size_t n = 0; n < qkv.size(); ++n) qkv[n] = 0.5f * std::sin(0.37f * float(n));
    const int bad_query = 5, bad_key = 20;  // head 0's q row 5, head 1's k row 20
    qkv[size_t(bad_query) * 3 * C + 0 * c.hs] = NAN;
    qkv[size_t(bad_key) * 3 * C + C + 1 * c.hs] = NAN;
    std::vector<float> weights(size_t(B) * H * T * T, -1.0f), out(size_t(B) * T * C);
    fast_attention_forward(out.data(), weights.data(), qkv.data(), B, T, C, H, 2);
    for (int h = 0; h < H; ++h) {
      for (int i = 0; i < T; ++i) {
        const float* row = weights.data() + (size_t(h) * T + i) * T;  // P[h, i, :]
        for (int j = i + 1; j < T; ++j) {
          ASSERT_EQ(std::signbit(row[j]), false) << "head " << h << ", P[" << i << ", " << j << "]";
          ASSERT_EQ(row[j], 0.0f) << "head " << h << ", P[" << i << ", " << j << "]";
        }
        const bool sees_nan = (h == 0 && i == bad_query) || (h == 1 && i >= bad_key);
        for (int j = 0; j <= i && !sees_nan; ++j) {
          ASSERT_TRUE(std::isfinite(row[j])) << "head " << h << ", P[" << i << ", " << j << "]";
        }
      }
    }
  }
}

// Two paths no PyTorch case (T <= 19, hs <= 12) reaches. At T = 64 attention
// works in its (T, T) weights directly; with hs = 16 and T a multiple of 4 a
// head needs no padding, and writes y, dq, dk and dv in place (T = 8 too).
// Logits and every gradient against chapter 07's and 08's plain ops, within
// the PyTorch cases' tolerances, and 1 thread's logits against 2's, bit for bit.
TEST(FastAttentionAtSixtyFour, LogitsAndGradientsFollowThePlainOps) {
  struct Case {
    int embed_size, T;  // 4 heads: hs = embed_size / 4
  };
  for (const Case& c : {Case{48, 64}, Case{64, 64}, Case{64, 8}}) {
    SCOPED_TRACE("embed_size " + std::to_string(c.embed_size) + ", T " + std::to_string(c.T));
    GPTConfig config = dropout_config(NormPlacement::Pre, 64);
    config.dropout = 0.0f;
    config.embed_size = c.embed_size;
    GPTModel model(config);
    Rng init(7), data(8);
    init_gpt2(model, init);
    const int B = 2, T = c.T;
    const Batch batch = random_batch(B, T, config.vocab_size, data);
    GPTActivations fast_acts(config, B, T), one_thread_acts(config, B, T), plain_acts(config, B, T);
    fast_gpt_forward(fast_acts, batch.inputs.data(), batch.targets.data(), model, B, T, 2);
    fast_gpt_forward(one_thread_acts, batch.inputs.data(), batch.targets.data(), model, B, T, 1);
    const size_t n_logits = size_t(B) * T * config.vocab_size;
    expect_same_bits("logits on 1 thread and on 2",
                     {one_thread_acts.logits, one_thread_acts.logits + n_logits},
                     {fast_acts.logits, fast_acts.logits + n_logits});
    gpt_forward_loss(plain_acts, batch.inputs.data(), batch.targets.data(), model, B, T);
    const int64_t V = config.vocab_size;
    const CompareReport logits = compare(fast_acts.logits, plain_acts.logits, {B, T, V}, kLogitsTol);
    EXPECT_TRUE(logits.ok) << logits.describe("logits", kLogitsTol, {{"b", "t", "vocab"}, {}});
    ParameterBuffer fast_grads(config), plain_grads(config);
    GPTBackwardScratch fast_scratch(config, B, T), plain_scratch(config, B, T);
    fast_gpt_backward(fast_grads, fast_scratch, fast_acts, model, 2);
    gpt_backward(plain_grads, plain_scratch, plain_acts, model);
    for (const ParameterSlot& slot : fast_grads.layout().slots()) {
      const CompareReport r = compare(fast_grads.data() + slot.offset,
                                      plain_grads.data() + slot.offset, {int64_t(slot.numel)},
                                      kGradTol);
      EXPECT_TRUE(r.ok) << r.describe("grad." + slot.name, kGradTol);
    }
  }
}

TEST(FastTrainerWithDropout, FollowsChapter09sTrainer) {
  for (auto [norm, T] : {std::pair{NormPlacement::Pre, 19}, {NormPlacement::Post, 19},
                         {NormPlacement::Pre, 64}}) {
    const GPTConfig config = dropout_config(norm, T);
    TrainingState ours(config), theirs(config);
    same_start(ours, theirs, 5);
    FastTrainer fast(config, 3, T, 2);
    Trainer plain(config, 3, T);
    Rng rng_fast(9), rng_plain(9), data(11);
    double worst = 0;  // the largest loss difference, in tolerances (1e-6 + 1e-4·|x|)
    int worst_step = 0;
    float worst_fast = 0, worst_plain = 0;
    for (int s = 0; s < 5; ++s) {
      const Batch batch = random_batch(3, T, config.vocab_size, data);
      const float a = fast.step(ours, batch, 1e-3f, 1.0f, AdamWConfig{}, rng_fast).loss;
      const float b = plain.step(theirs, batch, 1e-3f, 1.0f, AdamWConfig{}, rng_plain).loss;
      const double difference = double(std::abs(a - b)) / (1e-6 + 1e-4 * std::abs(b));
      if (!(difference <= worst)) {  // NaN counts as worst
        worst = std::isnan(difference) ? INFINITY : difference;
        worst_step = s, worst_fast = a, worst_plain = b;
      }
    }
    EXPECT_HOLDS(worst <= 1.0)
        << (norm == NormPlacement::Pre ? "pre-LN" : "post-LN") << ", T = " << T
        << ", with dropout: FastTrainer's "
        << "losses should follow chapter 09's Trainer within 1e-6 + 1e-4·|loss|; at step "
        << worst_step << " they are " << worst_fast << " and " << worst_plain << " (" << worst
        << " tolerances apart)";
    EXPECT_EQ(rng_fast.state(), rng_plain.state()) << "the two drew different numbers";
  }
}

// An evaluation's forward pass over one layer's buffers (eval_activations.h)
// is the same forward pass as over GPTActivations, which keep every layer's
// tensors. Pre- and post-LN (whose blocks end on different tensors), three
// layers (so that a layer reads its input from the buffer it will write its
// output to), batches smaller than the buffers' capacity, on 1 and 2 threads;
// and FastTrainer::evaluate, which runs on them, gives that loss too.
// Where B·T is a multiple of 16, every tensor lies at the same offset from a
// 64-byte boundary in both layouts, and the numbers are the same bits. Elsewhere
// the later layers' tensors lie at other offsets than in GPTActivations, and
// a vectorized sum that starts at a boundary (Eigen's, over a row) may add in
// another order: the same numbers to rounding, within the forward tolerances.
TEST(FastEvaluate, OneLayersBuffersGiveTheSameLogitsAndLoss) {
  for (const NormPlacement norm : {NormPlacement::Pre, NormPlacement::Post}) {
    GPTConfig config = dropout_config(norm, 19);  // dropout 0.2: Mode::Eval draws no mask
    config.num_layers = 3;
    GPTModel model(config);
    Rng init(7);
    init_gpt2(model, init);
    Rng data(13);
    for (auto [B, T] : {std::pair{2, 16}, {1, 16}, {3, 19}, {2, 11}, {1, 1}}) {
      const bool same_offsets = B * T % 16 == 0;
      const Batch batch = random_batch(B, T, config.vocab_size, data);
      for (const int threads : {1, 2}) {
        FastOps ops(threads);
        GPTActivations every_layer(config, 3, 19), lender(config, 3, 19);
        EvalActivations one_layer(config, 3, 19, lender);
        const float kept = gpt_forward_loss(ops, every_layer, batch.inputs.data(),
                                            batch.targets.data(), model.weights(), config, B, T,
                                            Mode::Eval);
        const float shared = gpt_forward_loss(ops, one_layer, batch.inputs.data(),
                                              batch.targets.data(), model.weights(), config, B,
                                              T, Mode::Eval);
        const std::string where = std::string(norm == NormPlacement::Pre ? "pre" : "post") +
                                  "-LN, B = " + std::to_string(B) + ", T = " + std::to_string(T) +
                                  ", " + std::to_string(threads) + " thread(s)";
        const int64_t V = config.vocab_size;
        const size_t n = size_t(B) * T * V;
        if (same_offsets) {
          EXPECT_EQ(kept, shared) << where << ": the loss";
          const auto [ours, theirs] = std::mismatch(one_layer.logits, one_layer.logits + n,
                                                    every_layer.logits);
          EXPECT_EQ(size_t(ours - one_layer.logits), n)
              << where << ": logit " << (ours - one_layer.logits) << " is " << *ours
              << " over one layer's buffers, " << *theirs << " over every layer's";
        } else {
          const CompareReport logits =
              compare(one_layer.logits, every_layer.logits, {B, T, V}, kLogitsTol);
          EXPECT_TRUE(logits.ok) << where << ": " << logits.describe("logits", kLogitsTol);
          const CompareReport loss = compare(&shared, &kept, {1}, kLossTol);
          EXPECT_TRUE(loss.ok) << where << ": " << loss.describe("loss", kLossTol);
        }
        FastTrainer trainer(config, 3, 19, threads);
        EXPECT_EQ(trainer.evaluate(model, batch), shared) << where << ", FastTrainer::evaluate";
      }
    }
  }
}

TEST(FastEvaluate, OneLayersBuffersAreSmallerAndCheckTheBatch) {
  GPTConfig config = dropout_config(NormPlacement::Pre, 19);
  config.num_layers = 3;
  EXPECT_LT(EvalActivations::size(config, 3, 19), GPTActivations::size(config, 3, 19));
  GPTConfig one = config;
  one.num_layers = 1;
  EXPECT_EQ(EvalActivations::size(config, 3, 19), GPTActivations::size(one, 3, 19));
  GPTActivations lender(config, 3, 19);
  EvalActivations acts(config, 3, 19, lender);
  EXPECT_THROW(acts.carve(4, 19), std::invalid_argument);
  EXPECT_THROW(acts.carve(3, 20), std::invalid_argument);
  EXPECT_THROW(acts.carve(0, 19), std::invalid_argument);
  EXPECT_THROW(EvalActivations(config, 3, 20, lender), std::invalid_argument);  // T > max_length
  GPTActivations small(config, 2, 19);  // a lender too small for B = 3
  EXPECT_THROW(EvalActivations(config, 3, 19, small), std::invalid_argument);
}

// FastTrainer's evaluations borrow its training activations' memory. A step
// after an evaluation is the same, bit for bit, as one after none: the
// step's forward pass writes every tensor its backward pass reads. And the
// views in the trainer's memory compute what views lent other memory do.
TEST(FastEvaluate, AnEvaluationBetweenStepsChangesNoStep) {
  const GPTConfig config = dropout_config(NormPlacement::Pre, 19);
  TrainingState with(config), without(config);
  same_start(with, without, 8);
  FastTrainer evaluating(config, 3, 19, 2), plain(config, 3, 19, 2);
  Rng r_with(3), r_without(3), data(21);
  for (int s = 0; s < 3; ++s) {
    const Batch batch = random_batch(3, 19, config.vocab_size, data);
    const Batch other = random_batch(2, 11, config.vocab_size, data);  // not a training batch
    const float a = evaluating.step(with, batch, 1e-3f, 1.0f, AdamWConfig{}, r_with).loss;
    const float evaluated = evaluating.evaluate(with.model, other);
    const float b = plain.step(without, batch, 1e-3f, 1.0f, AdamWConfig{}, r_without).loss;
    EXPECT_EQ(a, b) << "step " << s;
    FastOps ops(2);
    GPTActivations lender(config, 3, 19);
    EvalActivations apart(config, 3, 19, lender);
    EXPECT_EQ(evaluated, gpt_forward_loss(ops, apart, other.inputs.data(), other.targets.data(),
                                          with.model.weights(), config, other.B, other.T,
                                          Mode::Eval))
        << "step " << s << ": views in the trainer's memory against views in memory of their own";
  }
  EXPECT_TRUE(std::equal(with.model.params.data(),
                         with.model.params.data() + with.model.params.size(),
                         without.model.params.data()));
}

// While FastOps holds packed weights (packed_weights.h), a weight's first
// forward product packs it and the later ones read its panels: the same
// bits as products that pack for themselves, on 1 and 2 threads, for the
// first batch and the ones after (of other shapes too). One pack per weight
// of the forward pass: four per block and the output head's; none once
// released.
TEST(FastPackedWeights, ForwardPassesReadThePanelsAndGiveTheSameBits) {
  GPTConfig config = dropout_config(NormPlacement::Pre, 19);
  config.num_layers = 3;
  GPTModel model(config);
  Rng init(5);
  init_gpt2(model, init);
  Rng data(17);
  const Batch batches[] = {random_batch(3, 19, config.vocab_size, data),
                           random_batch(2, 11, config.vocab_size, data),
                           random_batch(3, 19, config.vocab_size, data)};
  for (const int threads : {1, 2}) {
    FastOps held(threads), plain(threads);
    GPTActivations held_acts(config, 3, 19), plain_acts(config, 3, 19);
    held.packed_weights().hold();
    for (int i = 0; i < 3; ++i) {
      const Batch& b = batches[i];
      const float got = gpt_forward_loss(held, held_acts, b.inputs.data(), b.targets.data(),
                                         model.weights(), config, b.B, b.T, Mode::Eval);
      const float want = gpt_forward_loss(plain, plain_acts, b.inputs.data(), b.targets.data(),
                                          model.weights(), config, b.B, b.T, Mode::Eval);
      EXPECT_EQ(got, want) << threads << " thread(s), batch " << i;
      const size_t n = size_t(b.B) * b.T * config.vocab_size;
      const auto [ours, theirs] = std::mismatch(held_acts.logits, held_acts.logits + n,
                                                plain_acts.logits);
      EXPECT_EQ(size_t(ours - held_acts.logits), n)
          << threads << " thread(s), batch " << i << ": logit " << (ours - held_acts.logits)
          << " is " << *ours << " from held panels, " << *theirs << " packed by the product";
      EXPECT_EQ(held.packed_weights().count(), 4 * config.num_layers + 1);
      EXPECT_EQ(held.packed_weights().packs(), 4 * config.num_layers + 1)
          << "batch " << i << ": a weight packed again";
    }
    EXPECT_EQ(plain.packed_weights().count(), 0);
    held.packed_weights().release();
    EXPECT_EQ(held.packed_weights().count(), 0);
    EXPECT_EQ(held.packed_weights().transposed(model.weights().lm_head, config.embed_size,
                                               config.vocab_size),
              nullptr);
  }
}

// A run of evaluations on FastTrainer (chapter 09's EvaluationRun) gives each
// batch the loss an evaluation outside a run gives, and a step inside the
// run ends it, whether step() or train_step on step_parts() (a wrapper's
// way, chapter 18): the weights change, and the evaluations after the step
// see the new ones, not panels packed from the old. Every other step goes
// through step_parts. Evaluations of another model inside a run are that
// model's, and only one model's panels are kept: back to the first, its
// weights are packed again.
TEST(FastPackedWeights, ARunOfEvaluationsEndsAtAStep) {
  const GPTConfig config = dropout_config(NormPlacement::Pre, 19);
  TrainingState in_run(config), alone(config);
  same_start(in_run, alone, 9);
  FastTrainer running(config, 3, 19, 2), plain(config, 3, 19, 2);
  Rng r_run(4), r_alone(4), data(23);
  const Batch batch = random_batch(3, 19, config.vocab_size, data);
  const Batch other = random_batch(2, 11, config.vocab_size, data);
  EvaluationRun run(running);
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(running.evaluate(in_run, other), plain.evaluate(alone, other)) << "step " << s;
    EXPECT_EQ(running.evaluate(in_run, batch), plain.evaluate(alone, batch)) << "step " << s;
    float a;
    if (s % 2 == 0) {
      a = running.step(in_run, batch, 1e-2f, 1.0f, AdamWConfig{}, r_run).loss;
    } else {
      std::optional<StepParts> parts = running.step_parts(in_run);
      ASSERT_TRUE(parts.has_value());
      a = train_step(parts->ops, parts->memory, in_run.step, batch, 1e-2f, 1.0f, AdamWConfig{},
                     r_run)
              .loss;
    }
    const float b = plain.step(alone, batch, 1e-2f, 1.0f, AdamWConfig{}, r_alone).loss;
    EXPECT_EQ(a, b) << "step " << s;
    EXPECT_EQ(running.evaluate(in_run, other), plain.evaluate(alone, other))
        << "after step " << s << (s % 2 ? " (step_parts)" : " (step)")
        << ": the evaluation read the weights before the step";
  }
  // Another run, two models: each evaluation is its own model's.
  EvaluationRun second(running);
  TrainingState third(config);
  Rng init_third(10);
  init_gpt2(third.model, init_third);
  const int64_t packs = running.weight_packs();
  EXPECT_EQ(running.evaluate(in_run, other), plain.evaluate(alone, other));
  EXPECT_EQ(running.evaluate(third, other), plain.evaluate(third, other)) << "another model";
  EXPECT_EQ(running.evaluate(in_run, other), plain.evaluate(alone, other)) << "back to the first";
  EXPECT_EQ(running.weight_packs() - packs, 3 * (4 * config.num_layers + 1))
      << "each model change packs the model's weights afresh";
}

// One thread and two compute the same numbers, bit for bit: rows go to
// threads whole, and sums over rows go by columns (row_loops.h).
TEST(FastTrainerThreads, OneAndTwoThreadsAgreeBitForBit) {
  const GPTConfig config = dropout_config(NormPlacement::Pre);
  for (const int threads : {2, 3}) {  // 3: more threads than cores, some late, their rows taken
    TrainingState one(config), many(config);
    same_start(one, many, 5);
    FastTrainer t1(config, 3, 19, 1), tn(config, 3, 19, threads);
    Rng r1(9), rn(9), data(11);
    for (int s = 0; s < 3; ++s) {
      const Batch batch = random_batch(3, 19, config.vocab_size, data);
      const StepResult a = t1.step(one, batch, 1e-3f, 1.0f, AdamWConfig{}, r1);
      const StepResult b = tn.step(many, batch, 1e-3f, 1.0f, AdamWConfig{}, rn);
      EXPECT_EQ(a.loss, b.loss) << "step " << s << ", " << threads << " threads";
    }
    EXPECT_TRUE(std::equal(one.model.params.data(),
                           one.model.params.data() + one.model.params.size(),
                           many.model.params.data()))
        << threads << " threads";
  }
}

// The programs' engine changes its thread count from step to step on a busy
// machine (free_cores.h): a run whose steps alternate between 1 and 2 threads
// is the same, bit for bit, as one on 2 threads throughout.
TEST(FastTrainerThreads, TheCountMayChangeBetweenSteps) {
  const GPTConfig config = dropout_config(NormPlacement::Pre);
  TrainingState fixed(config), changing(config);
  same_start(fixed, changing, 6);
  FastTrainer two(config, 3, 19, 2), one(config, 3, 19, 1), also_two(config, 3, 19, 2);
  Rng r_fixed(10), r_changing(10), data(12);
  for (int s = 0; s < 4; ++s) {
    const Batch batch = random_batch(3, 19, config.vocab_size, data);
    const StepResult a = two.step(fixed, batch, 1e-3f, 1.0f, AdamWConfig{}, r_fixed);
    FastTrainer& now = s % 2 == 0 ? one : also_two;
    const StepResult b = now.step(changing, batch, 1e-3f, 1.0f, AdamWConfig{}, r_changing);
    EXPECT_EQ(a.loss, b.loss) << "step " << s << " on " << now.threads() << " thread(s)";
  }
  EXPECT_TRUE(std::equal(fixed.model.params.data(),
                         fixed.model.params.data() + fixed.model.params.size(),
                         changing.model.params.data()));
  EXPECT_TRUE(std::equal(fixed.m.data(), fixed.m.data() + fixed.m.size(), changing.m.data()));
  EXPECT_TRUE(std::equal(fixed.v.data(), fixed.v.data() + fixed.v.size(), changing.v.data()));
}

// FastOps notes the zeros of the backward recipe and lets the step that adds
// into them write them (deferred zeros, fast_train_ops.cc). Against zeros
// written at once: the same gradients in each kind of model, with stale
// numbers wherever a zero might go unwritten (NaN in the gradients before the
// first pass; the first batch's numbers in the scratch during the second),
// and no zero left noted when a backward pass ends, also where T is shorter
// than max_length (the position gradients' last rows: no step adds into
// them). On 1, 2 and 3 threads (the weight gradient's two ways: one product
// after the other, or a pair). Equal values: a zero sum may be −0 one way
// and +0 the other (fast_ops.h).
TEST(FastDeferredZeros, SameGradientsAsZerosWrittenAtOnceAndNoneLeftNoted) {
  struct Case {
    NormPlacement norm;
    int max_length, T;
    bool tied;
    Positions positions;
    float dropout;
    int threads;
  };
  for (const Case& k : {Case{NormPlacement::Pre, 19, 19, false, Positions::Learned, 0.2f, 2},
                        Case{NormPlacement::Post, 19, 19, true, Positions::Sinusoidal, 0.2f, 1},
                        Case{NormPlacement::Pre, 64, 64, true, Positions::Learned, 0.0f, 3},
                        Case{NormPlacement::Post, 64, 64, false, Positions::Learned, 0.0f, 2},
                        Case{NormPlacement::Pre, 24, 19, false, Positions::Learned, 0.0f, 2}}) {
    GPTConfig config = dropout_config(k.norm, k.max_length);
    config.tie_weights = k.tied, config.positions = k.positions, config.dropout = k.dropout;
    const std::string name = std::string(k.norm == NormPlacement::Pre ? "pre-LN" : "post-LN") +
                             ", T = " + std::to_string(k.T) + " of " +
                             std::to_string(k.max_length) + (k.tied ? ", tied" : "") +
                             (k.dropout > 0 ? ", dropout" : "") + ", " +
                             std::to_string(k.threads) + " thread(s)";
    GPTModel model(config);
    Rng init(4);
    init_gpt2(model, init);
    const int B = 3;
    const int64_t NC = int64_t(B) * k.T * config.embed_size;
    std::vector<float> grads_of[2];  // [0]: zeros written at once; [1]: deferred
    for (const bool defer : {false, true}) {
      FastOps ops(k.threads);
      ops.set_defer_zeros(defer);
      GPTActivations acts(config, B, k.T);
      GPTBackwardScratch scratch(config, B, k.T);
      ParameterBuffer grads(config);
      std::fill_n(grads.data(), grads.size(), NAN);
      Rng masks(7), data(8);
      for (int pass = 0; pass < 2; ++pass) {
        const Batch batch = random_batch(B, k.T, config.vocab_size, data);
        acts.carve(B, k.T);
        draw_dropout_masks(ops, acts, NC, config.dropout, masks);
        gpt_forward_loss(ops, acts, batch.inputs.data(), batch.targets.data(), model.weights(),
                         config, B, k.T, config.dropout > 0 ? Mode::Train : Mode::Eval);
        ops.zero(grads.data(), int64_t(grads.size()));
        gpt_backward(ops, view_grads(grads), scratch, acts, model.weights(), config);
        EXPECT_EQ(ops.unwritten_zeros(), 0)
            << name << ", pass " << pass << ": zeros still noted after the backward pass";
      }
      grads_of[defer].assign(grads.data(), grads.data() + grads.size());
    }
    for (const ParameterSlot& slot : model.params.layout().slots()) {
      for (size_t i = slot.offset; i < slot.offset + slot.numel; ++i) {
        ASSERT_EQ(grads_of[1][i], grads_of[0][i])
            << name << ": grad." << slot.name << "[" << i - slot.offset
            << "] with deferred zeros, against zeros written at once";
      }
    }
  }
}

// The bookkeeping itself, on runs the recipe never makes: a zero over part of
// a noted run, and a step that adds into a range only partly noted (its noted
// part is written first, the rest is added into as it is), then one that
// takes a whole run.
TEST(FastDeferredZeros, PartlyNotedRangesAreWrittenBeforeAStepAddsIntoThem) {
  FastOps ops(1);
  std::vector<float> buffer(200, NAN), other(100, 2.0f), dout(100, 1.0f);
  std::fill(buffer.begin() + 150, buffer.end(), 5.0f);  // [150, 200): never zeroed
  ops.zero(buffer.data(), 100);
  ops.zero(buffer.data() + 50, 100);  // overlaps the first: [0, 150) noted
  EXPECT_EQ(ops.unwritten_zeros(), 150);
  ops.residual_backward(buffer.data() + 100, other.data(), dout.data(), 100);  // [100, 200)
  for (int i = 100; i < 200; ++i) {
    ASSERT_EQ(buffer[i], i < 150 ? 1.0f : 6.0f)
        << "buffer[" << i << "] after adding 1 into [100, 200)";
  }
  EXPECT_EQ(other[0], 3.0f) << "a run never zeroed is added into";
  EXPECT_EQ(ops.unwritten_zeros(), 100) << "[0, 100) should still be noted";
  ops.residual_backward(buffer.data(), other.data(), dout.data(), 100);  // takes [0, 100) whole
  for (int i = 0; i < 100; ++i) ASSERT_EQ(buffer[i], 1.0f) << "buffer[" << i << "]";
  EXPECT_EQ(ops.unwritten_zeros(), 0);
}

TEST(FastForwardErrors, RejectsTooLongSequencesAndBadTargets) {
  const GPTConfig config = dropout_config(NormPlacement::Pre);
  GPTModel model(config);
  GPTActivations acts(config, 1, 19);
  std::vector<int32_t> tokens(20, 1), targets(20, 1);
  EXPECT_THROW(fast_gpt_forward(acts, tokens.data(), targets.data(), model, 1, 20, 1),
               std::invalid_argument);
  targets[3] = config.vocab_size;
  EXPECT_THROW(fast_gpt_forward(acts, tokens.data(), targets.data(), model, 1, 19, 1),
               std::out_of_range);
}

}  // namespace
}  // namespace gpt
