// chapters/04_multihead_attention/multihead_attention_test.cc — the linear layer,
// the head layouts and multi-head attention against PyTorch.
//
// Each case in tests/references/04_multihead_attention/ holds the input, the
// parameters of tests/reference/attention.py's MultiHeadAttention (or of one
// nn.Linear) and every intermediate tensor PyTorch computed
// (tests/cases/ch04_multihead_attention.py, in float64, rounded once).
// Tolerance, for every tensor: an element passes when
// |ours - torch| <= 1e-6 + 1e-5 * |torch|. split_heads and merge_heads only
// move numbers, so their results must be exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chapters/04_multihead_attention/heads.h"
#include "chapters/04_multihead_attention/linear.h"
#include "chapters/04_multihead_attention/multihead_attention.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

// Float32 against the exact answer (u = 2^-24): the projections are dot
// products of C <= 32 terms x·w with |x| ~ 1 and |w| <= 1/√C, so Σ|x·w| ~ √C
// and a projection, however its adds are ordered, is off by ~√C·u·√C = 2e-6
// at the very worst and ~√C·u ≈ 3e-7 with roundings that fall either way,
// even where it cancels to near 0 (atol 1e-6); attention on top adds chapter
// 03's few u relative (rtol 1e-5 = 170u).
const Tolerance kTol{1e-6, 1e-5};
const Tolerance kExact{0, 0};

class LinearReference : public ::testing::TestWithParam<const char*> {};

TEST_P(LinearReference, MatchesPyTorch) {
  const Safetensors ref = load_reference("04_multihead_attention", GetParam());
  const int N = config_int(ref, "N"), IC = config_int(ref, "IC"), OC = config_int(ref, "OC");
  const std::vector<float> bias = ref.has("linear.bias") ? ref.floats("linear.bias")
                                                         : std::vector<float>{};
  std::vector<float> out(size_t(N) * OC, std::nanf(""));
  linear_forward(out.data(), ref.floats("in.x").data(), ref.floats("linear.weight").data(),
                 bias.empty() ? nullptr : bias.data(), N, IC, OC);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.out", kTol, ElementContext{{"row", "out"}, {}});
}

INSTANTIATE_TEST_SUITE_P(Cases, LinearReference, ::testing::Values("linear", "linear_no_bias"));

// A multi-head attention case: sizes, parameters, and our forward pass's results.
struct MhaRun {
  int B, T, C, H;
  std::vector<float> buffer, out;
  AttentionActivations acts;
  std::vector<float> get(const float* p, size_t n) const { return {p, p + n}; }
};

MhaRun run_case(const Safetensors& ref) {
  MhaRun r;
  r.B = config_int(ref, "B"), r.T = config_int(ref, "T");
  r.C = config_int(ref, "embed_size"), r.H = config_int(ref, "heads");
  r.buffer.assign(AttentionActivations::size(r.B, r.T, r.C, r.H), std::nanf(""));
  r.acts = AttentionActivations::carve(r.buffer.data(), r.B, r.T, r.C, r.H);
  r.out.assign(size_t(r.B) * r.T * r.C, std::nanf(""));
  const std::vector<float> qkv_w = ref.floats("qkv.weight"), qkv_b = ref.floats("qkv.bias");
  const std::vector<float> proj_w = ref.floats("proj.weight"), proj_b = ref.floats("proj.bias");
  const AttentionParams params{qkv_w.data(), qkv_b.data(), proj_w.data(), proj_b.data()};
  multihead_attention_forward(r.out.data(), r.acts, ref.floats("in.x").data(), params, r.B, r.T,
                              r.C, r.H);
  return r;
}

class MultiHeadReference : public ::testing::TestWithParam<const char*> {};

// For failure messages: the names of the layouts' dimensions.
const ElementContext kTokens{{"b", "t", "c"}, {}};                 // (B, T, C) and (B, T, 3C)
const ElementContext kHeads{{"b", "head", "t", "c"}, {}};          // (B, H, T, hs)
const ElementContext kWeights{{"b", "head", "query", "key"}, {}};  // (B, H, T, T)

TEST_P(MultiHeadReference, EveryStepMatchesPyTorch) {
  const Safetensors ref = load_reference("04_multihead_attention", GetParam());
  const MhaRun r = run_case(ref);
  const size_t BTC = size_t(r.B) * r.T * r.C;
  // In the order computed: the first listed as differing is where to look.
  testing::ReferenceChecks checks(ref);
  checks.add(r.get(r.acts.qkv, 3 * BTC), "out.qkv", kTol, kTokens);
  checks.add(r.get(r.acts.q, BTC), "out.q", kTol, kHeads);
  checks.add(r.get(r.acts.k, BTC), "out.k", kTol, kHeads);
  checks.add(r.get(r.acts.v, BTC), "out.v", kTol, kHeads);
  checks.add(r.get(r.acts.weights, size_t(r.B) * r.H * r.T * r.T), "out.weights", kTol, kWeights);
  checks.add(r.get(r.acts.merged, BTC), "out.merged", kTol, kTokens);
  checks.add(r.out, "out.out", kTol, kTokens);
  EXPECT_PASSES(checks.all_match());
}

