// chapters/08_backward/gpt_backward_test.cc — the whole model's gradients.
//
// Against PyTorch: tests/cases/ch08_gpt_gradients.py runs loss.backward() on
// a small GPT (pre-LN learned, post-LN sinusoidal, tied tanh) in float64 and
// stores every parameter's gradient rounded once: the exact gradients.
// Tolerance, as the course promises for the whole model:
// |ours − torch| <= 1e-6 + 1e-4·|torch| for every element. Through ~25 ops
// (forward and back) each element collects a few u = 2^-24 of the sizes it
// is computed from: measured at most 3.5e-6 of its tensor's RMS (1e-3 to
// 5e-3 here), i.e. ~2e-8, on AVX-512, AVX2 and at -O1; atol 1e-6 and rtol
// 1e-4 leave a factor of 25 or more.
// Against finite differences: every parameter of a tiny model, with and
// without dropout masks, to 1e-3 of the largest gradient (gradient_check.h
// explains the step and the tolerance).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "chapters/06_transformer_block/dropout.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/08_backward/gradient_check.h"
#include "common/compare.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

const Tolerance kGradTol{1e-6, 1e-4};

// The names of a parameter's dimensions, for failure messages: a table's rows
// are tokens or positions, a matrix's are its outputs.
std::vector<std::string> parameter_dims(const ParameterSlot& slot) {
  if (slot.name == "wte.weight" || slot.name == "lm_head.weight") return {"token", "c"};
  if (slot.name == "wpe.weight") return {"position", "c"};
  if (slot.shape.size() == 2) return {"out", "in"};
  return {};
}

class GPTGradients : public ::testing::TestWithParam<const char*> {};

TEST_P(GPTGradients, EveryParameterMatchesAutograd) {
  const Safetensors ref = load_reference("08_backward", GetParam());
  const GPTModel model = GPTModel::from_safetensors(ref);
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const std::vector<int32_t> tokens = ref.ints("in.tokens"), targets = ref.ints("in.targets");
  GPTActivations acts(model.config, B, T);
  GPTBackwardScratch dacts(model.config, B, T);
  const float loss = gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T);
  const Tolerance loss_tol{1e-6, 1e-5};
  EXPECT_MATCHES_REFERENCE(std::vector<float>{loss}, ref, "out.loss", loss_tol);

  ParameterBuffer grads(model.config);
  gpt_backward(grads, dacts, acts, model);
  // In the order the backward computes them (from the output back to the
  // embeddings), so that the first listed is where a wrong gradient starts.
  const std::vector<ParameterSlot>& slots = grads.layout().slots();
  testing::ReferenceChecks checks(ref);
  for (auto slot = slots.rbegin(); slot != slots.rend(); ++slot) {
    const float* g = grads.data() + slot->offset;
    checks.add(std::vector<float>(g, g + slot->numel), "grad." + slot->name, kGradTol,
               {parameter_dims(*slot), {}});
  }
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, GPTGradients,
                         ::testing::Values("gpt_pre_learned", "gpt_post_sinusoidal",
                                           "gpt_tied_tanh"));

// A model small enough to differentiate every parameter numerically.
GPTModel tiny_model(NormPlacement norm, bool tied) {
  GPTConfig c;
  c.vocab_size = 7, c.embed_size = 8, c.max_length = 4, c.num_layers = 2, c.heads = 2;
  c.ff_dim = 16, c.norm = norm, c.tie_weights = tied;
  GPTModel model(c);
  Rng rng(17);
  init_gpt2(model, rng);
  // Larger weights than GPT-2's 0.02 so that every path carries gradient.
  for (size_t i = 0; i < model.params.size(); ++i) model.params.data()[i] += rng.normal(0, 0.1f);
  return model;
}

// The whole model is more curved than one op (an embedding row feeds a
// LayerNorm over only 8 channels), so the step is smaller than the ops'
// 1e-2: with h = 1e-2 the truncation error alone reaches 1.5e-3 of the
// largest gradient; with 1e-3 it is below float rounding noise: the loss's
// rounding (a few u of ~2) divided by 2h, ~1e-4 of the largest gradient per
// element. Measured, the worst of ~1300 elements: 2.3e-4 to 5.3e-4 on
// AVX-512, AVX2 and at -O1, against the tolerance of 1e-3.
constexpr float kStep = 1e-3f;

