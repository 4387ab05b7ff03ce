// chapters/08_backward/backward_test.cc — every backward op against PyTorch's autograd.
//
// Each case in tests/references/08_backward/ (tests/cases/ch08_backward.py)
// holds an op's inputs, the activations its forward saved, its parameters, an
// upstream gradient in.dout, and PyTorch's gradients grad.<name>. The C++
// backward reads the same inputs and saved activations (computed by PyTorch,
// so these tests do not depend on our forward ops) and must reproduce every
// gradient. PyTorch computes in float64 and rounds once: the exact gradients.
// Tolerance: an element passes when |ours − torch| <= atol + 1e-5 · |torch|,
// with atol scaled to the tensor (see gradient_tolerance).
//
// Every case is also run into gradient buffers that already hold 1, which must
// end up holding 1 + the gradients: the chapter's += convention.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/08_backward/attention_backward.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/08_backward/causal_softmax_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/feedforward_backward.h"
#include "chapters/08_backward/gelu_backward.h"
#include "chapters/08_backward/heads_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/linear_backward.h"
#include "chapters/08_backward/multihead_attention_backward.h"
#include "chapters/08_backward/residual_backward.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

// How close a float32 backward can come to the exact gradient, in any order
// of adds. Every gradient element here is a sum of at most kMaxTerms = 96
// products (linear's dinp sums over OC = 96; the others over N = 16 rows,
// C <= 32 channels or F = 64 hidden units) of values built by a few float
// operations. Its rounding, u = 2^-24 per operation, falls either way and adds
// up like a random walk: about √n·u·Σ|terms|, and with terms of random signs
// Σ|terms| is about √n times the size of a typical element, the tensor's RMS.
// So atol = kMaxTerms·u·RMS = 5.7e-6·RMS, even for an element whose sum
// cancels to near 0 (measured at most 28u·RMS; a wrong formula is off by a
// sizeable fraction of the RMS); rtol 1e-5 = 170u covers the few float
// operations on top of sums that do not cancel. A fixed atol would not do:
// a bound that holds for gradients of size 0.1 is ten times too tight for
// gradients of size 4, and a correct implementation that adds in another
// order could fail it.
constexpr int kMaxTerms = 96;

Tolerance gradient_tolerance(const std::vector<float>& exact) {
  double sum2 = 0;
  for (float g : exact) sum2 += double(g) * g;
  const double rms = exact.empty() ? 0.0 : std::sqrt(sum2 / exact.size());
  return {kMaxTerms * kFloatRoundoff * rms, 1e-5};
}

// One reference case: its tensors as float buffers on demand, and a zeroed
// gradient buffer for every grad.<name> PyTorch computed.
class Case {
 public:
  explicit Case(const std::string& name) : ref(load_reference("08_backward", name)) {
    for (const std::string& n : ref.names()) {
      if (n.rfind("grad.", 0) == 0) grads[n.substr(5)].assign(ref.get(n).numel(), 0.0f);
    }
  }
  int i(const std::string& key) const { return config_int(ref, key); }
  const std::string& meta(const std::string& key) const { return ref.metadata.at(key); }
  float* in(const std::string& name) {  // a reference tensor, loaded once
    auto it = tensors_.find(name);
    if (it == tensors_.end()) it = tensors_.emplace(name, ref.floats(name)).first;
    return it->second.data();
  }
  float* grad(const std::string& name) { return grads.at(name).data(); }

  Safetensors ref;
  std::map<std::string, std::vector<float>> grads;  // name without "grad."

 private:
  std::map<std::string, std::vector<float>> tensors_;
};

// A number as a message shows it: "1e-07" or "0", not "0.000000".
std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

GeluForm gelu_form(const std::string& name) {
  if (name == "erf") return GeluForm::Erf;
  if (name == "tanh") return GeluForm::Tanh;
  throw std::invalid_argument("unknown gelu form " + name);
}

// --- one runner per op: calls the backward with the case's buffers ---------------

