// chapters/07_gpt/sampling_test.cc — temperature, top-k, top-p and generation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/07_gpt/sampling.h"
#include "common/testing/expect.h"

namespace gpt {
namespace {

// Five tokens with clearly ordered logits: id 2 best, then 0, 4, 1, 3.
const std::vector<float> kLogits = {2.0f, 0.5f, 3.0f, -1.0f, 1.0f};

int count_candidates(const std::vector<float>& probs) {
  int n = 0;
  for (float p : probs) n += p > 0.0f;
  return n;
}

// "[0.233, 0.0519, ...]": a distribution as a failure message shows it.
std::string listed(const std::vector<double>& values) {
  std::ostringstream text;
  text << std::setprecision(3) << "[";
  for (size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
  return text.str() + "]";
}
std::string listed(const std::vector<float>& values) {
  return listed(std::vector<double>(values.begin(), values.end()));
}

// Draws `n` tokens and counts how often each id comes up; ids outside
// [0, V) are counted apart, so that a wrong id fails the test instead of
// writing outside the counts.
struct Draws {
  std::vector<int> counts;
  int outside = 0;  // draws that were not a token id
  int32_t first_outside = 0;
  Draws(int V, int n, const SamplingOptions& options, Rng& rng) : counts(V, 0) {
    for (int i = 0; i < n; ++i) {
      const int32_t id = sample_next(kLogits.data(), V, options, rng);
      if (id >= 0 && id < V) {
        ++counts[id];
      } else if (outside++ == 0) {
        first_outside = id;
      }
    }
  }
};

TEST(Sampling, TemperatureOneIsTheSoftmax) {
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, SamplingOptions{});
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  // Each exp is rounded to float (a few u), the sum is in double, the
  // division rounds once more: ~4u·p <= 2e-7 for p <= 1.
  std::vector<double> softmax(5);
  bool close = p.size() == 5;
  for (int i = 0; i < 5; ++i) {
    softmax[i] = std::exp(kLogits[i]) / z;
    close = close && std::abs(p[i] - softmax[i]) <= 1e-6;
  }
  EXPECT_HOLDS(close)
      << "at temperature 1 the distribution of logits " << listed(kLogits)
      << " should be their softmax " << listed(softmax) << " (each within 1e-6), but is "
      << listed(p);
}

TEST(Sampling, TemperatureZeroIsGreedy) {
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(1);
  const Draws draws(5, 50, greedy, rng);
  EXPECT_HOLDS(draws.counts[2] == 50)
      << "at temperature 0 every draw should be id 2, the largest logit of " << listed(kLogits)
      << "; of 50 draws, " << draws.counts[2] << " were 2"
      << (draws.outside ? ", " + std::to_string(draws.outside) + " not a token id at all (e.g. " +
                              std::to_string(draws.first_outside) + ")"
                        : "");
}

TEST(Sampling, LowTemperatureApproachesGreedy) {
  SamplingOptions cold;
  cold.temperature = 0.05f;
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, cold);
  EXPECT_HOLDS(p.size() == 5 && p[2] > 0.9999f)
      << "at temperature 0.05 the best token (id 2) should get more than 0.9999 of the "
         "probability; the distribution is "
      << listed(p);
}

TEST(Sampling, TopKKeepsOnlyTheKBest) {
  SamplingOptions o;
  o.top_k = 2;
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, o);
  // Only ids 2 and 0 left, renormalised: their sum is 1 within a few u.
  EXPECT_HOLDS(p.size() == 5 && count_candidates(p) == 2 && p[2] > 0 && p[0] > 0 &&
                                 std::abs(p[0] + p[2] - 1.0f) <= 1e-6)
      << "top_k = 2 should leave only ids 2 and 0 (the two largest logits of " << listed(kLogits)
      << "), renormalised to sum to 1; the distribution is " << listed(p);
  Rng rng(3);
  const Draws draws(5, 200, o, rng);
  EXPECT_HOLDS(draws.counts[0] + draws.counts[2] == 200)
      << "top_k = 2: all 200 draws should be id 0 or 2; " << 200 - draws.counts[0] - draws.counts[2]
      << " were not (counts per id "
      << listed(std::vector<double>(draws.counts.begin(), draws.counts.end()))
      << ", not a token id " << draws.outside << ")";
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  // softmax(kLogits) ≈ {0.229, 0.051, 0.624, 0.011, 0.084} (ids 0..4)
  // top_p 0.6: id 2 alone (0.624) reaches it; 0.8: ids 2 and 0 (0.853);
  // 0.9: ids 2, 0 and 4 (0.937).
  const float top_p[] = {0.6f, 0.8f, 0.9f};
  std::vector<double> kept;
  for (float p : top_p) {
    SamplingOptions o;
    o.top_p = p;
    kept.push_back(count_candidates(sampling_distribution(kLogits.data(), 5, o)));
  }
  EXPECT_HOLDS(kept == std::vector<double>({1, 2, 3}))
      << "top_p 0.6, 0.8 and 0.9 should keep 1, 2 and 3 candidates (softmax "
         "≈ [0.229, 0.051, 0.624, 0.011, 0.084]); they keep "
      << listed(kept);
}