void check_whole_model(GPTModel model, float dropout) {
  const int B = 2, T = 4;
  const std::vector<int32_t> tokens = {1, 5, 2, 6, 0, 3, 3, 4}, targets = {5, 2, 6, 0, 3, 3, 4, 1};
  GPTActivations acts(model.config, B, T);
  GPTBackwardScratch dacts(model.config, B, T);
  if (dropout > 0) {  // the masks stay fixed while the parameters are perturbed
    Rng rng(3);
    const int64_t NC = int64_t(B) * T * model.config.embed_size;
    dropout_mask(acts.embedding_dropout, NC, dropout, rng);
    for (BlockActivations& b : acts.blocks) {
      dropout_mask(b.attn_dropout, NC, dropout, rng);
      dropout_mask(b.mlp_dropout, NC, dropout, rng);
    }
  }
  const Mode mode = dropout > 0 ? Mode::Train : Mode::Eval;
  gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T, mode);
  ParameterBuffer grads(model.config);
  gpt_backward(grads, dacts, acts, model);

  std::vector<float> x(model.params.data(), model.params.data() + model.params.size());
  const std::vector<float> analytic(grads.data(), grads.data() + grads.size());
  const auto loss = [&] {
    std::copy(x.begin(), x.end(), model.params.data());
    return double(gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T, mode));
  };
  const GradientCheckReport report = check_gradient(x, analytic, loss, kStep, 1e-3);
  if (report.ok) {
    std::cout << "[ gradchk  ] " << report.describe("whole model", 1e-3) << std::endl;
    return;
  }
  // Which parameter the worst element belongs to, and where in it.
  std::string where = "element " + std::to_string(report.worst_index);
  for (const ParameterSlot& slot : grads.layout().slots()) {
    const int64_t i = report.worst_index - int64_t(slot.offset);
    if (i >= 0 && i < int64_t(slot.numel)) {
      where = slot.name + " " + position_of(i, slot.shape, parameter_dims(slot));
    }
  }
  const bool analytic_all_zero =
      std::all_of(analytic.begin(), analytic.end(), [](float g) { return g == 0; });
  std::ostringstream failure;
  failure << report.failures << " of " << report.checked
          << " parameters' gradients differ from finite differences of the loss"
          << (analytic_all_zero ? ", and every one of the backward's is 0 (never written?)" : "")
          << "; worst at " << where << ": backward " << report.worst_analytic << ", numeric "
          << report.worst_numeric << std::setprecision(3) << " (allowed error 1e-3 · max |numeric| "
          << report.scale << " = " << 1e-3 * report.scale << ")";
  EXPECT_HOLDS(report.ok) << failure.str();
}

TEST(GPTGradients, PreLnAgreesWithFiniteDifferences) {
  check_whole_model(tiny_model(NormPlacement::Pre, false), 0.0f);
}

TEST(GPTGradients, PostLnTiedAgreesWithFiniteDifferences) {
  check_whole_model(tiny_model(NormPlacement::Post, true), 0.0f);
}

TEST(GPTGradients, DropoutMasksAreDifferentiatedToo) {
  check_whole_model(tiny_model(NormPlacement::Pre, false), 0.3f);
}

// gpt_backward adds into the gradient buffer (+=), so gradient accumulation
// over micro-batches is just several backward passes. Run into a buffer that
// already holds 1 (exact in float), it must leave 1 + g; one that overwrote
// would leave an error of 1, one that added twice an error of |g|.
//
// The bound comes from how the adds round, not from this machine: what the
// backward adds does not depend on the buffer, only the rounding of each add
// into it does. An add that leaves a value v rounds it by at most half a float
// spacing, 2^-24·|v|, with |v| <= 1 + S in the filled buffer and |v| <= S in a
// zeroed one, S bounding the partial sums (here every gradient is below 1, so
// S < 1 is ample). Each element takes at most N + 1 adds (LayerNorm weights
// and biases one per position, wte one per occurrence of a token plus one
// from a tied lm_head, every matrix and bias one), and taking the 1 away
// again rounds by at most 2^-24·|g|: allowed (N + 2)·2^-24·(1 + 2S) = 1.1e-6
// for N = 4. (Comparing two passes with twice one pass instead needs a bound
// relative to the partial sums, not to the result: LayerNorm's weight
// gradient sums per-position terms that largely cancel, so the rounding of
// those terms, ~u·|term|, can be several times 1e-6 of the result.)
TEST(GPTGradients, BackwardAddsIntoTheGradientBuffer) {
  const GPTModel model = tiny_model(NormPlacement::Pre, false);
  const int B = 1, T = 4, N = B * T;
  const std::vector<int32_t> tokens = {1, 2, 3, 4}, targets = {2, 3, 4, 5};
  GPTActivations acts(model.config, B, T);
  GPTBackwardScratch dacts(model.config, B, T);
  gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T);
  ParameterBuffer once(model.config), filled(model.config);
  std::fill_n(filled.data(), filled.size(), 1.0f);
  gpt_backward(once, dacts, acts, model);
  gpt_backward(filled, dacts, acts, model);
  const double S = 1.0;
  double largest = 0;
  for (size_t i = 0; i < once.size(); ++i) largest = std::max(largest, double(std::abs(once.data()[i])));
  ASSERT_LT(largest, S) << "the bound below assumes gradients (and partial sums) below 1";
  ASSERT_GT(largest, 1e-3) << "a vacuous check: the gradients are all (nearly) zero";
  const Tolerance tol{(N + 2) * kFloatRoundoff * (1 + 2 * S), 0.0};
  std::vector<float> added(once.size());
  for (size_t i = 0; i < once.size(); ++i) {
    added[i] = static_cast<float>(double(filled.data()[i]) - 1.0);
  }
  std::string overwritten;  // one line per parameter whose buffer is not 1 + g
  for (const ParameterSlot& slot : once.layout().slots()) {
    const CompareReport report =
        compare(added.data() + slot.offset, once.data() + slot.offset, slot.shape, tol);
    const std::string line = report.describe("(buffer of 1s + backward) - 1 vs backward: " +
                                             slot.name, tol);
    if (report.ok) {
      std::cout << "[ adds     ] " << line << std::endl;
    } else {
      overwritten += "\n  " + line;
    }
  }
  EXPECT_HOLDS(overwritten.empty())
      << "run into a buffer that holds 1, gpt_backward must leave 1 + the gradient there (add, "
         "never overwrite):"
      << overwritten;
}

}  // namespace
}  // namespace gpt