void run_embedding(Case& c) {
  const bool learned = c.meta("positions") == "learned";
  embedding_backward(c.grad("wte.weight"), learned ? c.grad("wpe.weight") : nullptr,
                     c.in("in.dout"), c.ref.ints("in.tokens").data(), c.i("B"), c.i("T"),
                     c.i("embed_size"), c.i("vocab_size"));
}

void run_linear(Case& c) {
  const bool bias = c.meta("bias") == "True";
  linear_backward(c.grad("inp"), c.grad("weight"), bias ? c.grad("bias") : nullptr,
                  c.in("in.dout"), c.in("in.inp"), c.in("weight"), c.i("N"), c.i("IC"),
                  c.i("OC"));
}

void run_causal_softmax(Case& c) {
  causal_softmax_backward(c.grad("scores"), c.in("in.dweights"), c.in("in.weights"), c.i("N"),
                          c.i("T"));
}

void run_attention(Case& c) {
  attention_backward(c.grad("q"), c.grad("k"), c.grad("v"), c.in("in.dout"), c.in("in.q"),
                     c.in("in.k"), c.in("in.v"), c.in("in.weights"), c.i("N"), c.i("T"),
                     c.i("hs"));
}

void run_heads(Case& c) {
  const int B = c.i("B"), T = c.i("T"), C = c.i("embed_size"), H = c.i("heads");
  split_heads_backward(c.grad("qkv"), c.in("in.dq"), c.in("in.dk"), c.in("in.dv"), B, T, C, H);
  merge_heads_backward(c.grad("heads"), c.in("in.dmerged"), B, T, C, H);
}

AttentionActivations attention_acts(Case& c, const std::string& prefix) {
  AttentionActivations a;
  a.qkv = c.in(prefix + "qkv");
  a.q = c.in(prefix + "q");
  a.k = c.in(prefix + "k");
  a.v = c.in(prefix + "v");
  a.weights = c.in(prefix + "weights");
  a.y = c.in(prefix + "y");
  a.merged = c.in(prefix + "merged");
  return a;
}

AttentionParams attention_params(Case& c, const std::string& prefix) {
  return {c.in(prefix + "qkv.weight"), c.in(prefix + "qkv.bias"), c.in(prefix + "proj.weight"),
          c.in(prefix + "proj.bias")};
}

AttentionGrads attention_grads(Case& c, const std::string& prefix) {
  return {c.grad(prefix + "qkv.weight"), c.grad(prefix + "qkv.bias"),
          c.grad(prefix + "proj.weight"), c.grad(prefix + "proj.bias")};
}

void run_multihead_attention(Case& c) {
  const int B = c.i("B"), T = c.i("T"), C = c.i("embed_size"), H = c.i("heads");
  std::vector<float> scratch(AttentionActivations::size(B, T, C, H), -1.0f);  // garbage
  AttentionActivations dacts = AttentionActivations::carve(scratch.data(), B, T, C, H);
  multihead_attention_backward(c.grad("inp"), attention_grads(c, ""), dacts, c.in("in.dout"),
                               c.in("in.inp"), attention_acts(c, "in."),
                               attention_params(c, ""), B, T, C, H);
}

void run_gelu(Case& c) {
  gelu_backward(c.grad("inp"), c.in("in.dout"), c.in("in.inp"), c.ref.get("in.inp").numel(),
                gelu_form(c.meta("gelu")));
}

void run_layernorm(Case& c) {
  layernorm_backward(c.grad("inp"), c.grad("weight"), c.grad("bias"), c.in("in.dout"),
                     c.in("in.inp"), c.in("in.mean"), c.in("in.rstd"), c.in("weight"), c.i("N"),
                     c.i("C"));
}

FeedForwardParams feedforward_params(Case& c, const std::string& prefix) {
  return {c.in(prefix + "fc.weight"), c.in(prefix + "fc.bias"), c.in(prefix + "proj.weight"),
          c.in(prefix + "proj.bias")};
}

