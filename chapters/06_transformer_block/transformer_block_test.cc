// chapters/06_transformer_block/transformer_block_test.cc — a whole block against PyTorch.
//
// Each case in tests/references/06_transformer_block/ (tests/cases/ch06_transformer_block.py)
// holds a block's parameters, with random LayerNorm scales and shifts, an input,
// and every intermediate tensor PyTorch computed on the way to the output.
// PyTorch computes in float64 and rounds once: the exact answers.
// Tolerance: an element passes when |ours - torch| <= 1e-6 + 1e-5 * |torch|,
// the same as for the single ops (chapters 03–05 derive it): at these sizes a
// block is about ten ops deep, each adding a few u = 2^-24 of relative error
// and sums of at most F = 64 terms, ~√F·u·Σ|terms| ≈ 5e-7 where they cancel.
// Measured worst, on AVX-512, AVX2 and at -O1: 0.24 of the tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/06_transformer_block/dropout.h"
#include "chapters/06_transformer_block/residual.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

const Tolerance kTol{1e-6, 1e-5};
const char* kChapter = "06_transformer_block";

// A reference case's parameters, kept alive, and the views a block reads.
struct LoadedBlock {
  explicit LoadedBlock(const Safetensors& ref) {
    for (const std::string& name : ref.names()) store[name] = ref.floats(name);
  }
  const float* p(const std::string& name) const { return store.at(name).data(); }
  BlockParams params() const {
    return BlockParams{p("ln1.weight"), p("ln1.bias"),
                       AttentionParams{p("attn.qkv.weight"), p("attn.qkv.bias"),
                                       p("attn.proj.weight"), p("attn.proj.bias")},
                       p("ln2.weight"), p("ln2.bias"),
                       FeedForwardParams{p("mlp.fc.weight"), p("mlp.fc.bias"),
                                         p("mlp.proj.weight"), p("mlp.proj.bias")}};
  }
  std::map<std::string, std::vector<float>> store;
};

BlockConfig config_of(const Safetensors& ref) {
  BlockConfig c{config_int(ref, "B"), config_int(ref, "T"), config_int(ref, "embed_size"),
                config_int(ref, "heads"), config_int(ref, "ff_dim")};
  c.norm = ref.metadata.at("norm") == "post" ? NormPlacement::Post : NormPlacement::Pre;
  c.gelu = ref.metadata.at("gelu") == "tanh" ? GeluForm::Tanh : GeluForm::Erf;
  c.eps = std::stof(ref.metadata.at("layernorm_eps"));
  return c;
}

std::vector<float> slice(const float* p, size_t n) { return std::vector<float>(p, p + n); }

class BlockReference : public ::testing::TestWithParam<const char*> {};

TEST_P(BlockReference, OutputAndEveryStepMatchPyTorch) {
  const Safetensors ref = load_reference(kChapter, GetParam());
  const LoadedBlock block(ref);
  const BlockConfig c = config_of(ref);
  const size_t NC = size_t(c.B) * c.T * c.C, NF = size_t(c.B) * c.T * c.F;
  std::vector<float> buffer(BlockActivations::size(c)), out(NC);
  BlockActivations acts = BlockActivations::carve(buffer.data(), c);
  block_forward(out.data(), acts, block.p("in.x"), block.params(), c);

  // For failure messages: each step's inputs, taken from the reference, so
  // that a wrong step shows what it was given. Pre-LN: x → ln1 → attention →
  // residual1 = x + attn_out → ln2 → MLP → residual2 = residual1 + mlp_out.
  // Post-LN: residual1 = x + attn_out → ln1 → MLP → residual2 = ln1 + mlp_out → ln2.
  const bool pre = c.norm == NormPlacement::Pre;
  const std::vector<std::string> btc = {"b", "t", "c"}, btf = {"b", "t", "f"};
  const auto in = [&](const std::string& name) { return ref.floats(name); };
  const auto sum_of = [&](const std::string& a, const std::string& b) {
    return ElementContext{btc,
                          both(same_element(a, in("out." + a)), same_element(b, in("out." + b)))};
  };
  const auto normalising = [&](const std::string& input) {
    const std::vector<float> x = input == "x" ? in("in.x") : in("out." + input);
    return ElementContext{btc, both(same_element(input, x), row_statistics(input, x, c.C, c.C))};
  };
  const std::vector<float> x = in("in.x");
  const ElementContext residual1{
      btc, both(same_element("x", x), same_element("attn_out", in("out.attn_out")))};
  const ElementContext residual2 = pre ? sum_of("residual1", "mlp_out") : sum_of("ln1", "mlp_out");
  const ElementContext ln1 = normalising(pre ? "x" : "residual1");
  const ElementContext ln2 = normalising(pre ? "residual1" : "residual2");
  const ElementContext activated{btf, same_element("mlp_hidden", in("out.mlp_hidden"))};

  // In the order the block computes them: the first listed as differing is where to look.
  testing::ReferenceChecks checks(ref);
  if (pre) checks.add(slice(acts.ln1, NC), "out.ln1", kTol, ln1);
  checks.add(slice(acts.attn_out, NC), "out.attn_out", kTol, {btc, {}});
  checks.add(slice(acts.residual1, NC), "out.residual1", kTol, residual1);
  if (pre) checks.add(slice(acts.ln2, NC), "out.ln2", kTol, ln2);
  if (!pre) checks.add(slice(acts.ln1, NC), "out.ln1", kTol, ln1);
  checks.add(slice(acts.mlp_hidden, NF), "out.mlp_hidden", kTol, {btf, {}});
  checks.add(slice(acts.mlp_activated, NF), "out.mlp_activated", kTol, activated);
  checks.add(slice(acts.mlp_out, NC), "out.mlp_out", kTol, {btc, {}});
  checks.add(slice(acts.residual2, NC), "out.residual2", kTol, residual2);
  if (!pre) checks.add(slice(acts.ln2, NC), "out.ln2", kTol, ln2);
  checks.add(out, "out.out", kTol, {btc, {}});
  EXPECT_PASSES(checks.all_match());
}

