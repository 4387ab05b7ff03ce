// chapters/07_gpt/sampling_test.cc — temperature, top-k, top-p and generation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/07_gpt/sampling.h"

namespace gpt {
namespace {

// Five tokens with clearly ordered logits: id 2 best, then 0, 4, 1, 3.
const std::vector<float> kLogits = {2.0f, 0.5f, 3.0f, -1.0f, 1.0f};

int count_candidates(const std::vector<float>& probs) {
  int n = 0;
  for (float p : probs) n += p > 0.0f;
  return n;
}

TEST(Sampling, TemperatureOneIsTheSoftmax) {
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, SamplingOptions{});
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  // Each exp is rounded to float (a few u), the sum is in double, the
  // division rounds once more: ~4u·p <= 2e-7 for p <= 1.
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(p[i], std::exp(kLogits[i]) / z, 1e-6) << "token " << i;
}

TEST(Sampling, TemperatureZeroIsGreedy) {
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(1);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sample_next(kLogits.data(), 5, greedy, rng), 2);
}

TEST(Sampling, LowTemperatureApproachesGreedy) {
  SamplingOptions cold;
  cold.temperature = 0.05f;
  EXPECT_GT(sampling_distribution(kLogits.data(), 5, cold)[2], 0.9999f);
}

TEST(Sampling, TopKKeepsOnlyTheKBest) {
  SamplingOptions o;
  o.top_k = 2;
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, o);
  EXPECT_EQ(count_candidates(p), 2);
  EXPECT_GT(p[2], 0.0f);
  EXPECT_GT(p[0], 0.0f);
  EXPECT_NEAR(p[0] + p[2], 1.0f, 1e-6);  // renormalised: a few u
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const int32_t id = sample_next(kLogits.data(), 5, o, rng);
    EXPECT_TRUE(id == 0 || id == 2) << id;
  }
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  // softmax(kLogits) ≈ {0.233, 0.052, 0.634, 0.012, 0.086} (ids 0..4)
  SamplingOptions o;
  o.top_p = 0.6f;  // id 2 alone (0.634) reaches it
  EXPECT_EQ(count_candidates(sampling_distribution(kLogits.data(), 5, o)), 1);
  o.top_p = 0.8f;  // ids 2 and 0 (0.867)
  EXPECT_EQ(count_candidates(sampling_distribution(kLogits.data(), 5, o)), 2);
  o.top_p = 0.9f;  // ids 2, 0 and 4 (0.953)
  EXPECT_EQ(count_candidates(sampling_distribution(kLogits.data(), 5, o)), 3);
}

TEST(Sampling, DrawsFollowTheDistribution) {
  Rng rng(11);
  std::vector<int> counts(5, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[sample_next(kLogits.data(), 5, SamplingOptions{}, rng)]++;
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, SamplingOptions{});
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(counts[i] / double(n), p[i], 0.01) << "token " << i;
}

TEST(Sampling, BadOptionsAreClearErrors) {
  SamplingOptions o;
  o.top_p = 0.0f;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument);
  o = SamplingOptions{};
  o.temperature = -1.0f;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument);
  o = SamplingOptions{};
  o.top_k = -2;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument);
}

GPTModel small_model() {
  GPTConfig config;
  config.vocab_size = 13, config.embed_size = 16, config.max_length = 6;
  config.num_layers = 1, config.heads = 2, config.ff_dim = 32;
  GPTModel model(config);
  Rng rng(9);
  init_gpt2(model, rng);
  for (size_t i = 0; i < model.params.size(); ++i) model.params.data()[i] *= 5.0f;  // less uniform than at init
  return model;
}

TEST(Generate, SameSeedSameTextOtherSeedOtherText) {
  const GPTModel model = small_model();
  Rng a(1), b(1), c(2);
  const std::vector<int32_t> prompt = {3, 1};
  const std::vector<int32_t> x = generate(model, prompt, 20, SamplingOptions{}, a);
  EXPECT_EQ(x.size(), 22u);
  EXPECT_EQ(std::vector<int32_t>(x.begin(), x.begin() + 2), prompt);
  EXPECT_EQ(x, generate(model, prompt, 20, SamplingOptions{}, b));
  EXPECT_NE(x, generate(model, prompt, 20, SamplingOptions{}, c));
}

TEST(Generate, RunsPastMaxLengthByCroppingTheContext) {
  const GPTModel model = small_model();  // max_length 6
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(4);
  int seen = 0;
  const std::vector<int32_t> out =
      generate(model, {1}, 15, greedy, rng, [&](int32_t) { ++seen; });
  ASSERT_EQ(out.size(), 16u);
  EXPECT_EQ(seen, 15);
  // Past max_length, each token is the argmax after the LAST 6 tokens.
  GPTActivations acts(model.config, 1, 6);
  for (size_t n = 7; n < out.size(); ++n) {
    gpt_forward(acts, out.data() + n - 6, model, 1, 6);
    const float* last = acts.logits + 5 * 13;
    EXPECT_EQ(out[n], std::max_element(last, last + 13) - last) << "step " << n;
  }
}

TEST(Generate, GreedyGenerationIsTheArgmaxEveryStep) {
  const GPTModel model = small_model();
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(1);
  const std::vector<int32_t> out = generate(model, {2, 7}, 4, greedy, rng);
  // Recompute each step's argmax by hand.
  GPTActivations acts(model.config, 1, 6);
  for (size_t n = 2; n < out.size(); ++n) {
    gpt_forward(acts, out.data(), model, 1, static_cast<int>(n));
    const float* last = acts.logits + (n - 1) * 13;
    EXPECT_EQ(out[n], std::max_element(last, last + 13) - last) << "step " << n;
  }
}

TEST(Generate, EmptyPromptIsAClearError) {
  const GPTModel model = small_model();
  Rng rng(1);
  EXPECT_THROW(generate(model, {}, 3, SamplingOptions{}, rng), std::invalid_argument);
}

}  // namespace
}  // namespace gpt