FeedForwardGrads feedforward_grads(Case& c, const std::string& prefix) {
  return {c.grad(prefix + "fc.weight"), c.grad(prefix + "fc.bias"),
          c.grad(prefix + "proj.weight"), c.grad(prefix + "proj.bias")};
}

void run_feedforward(Case& c) {
  const int N = c.i("N"), C = c.i("embed_size"), F = c.i("ff_dim");
  std::vector<float> dhidden(size_t(N) * F, -1.0f), dactivated(size_t(N) * F, -1.0f);
  feedforward_backward(c.grad("inp"), feedforward_grads(c, ""), dhidden.data(),
                       dactivated.data(), c.in("in.dout"), c.in("in.inp"), c.in("in.hidden"),
                       c.in("in.activated"), feedforward_params(c, ""), N, C, F,
                       gelu_form(c.meta("gelu")));
}

void run_residual(Case& c) {
  residual_backward(c.grad("a"), c.grad("b"), c.in("in.dout"), c.ref.get("in.dout").numel());
}

void run_block(Case& c) {
  BlockConfig config{c.i("B"), c.i("T"), c.i("embed_size"), c.i("heads"), c.i("ff_dim")};
  config.norm = c.meta("norm") == "pre" ? NormPlacement::Pre : NormPlacement::Post;
  config.gelu = gelu_form(c.meta("gelu"));
  config.eps = std::stof(c.meta("layernorm_eps"));
  BlockActivations acts;
  acts.ln1 = c.in("in.ln1");
  acts.ln1_mean = c.in("in.ln1_mean");
  acts.ln1_rstd = c.in("in.ln1_rstd");
  acts.attn = attention_acts(c, "in.attn.");
  acts.attn_out = c.in("in.attn_out");
  acts.residual1 = c.in("in.residual1");
  acts.ln2 = c.in("in.ln2");
  acts.ln2_mean = c.in("in.ln2_mean");
  acts.ln2_rstd = c.in("in.ln2_rstd");
  acts.mlp_hidden = c.in("in.mlp_hidden");
  acts.mlp_activated = c.in("in.mlp_activated");
  acts.mlp_out = c.in("in.mlp_out");
  acts.residual2 = c.in("in.residual2");
  const BlockParams params{c.in("ln1.weight"), c.in("ln1.bias"), attention_params(c, "attn."),
                           c.in("ln2.weight"), c.in("ln2.bias"), feedforward_params(c, "mlp.")};
  const BlockGrads grads{c.grad("ln1.weight"), c.grad("ln1.bias"), attention_grads(c, "attn."),
                         c.grad("ln2.weight"), c.grad("ln2.bias"), feedforward_grads(c, "mlp.")};
  std::vector<float> scratch(BlockActivations::size(config), -1.0f);  // garbage
  BlockActivations dacts = BlockActivations::carve(scratch.data(), config);
  block_backward(c.grad("inp"), grads, dacts, c.in("in.dout"), c.in("in.inp"), acts, params,
                 config);
}

void run_cross_entropy(Case& c) {
  cross_entropy_backward(c.grad("logits"), std::stof(c.meta("dloss")), c.in("in.probs"),
                         c.ref.ints("in.targets").data(), c.i("N"), c.i("V"));
}

struct OpCase {
  const char* name;  // the reference case
  void (*run)(Case&);
};
void PrintTo(const OpCase& op, std::ostream* os) { *os << op.name; }