TEST(Sampling, DrawsFollowTheDistribution) {
  Rng rng(11);
  const int n = 20000;
  const Draws draws(5, n, SamplingOptions{}, rng);
  const std::vector<float> p = sampling_distribution(kLogits.data(), 5, SamplingOptions{});
  std::vector<double> frequency(5);
  bool close = p.size() == 5;
  for (int i = 0; i < 5; ++i) {
    frequency[i] = draws.counts[i] / double(n);
    close = close && std::abs(frequency[i] - p[i]) <= 0.01;
  }
  EXPECT_HOLDS(close)
      << "over " << n
      << " draws each id should come up as often as its "
         "probability says (within 0.01): probabilities "
      << listed(p) << ", frequencies " << listed(frequency)
      << (draws.outside ? ", and " + std::to_string(draws.outside) + " draws were not a token id"
                        : "");
}

TEST(Sampling, BadOptionsAreClearErrors) {
  SamplingOptions o;
  o.top_p = 0.0f;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument) << "top_p 0";
  o = SamplingOptions{};
  o.temperature = -1.0f;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument)
      << "temperature -1";
  o = SamplingOptions{};
  o.top_k = -2;
  EXPECT_THROW(sampling_distribution(kLogits.data(), 5, o), std::invalid_argument) << "top_k -2";
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

// "step 7: 3, argmax 5; ...": the steps n >= first whose token out[n] is not
// the argmax of the logits after the tokens before it, of which the model
// sees the last max_length. Empty when greedy generation was right.
std::string steps_off_the_argmax(const GPTModel& model, const std::vector<int32_t>& out,
                                 size_t first) {
  const int V = model.config.vocab_size, P = model.config.max_length;
  std::string wrong;
  for (size_t n = first; n < out.size(); ++n) {
    const int T = static_cast<int>(std::min<size_t>(n, P));
    GPTActivations acts(model.config, 1, T);
    gpt_forward(acts, out.data() + n - T, model, 1, T);
    const float* last = acts.logits + size_t(T - 1) * V;  // (V): after token n - 1
    const int64_t argmax = std::max_element(last, last + V) - last;
    if (out[n] != argmax) {
      wrong += (wrong.empty() ? "" : "; ") +
               ("step " + std::to_string(n) + ": " + std::to_string(out[n]) + ", argmax " +
                std::to_string(argmax));
    }
  }
  return wrong;
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
  const std::string wrong = steps_off_the_argmax(model, out, 7);
  EXPECT_HOLDS(wrong.empty())
      << "past max_length (6), each greedy token should be the argmax "
         "of the logits after the last 6 tokens; it is not at "
      << wrong;
}

TEST(Generate, GreedyGenerationIsTheArgmaxEveryStep) {
  const GPTModel model = small_model();
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(1);
  const std::vector<int32_t> out = generate(model, {2, 7}, 4, greedy, rng);
  // Recompute each step's argmax by hand.
  const std::string wrong = steps_off_the_argmax(model, out, 2);
  EXPECT_HOLDS(wrong.empty())
      << "each greedy token should be the argmax of the logits after "
         "the tokens before it; it is not at "
      << wrong;
}

TEST(Generate, EmptyPromptIsAClearError) {
  const GPTModel model = small_model();
  Rng rng(1);
  EXPECT_THROW(generate(model, {}, 3, SamplingOptions{}, rng), std::invalid_argument);
}

}  // namespace
}  // namespace gpt