INSTANTIATE_TEST_SUITE_P(Cases, BlockReference,
                         ::testing::Values("pre", "post", "awkward_pre", "awkward_post"));

// carve hands out the buffer exactly: block_forward writes every float of it
// (NaN before, finite after) and not one float past its end.
TEST(BlockActivations, ForwardFillsTheWholeBufferAndNothingMore) {
  for (const char* name : {"pre", "post"}) {
    const Safetensors ref = load_reference(kChapter, name);
    const LoadedBlock block(ref);
    const BlockConfig c = config_of(ref);
    const size_t size = BlockActivations::size(c), guard = 64;
    std::vector<float> buffer(size + guard, std::numeric_limits<float>::quiet_NaN());
    std::vector<float> out(size_t(c.B) * c.T * c.C);
    BlockActivations acts = BlockActivations::carve(buffer.data(), c);
    const size_t NC = size_t(c.B) * c.T * c.C;
    std::fill_n(acts.attn_dropout, NC, 1.0f);  // the masks are the trainer's to fill
    std::fill_n(acts.mlp_dropout, NC, 1.0f);
    block_forward(out.data(), acts, block.p("in.x"), block.params(), c);
    size_t unwritten = 0, overrun = 0;
    for (size_t i = 0; i < size; ++i) unwritten += !std::isfinite(buffer[i]);
    for (size_t i = size; i < size + guard; ++i) overrun += !std::isnan(buffer[i]);
    EXPECT_HOLDS(unwritten == 0) << name << ": " << unwritten << " of the activation buffer's "
                                 << size << " floats were never written (still NaN)";
    EXPECT_HOLDS(overrun == 0) << name << ": " << overrun << " floats written past the end of "
                               << "the activation buffer";
    EXPECT_EQ(acts.mlp_dropout + NC, buffer.data() + size) << name;
  }
}

// A layout that leaves out the weights and the split heads and gives the
// hidden layer fewer floats (chapter 17's bf16 keeps it in 16 bits): the
// size drops by exactly that, and the tensors still lie end to end.
TEST(BlockActivations, CarveFollowsTheLayout) {
  const BlockConfig c{2, 5, 12, 3, 48};
  const size_t N = size_t(c.B) * c.T, NC = N * c.C, NF = N * c.F;
  BlockLayout layout;
  layout.attention = {/*weights=*/false, /*split_heads=*/false};
  layout.hidden = [](size_t rows, int columns) { return rows * columns / 2 + 3; };
  const size_t full = BlockActivations::size(c), size = BlockActivations::size(c, layout);
  EXPECT_EQ(full - size, size_t(c.B) * c.H * c.T * c.T + 4 * NC + 2 * (NF - (NF / 2 + 3)));
  std::vector<float> buffer(size);
  const BlockActivations a = BlockActivations::carve(buffer.data(), c, layout);
  EXPECT_EQ(a.attn.weights, nullptr);
  for (const float* p : {a.attn.q, a.attn.k, a.attn.v, a.attn.y}) EXPECT_EQ(p, nullptr);
  EXPECT_EQ(a.attn.merged, a.attn.qkv + 3 * NC);
  EXPECT_EQ(a.mlp_activated, a.mlp_hidden + NF / 2 + 3);
  EXPECT_EQ(a.mlp_out, a.mlp_activated + NF / 2 + 3);
  EXPECT_EQ(a.mlp_dropout + NC, buffer.data() + size);
}