const OpCase kCases[] = {
    {"embedding_learned", run_embedding},
    {"embedding_sinusoidal", run_embedding},
    {"linear", run_linear},
    {"linear_no_bias", run_linear},
    {"causal_softmax", run_causal_softmax},
    {"causal_softmax_odd", run_causal_softmax},
    {"attention", run_attention},
    {"attention_odd", run_attention},
    {"heads", run_heads},
    {"multihead_attention", run_multihead_attention},
    {"multihead_attention_odd", run_multihead_attention},
    {"gelu_erf", run_gelu},
    {"gelu_tanh", run_gelu},
    {"layernorm", run_layernorm},
    {"layernorm_odd", run_layernorm},
    {"feedforward_erf", run_feedforward},
    {"feedforward_tanh", run_feedforward},
    {"residual", run_residual},
    {"block_pre", run_block},
    {"block_post", run_block},
    {"cross_entropy", run_cross_entropy},
    {"cross_entropy_scaled", run_cross_entropy},
};

// For failure messages: the names of a gradient's dimensions (empty: named
// by the rank).
std::vector<std::string> gradient_dims(const std::string& name, size_t rank) {
  const bool ends_in_weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
  if (name == "wte.weight") return {"token", "c"};
  if (name == "wpe.weight") return {"position", "c"};
  if (ends_in_weight && rank == 2) return {"out", "in"};
  if (name == "scores") return {"seq", "query", "key"};
  if (name == "q" || name == "k" || name == "v") return {"seq", "t", "c"};
  if (name == "heads") return {"b", "head", "t", "c"};
  if (name == "logits") return {"row", "vocab"};
  if (rank == 3) return {"b", "t", "c"};
  return {};
}

// For failure messages: the dimensions' names, and the inputs that an element
// of the gradient depends on most directly, where there are such.
ElementContext gradient_context(Case& c, const std::string& op, const std::string& name) {
  ElementContext context{gradient_dims(name, c.ref.shape("grad." + name).size()), {}};
  const auto input = [&](const std::string& tensor) { return c.ref.floats("in." + tensor); };
  if (op.rfind("gelu", 0) == 0) {  // elementwise: dinp[i] = dout[i]·GELU'(inp[i])
    context.inputs = both(same_element("inp", input("inp")), same_element("dout", input("dout")));
  } else if (op.rfind("residual", 0) == 0) {
    context.inputs = same_element("dout", input("dout"));
  } else if (op.rfind("layernorm", 0) == 0 && name == "inp") {
    const int C = c.i("C");
    context.inputs =
        both(same_element("inp", input("inp")), row_statistics("inp", input("inp"), C, C));
  }
  return context;
}

class BackwardReference : public ::testing::TestWithParam<OpCase> {};

TEST_P(BackwardReference, GradientsMatchPyTorch) {
  Case c(GetParam().name);
  ASSERT_FALSE(c.grads.empty());
  GetParam().run(c);
  testing::ReferenceChecks checks(c.ref);
  for (const auto& [name, grad] : c.grads) {
    checks.add(grad, "grad." + name, gradient_tolerance(c.ref.floats("grad." + name)),
               gradient_context(c, GetParam().name, name));
  }
  EXPECT_PASSES(checks.all_match());
}

// The += convention: a backward run into a buffer that already holds 1 (exact
// in float) must leave 1 + its gradient there. An op that overwrote its
// gradients would leave an error of 1; one that added twice, an error of |g|.
//
// How close is "1 + g" allowed to be? The op's contributions to an element do
// not depend on what the buffer holds; only the rounding of each add into the
// buffer does. An add that leaves a value v rounds it by at most half a float
// spacing, 2^-24·|v|: in the filled buffer |v| <= 1 + S, in the zeroed one
// |v| <= S, where S bounds the partial sums (we take twice the tensor's
// largest |g|: partial sums of a few random terms stay near the final sizes).
// No op here adds into one element more than kMaxAdds times: LayerNorm's
// weight and bias and the embedding tables take one add per position (B·T
// <= 16 in these cases), every other gradient one or two (a block's input:
// its residual path, then its branch). Subtracting the 1 again rounds by at
// most 2^-24·|g|. So the allowed error is (kMaxAdds + 1)·2^-24·(1 + 2S),
// about 1e-6·(1 + 2S), whatever the order of the adds, the FMA contractions
// or the instruction set.
constexpr int kMaxAdds = 16;