TEST_P(MultiHeadReference, SplitHeadsIsPyTorchsViewAndTranspose) {
  // From PyTorch's own qkv, so only the layout is under test: copies are exact.
  const Safetensors ref = load_reference("04_multihead_attention", GetParam());
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const int C = config_int(ref, "embed_size"), H = config_int(ref, "heads");
  const size_t BTC = size_t(B) * T * C;
  std::vector<float> q(BTC, std::nanf("")), k(BTC, std::nanf("")), v(BTC, std::nanf(""));
  split_heads(q.data(), k.data(), v.data(), ref.floats("out.qkv").data(), B, T, C, H);
  testing::ReferenceChecks checks(ref);
  checks.add(q, "out.q", kExact, kHeads);
  checks.add(k, "out.k", kExact, kHeads);
  checks.add(v, "out.v", kExact, kHeads);
  EXPECT_PASSES(checks.all_match());
}

TEST_P(MultiHeadReference, MergeHeadsUndoesSplitHeads) {
  // Merging PyTorch's q (B, H, T, hs) gives back the first C columns of its qkv.
  const Safetensors ref = load_reference("04_multihead_attention", GetParam());
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const int C = config_int(ref, "embed_size"), H = config_int(ref, "heads");
  std::vector<float> merged(size_t(B) * T * C, std::nanf(""));
  merge_heads(merged.data(), ref.floats("out.q").data(), B, T, C, H);
  // The first C columns of qkv (B, T, 3C), as a (B, T, C) tensor.
  const std::vector<float> qkv = ref.floats("out.qkv");
  std::vector<float> q_columns(size_t(B) * T * C);
  for (int bt = 0; bt < B * T; ++bt) {
    for (int c = 0; c < C; ++c) q_columns[size_t(bt) * C + c] = qkv[size_t(bt) * 3 * C + c];
  }
  const CompareReport same = compare(merged.data(), q_columns.data(), {B, T, C}, kExact);
  EXPECT_HOLDS(same.ok) << same.describe("merge_heads(q) vs qkv's first C columns", kExact,
                                         kTokens);
}

INSTANTIATE_TEST_SUITE_P(Cases, MultiHeadReference,
                         ::testing::Values("attention", "attention_awkward",
                                           "attention_one_head"));

TEST(MultiHeadAttention, HeadsMustDivideEmbedSize) {
  std::vector<float> buffer(4096), x(2 * 32), out(2 * 32);
  const AttentionParams params{buffer.data(), buffer.data(), buffer.data(), buffer.data()};
  AttentionActivations acts = AttentionActivations::carve(buffer.data(), 1, 2, 32, 4);
  try {
    multihead_attention_forward(out.data(), acts, x.data(), params, 1, 2, 32, 5);
    FAIL() << "no error for 5 heads of 32 channels";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "heads (5) must divide embed_size (32)");
  }
  EXPECT_THROW(AttentionActivations::size(1, 2, 32, 5), std::invalid_argument);
  EXPECT_THROW(AttentionActivations::size(1, 2, 32, 0), std::invalid_argument);
  EXPECT_THROW(split_heads(x.data(), x.data(), x.data(), buffer.data(), 1, 2, 32, 3),
               std::invalid_argument);
}

// With and without the weights and the split heads: the tensors carved must
// tile [0, size) exactly, and those left out are null.
TEST(AttentionActivations, CarveTilesTheBufferExactly) {
  const int B = 3, T = 5, C = 12, H = 3;
  const size_t BTC = size_t(B) * T * C;
  for (const bool weights : {true, false}) {
    for (const bool split : {true, false}) {
      const AttentionLayout layout{weights, split};
      const size_t size = AttentionActivations::size(B, T, C, H, layout);
      EXPECT_EQ(size, 4 * BTC + (weights ? size_t(B) * H * T * T : 0) + (split ? 4 * BTC : 0));
      std::vector<float> buffer(size);
      const AttentionActivations a =
          AttentionActivations::carve(buffer.data(), B, T, C, H, layout);
      std::vector<std::pair<const float*, size_t>> pieces = {{a.qkv, 3 * BTC}, {a.merged, BTC}};
      if (weights) pieces.push_back({a.weights, size_t(B) * H * T * T});
      if (split) {
        for (const float* p : {a.q, a.k, a.v, a.y}) pieces.push_back({p, BTC});
      }
      EXPECT_EQ(a.weights == nullptr, !weights);
      for (const float* p : {a.q, a.k, a.v, a.y}) EXPECT_EQ(p == nullptr, !split);
      // Each tensor's [start, start + its floats), sorted by start, must tile [0, size).
      std::sort(pieces.begin(), pieces.end());
      const float* next = buffer.data();
      for (const auto& [start, n] : pieces) {
        EXPECT_EQ(start, next) << "a gap or an overlap at float " << (start - buffer.data())
                               << " (weights " << weights << ", split heads " << split << ")";
        next = start + n;
      }
      EXPECT_EQ(next, buffer.data() + size);
    }
  }
}

}  // namespace
}  // namespace gpt