// With the sub-layers' output projections zeroed, attention and the MLP add
// nothing: a pre-LN block passes its input through exactly, a post-LN block
// still normalises it twice.
TEST(Block, PreLnPassesTheStreamThroughWhenSubLayersAddNothing) {
  for (const char* name : {"pre", "post"}) {
    const Safetensors ref = load_reference(kChapter, name);
    LoadedBlock block(ref);
    for (const char* silenced : {"attn.proj.weight", "attn.proj.bias", "mlp.proj.weight",
                                 "mlp.proj.bias"}) {
      std::fill(block.store[silenced].begin(), block.store[silenced].end(), 0.0f);
    }
    const BlockConfig c = config_of(ref);
    std::vector<float> buffer(BlockActivations::size(c)), out(size_t(c.B) * c.T * c.C);
    BlockActivations acts = BlockActivations::carve(buffer.data(), c);
    block_forward(out.data(), acts, block.p("in.x"), block.params(), c);
    const std::vector<float>& x = block.store.at("in.x");
    int64_t changed = 0;
    for (size_t i = 0; i < out.size(); ++i) changed += out[i] != x[i];
    if (c.norm == NormPlacement::Pre) {
      EXPECT_HOLDS(changed == 0) << "pre-LN: x + 0 + 0 must be x, bit for bit, but " << changed
                                 << " of " << out.size() << " outputs differ from x";
    } else {
      EXPECT_HOLDS(changed > int64_t(out.size()) / 2)
          << "post-LN normalises the stream itself, so most outputs should differ from x; only "
          << changed << " of " << out.size() << " do";
    }
  }
}

// Dropout multiplies each branch by its mask before the residual add: masks of
// all ones change nothing, masks of all zeros silence both branches.
TEST(Block, DropoutMasksScaleTheBranches) {
  const Safetensors ref = load_reference(kChapter, "pre");
  const LoadedBlock block(ref);
  BlockConfig c = config_of(ref);
  const size_t NC = size_t(c.B) * c.T * c.C;
  std::vector<float> buffer(BlockActivations::size(c)), plain(NC), ones(NC), zeros(NC);
  BlockActivations acts = BlockActivations::carve(buffer.data(), c);
  block_forward(plain.data(), acts, block.p("in.x"), block.params(), c);

  const std::vector<int64_t> shape = {c.B, c.T, c.C};
  const ElementContext where{{"b", "t", "c"}, {}};
  const Tolerance exactly{0, 0};
  std::fill_n(acts.attn_dropout, NC, 1.0f);
  std::fill_n(acts.mlp_dropout, NC, 1.0f);
  block_forward(ones.data(), acts, block.p("in.x"), block.params(), c, Mode::Train);
  const CompareReport kept = compare(ones.data(), plain.data(), shape, exactly);
  EXPECT_HOLDS(kept.ok) << kept.describe("masks of all ones vs no dropout (must be identical)",
                                         exactly, where);

  std::fill_n(acts.attn_dropout, NC, 0.0f);
  std::fill_n(acts.mlp_dropout, NC, 0.0f);
  block_forward(zeros.data(), acts, block.p("in.x"), block.params(), c, Mode::Train);
  const CompareReport dropped = compare(zeros.data(), block.p("in.x"), shape, exactly);
  EXPECT_HOLDS(dropped.ok) << dropped.describe(
      "pre-LN with both branches dropped vs its input x (must be the identity)", exactly, where);
}

TEST(Dropout, KeepsOneMinusPAndScalesBySurvivors) {
  const int64_t N = 200000;
  std::vector<float> mask(N);
  Rng rng(1);
  dropout_mask(mask.data(), N, 0.2f, rng);
  int64_t kept = 0;
  double sum = 0;
  for (float m : mask) {
    ASSERT_TRUE(m == 0.0f || m == 1.25f) << m;
    kept += m != 0.0f;
    sum += m;
  }
  EXPECT_NEAR(kept / double(N), 0.8, 0.005);  // keep rate 1 - p
  EXPECT_NEAR(sum / N, 1.0, 0.01);            // expectation unchanged: inverted dropout
  EXPECT_THROW(dropout_mask(mask.data(), N, 1.0f, rng), std::invalid_argument);
}

TEST(Block, HeadsNotDividingEmbedSizeIsAClearError) {
  BlockConfig c{1, 4, 10, 4, 16};
  EXPECT_THROW(BlockActivations::size(c), std::invalid_argument);
  std::vector<float> buffer(4096), x(40), out(40);
  BlockActivations acts{};
  const BlockParams params{};
  try {
    block_forward(out.data(), acts, x.data(), params, c);
    FAIL() << "no error for heads = 4, embed_size = 10";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("C=10"), std::string::npos) << e.what();
  }
}

TEST(Residual, AddsElementwiseAndWorksInPlace) {
  std::vector<float> a = {1.0f, -2.0f, 0.5f}, b = {0.25f, 2.0f, -3.0f}, out(3);
  residual_forward(out.data(), a.data(), b.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{1.25f, 0.0f, -2.5f}));
  residual_forward(a.data(), a.data(), b.data(), 3);  // the stream updated in place
  EXPECT_EQ(a, out);
  EXPECT_THROW(residual_forward(out.data(), a.data(), b.data(), -1), std::invalid_argument);
}

}  // namespace
}  // namespace gpt