TEST_P(BackwardReference, AddsIntoItsGradients) {
  Case once(GetParam().name), filled(GetParam().name);
  for (auto& [name, grad] : filled.grads) std::fill(grad.begin(), grad.end(), 1.0f);
  GetParam().run(once);
  GetParam().run(filled);
  std::string overwritten;  // one line per gradient that is not 1 + g
  for (const auto& [name, grad] : once.grads) {
    double largest = 0;
    for (float g : grad) largest = std::max(largest, double(std::abs(g)));
    const double S = 2 * largest;
    const Tolerance tol{(kMaxAdds + 1) * kFloatRoundoff * (1 + 2 * S), 0.0};
    std::vector<float> added(grad.size());
    for (size_t i = 0; i < grad.size(); ++i) {
      added[i] = static_cast<float>(double(filled.grads.at(name)[i]) - 1.0);
    }
    const CompareReport report =
        compare(added.data(), grad.data(), once.ref.shape("grad." + name), tol);
    const std::string line =
        report.describe("(buffer of 1s + one backward) - 1 vs one backward: " + name, tol);
    if (report.ok) {
      std::cout << "[ adds     ] " << line << std::endl;
    } else {
      overwritten += "\n  " + line;
    }
  }
  EXPECT_HOLDS(overwritten.empty())
      << "run into buffers that hold 1, the backward must leave 1 + its gradient there (add, "
         "never overwrite):"
      << overwritten;
  // Guard against a vacuous pass: the gradients are not all zero.
  double size = 0;
  for (const auto& [name, grad] : once.grads)
    for (float g : grad) size += std::abs(g);
  EXPECT_HOLDS(size > 0) << "every gradient the backward computed is 0, so whether it adds into "
                            "its buffers cannot be checked: does it write its gradients?";
}

INSTANTIATE_TEST_SUITE_P(Ops, BackwardReference, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return std::string(info.param.name);
                         });

// --- errors and properties ---------------------------------------------------------

TEST(Backward, TokenOutsideTheVocabularyIsAClearError) {
  std::vector<float> dwte(4 * 2), dout(3 * 2, 1.0f);
  const std::vector<int32_t> tokens = {0, 7, 1};
  try {
    embedding_backward(dwte.data(), nullptr, dout.data(), tokens.data(), 1, 3, 2, 4);
    FAIL() << "no error for token id 7 with V = 4";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("token id 7"), std::string::npos) << e.what();
  }
}

TEST(Backward, TargetOutsideTheVocabularyIsAClearError) {
  std::vector<float> dlogits(2 * 3), probs(2 * 3, 1.0f / 3);
  const std::vector<int32_t> targets = {2, -1};
  EXPECT_THROW(cross_entropy_backward(dlogits.data(), 1.0f, probs.data(), targets.data(), 2, 3),
               std::out_of_range);
}

TEST(Backward, HeadsThatDoNotDivideTheChannelsAreAClearError) {
  std::vector<float> buffer(1000);
  float* p = buffer.data();
  EXPECT_THROW(split_heads_backward(p, p, p, p, 1, 2, 10, 3), std::invalid_argument);
  EXPECT_THROW(merge_heads_backward(p, p, 1, 2, 10, 3), std::invalid_argument);
  AttentionActivations acts{p, p, p, p, p, p, p};
  try {
    multihead_attention_backward(p, {p, p, p, p}, acts, p, p, acts, {p, p, p, p}, 1, 2, 10, 3);
    FAIL() << "no error for 3 heads and 10 channels";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("heads (3)"), std::string::npos) << e.what();
  }
}

