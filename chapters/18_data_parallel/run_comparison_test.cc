// chapters/18_data_parallel/run_comparison_test.cc — the checks' comparison: a NaN never passes.
#include "chapters/18_data_parallel/run_comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace gpt {
namespace {

GPTConfig small_config() {
  GPTConfig c;
  c.vocab_size = 13;
  c.embed_size = 8;
  c.max_length = 4;
  c.num_layers = 1;
  c.heads = 2;
  c.ff_dim = 16;
  return c;
}

TEST(ToleranceApart, IsTheErrorOverTheAllowedErrorAndInfiniteForNaN) {
  EXPECT_DOUBLE_EQ(tolerances_apart(1.5, 1.0, {0.5, 0.0}), 1.0);
  EXPECT_DOUBLE_EQ(tolerances_apart(10.0, 12.0, {1.0, 0.5}), 2.0 / 7.0);
  EXPECT_EQ(tolerances_apart(NAN, 1.0, kSameRun), INFINITY);
  EXPECT_EQ(tolerances_apart(1.0, NAN, kSameRun), INFINITY);
  EXPECT_EQ(tolerances_apart(NAN, NAN, kSameRun), INFINITY) << "two NaNs are no agreement";
}

TEST(WorstValue, FindsTheFarthestValueButThoseSkipped) {
  const float got[4] = {1.0f, 5.0f, NAN, 2.0f}, want[4] = {1.0f, 1.0f, 1.0f, 3.0f};
  const std::vector<bool> skip = {false, false, true, false};
  const WorstValue worst = worst_value(got, want, 4, {1.0, 0.0}, &skip);
  EXPECT_EQ(worst.index, 1u);
  EXPECT_DOUBLE_EQ(worst.tolerances, 4.0);
  EXPECT_EQ(worst_value(got, want, 4, {1.0, 0.0}).tolerances, INFINITY) << "the NaN, not skipped";
}

TEST(KeyBiases, AreTheMiddleThirdOfEachQkvBias) {
  const ParameterLayout layout(small_config());
  const std::vector<bool> key = key_biases(layout);
  const ParameterSlot& bias = layout.find("blocks.0.attn.qkv.bias");
  const size_t C = bias.numel / 3;
  size_t marked = 0;
  for (bool k : key) marked += k;
  EXPECT_EQ(marked, C);
  EXPECT_FALSE(key[bias.offset + C - 1]);
  EXPECT_TRUE(key[bias.offset + C]);
  EXPECT_TRUE(key[bias.offset + 2 * C - 1]);
  EXPECT_FALSE(key[bias.offset + 2 * C]);
}

TEST(CompareStates, PassesEqualStatesAndFailsANaNAnywhere) {
  const GPTConfig config = small_config();
  TrainingState want(config);
  for (size_t i = 0; i < want.model.params.size(); ++i) {
    want.model.params.data()[i] = 0.5f;
    want.m.data()[i] = 0.25f;
    want.v.data()[i] = 0.125f;
  }
  const std::vector<bool> key_bias = key_biases(want.model.params.layout());
  for (size_t i = 0; i < key_bias.size(); ++i) {
    if (key_bias[i]) want.model.params.data()[i] = 0.0f;  // where training keeps them
  }
  const ParameterSlot& bias = want.model.params.layout().find("blocks.0.attn.qkv.bias");
  const size_t key = bias.offset + bias.numel / 2;  // in the key third
  {
    TrainingState got = want;
    EXPECT_TRUE(compare_states(got, want, kSameRun, kSameRun).ok());
  }
  {
    TrainingState got = want;
    got.v.data()[3] = NAN;
    const StateComparison c = compare_states(got, want, kSameRun, kSameRun);
    EXPECT_FALSE(c.ok());
    EXPECT_EQ(c.worst().name, "AdamW v");
    EXPECT_EQ(c.worst().worst.index, 3u);
  }
  {
    TrainingState got = want;
    got.model.params.data()[key] = 0.5f;  // far from want's, but only "near 0" is asked: not that
    EXPECT_FALSE(compare_states(got, want, kSameRun, kSameRun).ok());
    got.model.params.data()[key] = NAN;
    const StateComparison c = compare_states(got, want, kSameRun, kSameRun);
    EXPECT_EQ(c.key_biases_off.size(), 1u) << "a NaN key bias is not near 0";
    EXPECT_TRUE(c.buffers[0].ok()) << "key biases are not compared as values";
  }
  {
    TrainingState got = want;
    got.model.params.data()[key] = 5e-4f;  // near 0, though 1000s of tolerances from want's
    EXPECT_TRUE(compare_states(got, want, kSameRun, kSameRun).ok());
  }
  GPTConfig bigger = config;
  bigger.num_layers = 2;
  EXPECT_THROW(compare_states(TrainingState(bigger), want, kSameRun, kSameRun),
               std::invalid_argument);
}

}  // namespace
}  // namespace gpt