// The gradients of the mean cross-entropy sum to zero in every row (softmax
// is unchanged by adding a constant to all logits), and are 1/N times the
// single-position gradient probs − onehot.
TEST(Backward, CrossEntropyRowsSumToZero) {
  Case c("cross_entropy");
  run_cross_entropy(c);
  const int N = c.i("N"), V = c.i("V");
  int rows_off = 0;
  std::ostringstream first_off;
  for (int n = 0; n < N; ++n) {
    double sum = 0;
    for (int v = 0; v < V; ++v) sum += c.grads.at("logits")[size_t(n) * V + v];
    // dlogits = (p − onehot)/16: exact but for the target's p − 1 (half a
    // float spacing, u/2), and the reference's probs, each rounded once, sum
    // to 1 within u/2: |sum| <= u/16 = 4e-9.
    if (!(std::abs(sum) <= 1e-7) && rows_off++ == 0) first_off << "row " << n << ": " << sum;
  }
  EXPECT_HOLDS(rows_off == 0) << "every row of dlogits should sum to 0 (within 1e-7); " << rows_off
                              << " of " << N << " rows do not; the first, " << first_off.str();
}

// Shifting or scaling a row of LayerNorm's input does not change its output,
// so the input gradient has no component along those directions: every row of
// dinp sums to zero and is orthogonal to x̂.
TEST(Backward, LayerNormInputGradientIgnoresShiftAndScale) {
  Case c("layernorm");
  run_layernorm(c);
  const int N = c.i("N"), C = c.i("C");
  const float* x = c.in("in.inp");
  const float* mean = c.in("in.mean");
  const float* rstd = c.in("in.rstd");
  const std::vector<float>& dx = c.grads.at("inp");
  // Each property's failures, counted over the rows, with the first row that fails.
  struct RowProperty {
    std::string what;  // what it says when it fails, with the first failing row's value
    int rows = 0;
  };
  RowProperty zero{}, not_summing_to_zero{}, along_xhat{};
  for (int n = 0; n < N; ++n) {
    double sum = 0, dot_xhat = 0, size = 0;
    for (int j = 0; j < C; ++j) {
      const double g = dx[size_t(n) * C + j];
      sum += g;
      dot_xhat += g * (x[size_t(n) * C + j] - mean[n]) * rstd[n];
      size += std::abs(g);
    }
    // Zero in exact arithmetic. In float, Σ_j dx_j = rstd·(Σg − C·mean(g) − …)
    // keeps the rounding of the float sum behind mean(g), C = 32 terms of
    // size ~1: ~√C·u·√C·|g| ≈ 2e-6 for roundings falling either way, plus
    // each dx's own (u per element). 1e-5 and, for the sum weighted by x̂
    // (|x̂| <= ~3), 1e-4 leave a factor of 5 or more.
    if (!(size > 0.1) && zero.rows++ == 0) {
      zero.what = "the gradient of row " + std::to_string(n) +
                  " is (nearly) all zeros: Σ|dx| = " + number(size) +
                  ", expected > 0.1. Does layernorm_backward write dinp?";
    }
    if (!(std::abs(sum) <= 1e-5) && not_summing_to_zero.rows++ == 0) {
      not_summing_to_zero.what = "row " + std::to_string(n) + " of dx sums to " + number(sum) +
                                 ", expected 0 within 1e-5 (a shift of the " +
                                 "row changes nothing, so dx has no component along (1, ..., 1))";
    }
    if (!(std::abs(dot_xhat) <= 1e-4) && along_xhat.rows++ == 0) {
      along_xhat.what = "row " + std::to_string(n) + " of dx · x̂ is " + number(dot_xhat) +
                        ", expected 0 within 1e-4 (scaling the row changes nothing, so dx is " +
                        "orthogonal to x̂)";
    }
  }
  std::string failures;
  for (const RowProperty* p : {&zero, &not_summing_to_zero, &along_xhat}) {
    if (p->rows > 0) {
      failures += "\n  " + std::to_string(p->rows) + " of " + std::to_string(N) +
                  " rows fail; the first: " + p->what;
    }
  }
  EXPECT_HOLDS(failures.empty()) << "LayerNorm's input gradient dx, checked row by row:"
                                 << failures;
}

}  // namespace
}  // namespace gpt
