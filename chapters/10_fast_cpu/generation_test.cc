// chapters/10_fast_cpu/generation_test.cc — KV-cache generation against chapter 07's.
//
// The cache must change the speed and nothing else. Checked on small models
// (pre-LN and post-LN, learned and sinusoidal positions, tied weights with
// tanh GELU, and sizes that are no multiple of the vector width):
//   - after every token, the logits equal a full recompute by chapter 07's
//     gpt_forward over the same context: |cache − full| <= 1e-5 + 1e-4·|full|;
//   - while prompt and new tokens fit in max_length, the text equals chapter
//     07's generate() token for token, greedy and sampled (same Rng draws);
//   - when the cache is full, the last max(1, P/2) tokens are re-encoded from
//     position 0: the logits equal a full recompute of exactly that context;
//   - 2 threads give the same bits as 1, and a prefill the same as appends;
//   - its LayerNorm (layernorm_rows.h) is chapter 05's up to one rounding,
//     and gives the same bits wherever a row lies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/10_fast_cpu/cached_decoder.h"
#include "chapters/10_fast_cpu/kv_cache.h"
#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/10_fast_cpu/layernorm_rows.h"
#include "common/aligned_vector.h"
#include "common/compare.h"
#include "common/random.h"
#include "common/testing/expect.h"

namespace gpt {
namespace {

// The cache and the full recompute add the same terms in other orders (a
// row at a time against a whole matrix product): each logit is a few u =
// 2^-24 relative plus ~1e-7 absolute off the exact one on either side, over
// ~30 ops: ~1e-6 at most (measured 7.8e-7 on AVX-512, AVX2 and at -O1).
const Tolerance kLogitsTol{1e-5, 1e-4};

struct Case {
  const char* name;
  GPTConfig config;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

GPTConfig small(Positions positions, NormPlacement norm, GeluForm gelu, bool tied) {
  GPTConfig c;
  c.vocab_size = 20, c.embed_size = 32, c.max_length = 12;
  c.num_layers = 2, c.heads = 4, c.ff_dim = 64;
  c.positions = positions, c.norm = norm, c.gelu = gelu, c.tie_weights = tied;
  return c;
}

GPTConfig awkward() {  // nothing a multiple of 16: the kernels' tails
  GPTConfig c;
  c.vocab_size = 13, c.embed_size = 24, c.max_length = 9;
  c.num_layers = 3, c.heads = 3, c.ff_dim = 40;
  return c;
}

const Case kCases[] = {
    {"pre_learned", small(Positions::Learned, NormPlacement::Pre, GeluForm::Erf, false)},
    {"pre_sinusoidal", small(Positions::Sinusoidal, NormPlacement::Pre, GeluForm::Erf, false)},
    {"post_learned", small(Positions::Learned, NormPlacement::Post, GeluForm::Erf, false)},
    {"post_sinusoidal", small(Positions::Sinusoidal, NormPlacement::Post, GeluForm::Erf, false)},
    {"tied_tanh", small(Positions::Learned, NormPlacement::Pre, GeluForm::Tanh, true)},
    {"awkward", awkward()},
};

// GPT-2's initialisation plus noise, so that biases and LayerNorm weights matter.
GPTModel make_model(const GPTConfig& config, uint64_t seed) {
  GPTModel model(config);
  Rng rng(seed);
  init_gpt2(model, rng);
  for (size_t i = 0; i < model.params.size(); ++i) model.params.data()[i] += rng.normal(0, 0.1f);
  return model;
}

std::vector<int32_t> random_tokens(int n, int V, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
  return t;
}

// Chapter 07's logits after the last of `context`: the full recompute.
std::vector<float> full_logits(const GPTModel& model, const std::vector<int32_t>& context) {
  const int T = static_cast<int>(context.size()), V = model.config.vocab_size;
  GPTActivations acts(model.config, 1, T);
  gpt_forward(acts, context.data(), model, 1, T);
  return std::vector<float>(acts.logits + size_t(T - 1) * V, acts.logits + size_t(T) * V);
}

// "[2, 3, 5]": token ids as a failure message shows them.
std::string ids(const std::vector<int32_t>& tokens) {
  std::string text = "[";
  for (size_t i = 0; i < tokens.size(); ++i) text += (i ? ", " : "") + std::to_string(tokens[i]);
  return text + "]";
}

// Two generated texts, token for token: a failure names the first token
// where they part, and what each has there.
::testing::AssertionResult same_tokens(const std::vector<int32_t>& ours,
                                       const std::vector<int32_t>& theirs,
                                       const std::string& what) {
  if (ours == theirs) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  failure << what << ": the texts part at token " << i << " of " << theirs.size();
  if (i < ours.size() && i < theirs.size())
    failure << " (ours " << ours[i] << ", theirs " << theirs[i] << ")";
  return failure << "; ours " << ids(ours) << ", theirs " << ids(theirs);
}

// Compares the logits at every position of a sequence, and reports once: the
// worst comparison is printed, the positions that fail make one failure.
struct Worst {
  CompareReport report;
  std::string where;
  int failures = 0;
  std::string first_failure;  // the first failing position's comparison
  void check(const float* actual, const std::vector<float>& expected, const std::string& at) {
    const CompareReport r = compare(actual, expected.data(), {int64_t(expected.size())}, kLogitsTol);
    if (!r.ok && failures++ == 0) first_failure = r.describe(at, kLogitsTol, {{"vocab"}, {}});
    if (where.empty() || r.max_abs_error > report.max_abs_error) report = r, where = at;
  }
  void print(const std::string& name) const {  // when all matched; a failure says the rest
    if (failures > 0) return;
    std::cout << "[ worst    ] " << name << ": " << report.describe(where, kLogitsTol) << std::endl;
  }
  ::testing::AssertionResult all_matched() const {
    if (failures == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << failures << " positions' logits differ from the full recompute; the first, "
           << first_failure;
  }
};

class Generation : public ::testing::TestWithParam<Case> {};

TEST_P(Generation, LogitsMatchTheFullRecomputeAtEveryPosition) {
  const GPTModel model = make_model(GetParam().config, 1);
  const int P = model.config.max_length;
  const std::vector<int32_t> tokens = random_tokens(P, model.config.vocab_size, 2);
  KVCache cache(model, 1);
  Worst worst;
  const int prompt = 3;
  const float* logits = cache.prefill(tokens.data(), prompt);
  worst.check(logits, full_logits(model, {tokens.begin(), tokens.begin() + prompt}), "prefill");
  for (int t = prompt; t < P; ++t) {
    logits = cache.append(tokens[t]);
    ASSERT_EQ(cache.length(), t + 1);
    worst.check(logits, full_logits(model, {tokens.begin(), tokens.begin() + t + 1}),
                "position " + std::to_string(t));
  }
  worst.print(GetParam().name);
  EXPECT_PASSES(worst.all_matched());
}

TEST_P(Generation, TextEqualsChapter07WhileItFits) {
  const GPTModel model = make_model(GetParam().config, 3);
  const int P = model.config.max_length;
  const std::vector<int32_t> prompt = random_tokens(2, model.config.vocab_size, 4);
  SamplingOptions greedy, sampled, narrowed;
  greedy.temperature = 0.0f;
  narrowed.temperature = 0.8f, narrowed.top_k = 5, narrowed.top_p = 0.9f;
  // Nine runs (three kinds of sampling, three seeds): one message for those that differ.
  int differing = 0;
  std::string first;  // the first run that differs, described
  for (const SamplingOptions& options : {greedy, sampled, narrowed}) {
    for (uint64_t seed : {5, 6, 7}) {
      Rng ours_rng(seed), theirs_rng(seed);
      std::vector<int32_t> seen;
      const std::vector<int32_t> ours = generate_with_kv_cache(
          model, prompt, P - 2, options, ours_rng, [&](int32_t id) { seen.push_back(id); }, 1);
      const std::vector<int32_t> theirs = generate(model, prompt, P - 2, options, theirs_rng);
      const bool same = ours == theirs &&
                        seen == std::vector<int32_t>(ours.begin() + 2, ours.end()) &&
                        ours_rng.state() == theirs_rng.state();
      if (!same && differing++ == 0) {
        std::ostringstream run;
        run << "temperature " << options.temperature << ", top_k " << options.top_k << ", top_p "
            << options.top_p << ", seed " << seed << ": ours " << ids(ours) << ", chapter 07's "
            << ids(theirs) << ", new tokens reported " << ids(seen)
            << (ours_rng.state() == theirs_rng.state() ? "" : ", and a different number of draws");
        first = run.str();
      }
    }
  }
  EXPECT_PASSES(differing == 0 ? ::testing::AssertionSuccess()
                                             : ::testing::AssertionFailure()
                                                   << differing << " of 9 generations differ from "
                                                   << "chapter 07's; the first, " << first);
}

// The window the policy says the model sees after appending `next`.
void slide(std::vector<int32_t>& window, int32_t next, int P) {
  window.push_back(next);
  if (static_cast<int>(window.size()) > P) {
    window.erase(window.begin(), window.end() - tokens_kept_when_full(P));
  }
}

TEST_P(Generation, AFullCacheKeepsTheLastHalfAndMatchesItsFullRecompute) {
  const GPTModel model = make_model(GetParam().config, 8);
  const int P = model.config.max_length;
  const std::vector<int32_t> text = random_tokens(3 * P + 5, model.config.vocab_size, 9);
  KVCache cache(model, 1);
  std::vector<int32_t> tokens = {text[0]}, window = {text[0]};
  cache.prefill(tokens.data(), 1);
  Worst worst;
  int rebuilds = 0;
  for (size_t i = 1; i < text.size(); ++i) {
    const bool full = cache.length() == P;
    tokens.push_back(text[i]);
    slide(window, text[i], P);
    const float* logits = advance_cache(cache, tokens);
    rebuilds += full;
    ASSERT_EQ(cache.length(), static_cast<int>(window.size())) << "after token " << i;
    worst.check(logits, full_logits(model, window), "token " + std::to_string(i));
  }
  EXPECT_GE(rebuilds, 3);
  EXPECT_EQ(tokens_kept_when_full(P), std::max(1, P / 2));
  worst.print(GetParam().name);
  EXPECT_PASSES(worst.all_matched());
}

// Chapter 07's generation loop with the same policy, by full recompute.
std::vector<int32_t> generate_by_recompute(const GPTModel& model, std::vector<int32_t> tokens,
                                           int n, const SamplingOptions& options, Rng& rng) {
  const int P = model.config.max_length, V = model.config.vocab_size;
  std::vector<int32_t> window(tokens.end() - std::min<int>(tokens.size(), P), tokens.end());
  for (int i = 0; i < n; ++i) {
    const std::vector<float> logits = full_logits(model, window);
    const int32_t next = sample_next(logits.data(), V, options, rng);
    tokens.push_back(next);
    slide(window, next, P);
  }
  return tokens;
}

TEST_P(Generation, LongTextEqualsTheRecomputeWithTheSamePolicy) {
  const GPTModel model = make_model(GetParam().config, 10);
  const int P = model.config.max_length;
  for (int prompt_length : {1, P + 3}) {  // a prompt longer than P is cropped to its last P
    const std::vector<int32_t> prompt = random_tokens(prompt_length, model.config.vocab_size, 11);
    Rng ours_rng(12), theirs_rng(12);
    const std::vector<int32_t> ours =
        generate_with_kv_cache(model, prompt, 3 * P, SamplingOptions{}, ours_rng, nullptr, 1);
    const std::vector<int32_t> theirs =
        generate_by_recompute(model, prompt, 3 * P, SamplingOptions{}, theirs_rng);
    EXPECT_PASSES(same_tokens(ours, theirs,
                                            "with a prompt of " + std::to_string(prompt_length) +
                                                ", the cache's text vs the recompute's"));
    Rng first_rng(12);  // the first new token sees the same context as chapter 07's
    const int32_t chapter07_first = generate(model, prompt, 1, SamplingOptions{}, first_rng).back();
    EXPECT_EQ(ours[prompt_length], chapter07_first)
        << "the first new token after a prompt of " << prompt_length
        << " should be chapter 07's generate()'s";
  }
}

TEST_P(Generation, TwoThreadsAndPrefillsGiveTheSameBits) {
  const GPTModel model = make_model(GetParam().config, 13);
  const int P = model.config.max_length, V = model.config.vocab_size;
  const std::vector<int32_t> tokens = random_tokens(P, V, 14);
  KVCache one(model, 1), two(model, 2);
  for (int t = 0; t < P; ++t) {
    const float* a = one.append(tokens[t]);
    const float* b = two.append(tokens[t]);
    for (int v = 0; v < V; ++v) ASSERT_EQ(a[v], b[v]) << "position " << t << ", token " << v;
  }
  KVCache at_once(model, 2);  // a prefill: the same bits as token-by-token appends
  const float* c = at_once.prefill(tokens.data(), P);
  const float* a = one.prefill(tokens.data(), 1);
  for (int t = 1; t < P; ++t) a = one.append(tokens[t]);
  for (int v = 0; v < V; ++v) ASSERT_EQ(a[v], c[v]) << "token " << v;
  Rng rng1(15), rng2(15);
  EXPECT_EQ(generate_with_kv_cache(model, {1}, 2 * P, SamplingOptions{}, rng1, nullptr, 1),
            generate_with_kv_cache(model, {1}, 2 * P, SamplingOptions{}, rng2, nullptr, 2));
}

INSTANTIATE_TEST_SUITE_P(Models, Generation, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GenerationPolicy, OnePositionAndOddLengths) {
  EXPECT_EQ(tokens_kept_when_full(1), 1);
  EXPECT_EQ(tokens_kept_when_full(7), 3);
  EXPECT_EQ(tokens_kept_when_full(64), 32);
  GPTConfig c = awkward();
  c.max_length = 1;  // every token after the first rebuilds a one-token context
  const GPTModel model = make_model(c, 16);
  Rng ours_rng(17), theirs_rng(17);
  EXPECT_EQ(generate_with_kv_cache(model, {2, 3}, 5, SamplingOptions{}, ours_rng, nullptr, 1),
            generate(model, {2, 3}, 5, SamplingOptions{}, theirs_rng))
      << "with P = 1 both see only the last token";
}

// Rows of C floats around `center` (their spread `spread`), LayerNorm weights
// near 1 and biases near 0.
struct LayerNormCase {
  std::vector<float> x, weight, bias;
  LayerNormCase(int N, int C, float center, float spread, uint64_t seed)
      : x(size_t(N) * C), weight(C), bias(C) {
    Rng rng(seed);
    for (float& v : x) v = rng.normal(center, spread);
    for (float& v : weight) v = rng.normal(1.0f, 0.1f);
    for (float& v : bias) v = rng.normal(0.0f, 0.1f);
  }
};

// Against chapter 05's LayerNorm: the same double sums in another order, so
// the mean and 1/std agree to ~C·2^-53 relative and their floats to one
// rounding (2u relative). An output, float(x̂)·w + b with x̂ = (x − mean)·rstd,
// may then differ by one rounding of float(x̂) (2u·|x̂|·|w|) and by the product
// with w being fused with the add or not (u·|x̂|·|w|): 3u·max|x̂|·max|w| over
// the case, plus 2u of the result. Rows far from zero, at mean 1000 and spread
// 0.1, are where float sums would lose the most (chapter 05's README); double
// sums keep them to the same bound. C = 3, 5, 20, 27, 1003: the tails of
// C % 16 and C % 4 columns (3 and 5: no group of 16; 3: no group of 4 either).
TEST(LayerNormRows, MatchesChapter05sDoubleSums) {
  const int N = 6;
  const Tolerance stats_tol{0, 2 * kFloatRoundoff};
  struct Rows {
    float center, spread;
  };
  for (int C : {3, 5, 20, 27, 256, 1003}) {
    for (const Rows rows : {Rows{0.0f, 1.0f}, Rows{100.0f, 1.0f}, Rows{1000.0f, 0.1f}}) {
      const LayerNormCase in(N, C, rows.center, rows.spread, uint64_t(C) + uint64_t(rows.center));
      std::vector<float> ours(size_t(N) * C), theirs(ours.size());
      std::vector<float> ours_mean(N), ours_rstd(N), theirs_mean(N), theirs_rstd(N);
      layernorm_rows(ours.data(), ours_mean.data(), ours_rstd.data(), in.x.data(),
                     in.weight.data(), in.bias.data(), N, C, 1e-5f);
      layernorm_forward(theirs.data(), theirs_mean.data(), theirs_rstd.data(), in.x.data(),
                        in.weight.data(), in.bias.data(), N, C, 1e-5f);
      double max_xhat = 0, max_w = 0;
      for (int n = 0; n < N; ++n) {
        for (int c = 0; c < C; ++c) {
          const double xhat = (double(in.x[size_t(n) * C + c]) - theirs_mean[n]) * theirs_rstd[n];
          max_xhat = std::max(max_xhat, std::abs(xhat));
        }
      }
      for (float w : in.weight) max_w = std::max(max_w, double(std::abs(w)));
      const Tolerance out_tol{3 * kFloatRoundoff * max_xhat * max_w, 2 * kFloatRoundoff};
      const std::string name = "C " + std::to_string(C) + ", rows at mean " +
                               std::to_string(int(rows.center)) + " spread " +
                               std::to_string(rows.spread).substr(0, 3);
      const ElementContext context{{"row", "col"}, row_statistics("x", in.x, C, C)};
      const CompareReport out = compare(ours.data(), theirs.data(), {N, C}, out_tol);
      const CompareReport mean = compare(ours_mean.data(), theirs_mean.data(), {N}, stats_tol);
      const CompareReport rstd = compare(ours_rstd.data(), theirs_rstd.data(), {N}, stats_tol);
      EXPECT_HOLDS(out.ok) << out.describe(name + ", output", out_tol, context);
      EXPECT_HOLDS(mean.ok) << mean.describe(name + ", mean", stats_tol);
      EXPECT_HOLDS(rstd.ok) << rstd.describe(name + ", rstd", stats_tol);
      if (out.ok && mean.ok && rstd.ok) {
        std::cout << "[ worst    ] " << out.describe(name + ", output", out_tol, context) << "\n";
      }
    }
  }
}

// A prefill normalises its token i at row i of a buffer, an append at row 0:
// the bits must not depend on the address. The same row at all 16 float
// offsets from a 64-byte boundary, for C with and without tails; and in
// place (out = x), which the header allows.
TEST(LayerNormRows, GivesTheSameBitsAtEveryAddressAndInPlace) {
  for (int C : {3, 20, 27, 256}) {
    const LayerNormCase in(1, C, 0.5f, 1.0f, 20);
    AlignedVector<float> x(C + 16), y(C + 16);
    std::vector<float> first(C);
    float first_mean = 0, first_rstd = 0;
    for (int offset = 0; offset < 16; ++offset) {
      std::copy(in.x.begin(), in.x.end(), x.data() + offset);
      float mean = 0, rstd = 0;
      layernorm_rows(y.data() + offset, &mean, &rstd, x.data() + offset, in.weight.data(),
                     in.bias.data(), 1, C, 1e-5f);
      if (offset == 0) {
        std::copy_n(y.data(), C, first.data());
        first_mean = mean, first_rstd = rstd;
      }
      ASSERT_EQ(mean, first_mean) << "C " << C << ", the row " << offset << " floats in: mean";
      ASSERT_EQ(rstd, first_rstd) << "C " << C << ", the row " << offset << " floats in: rstd";
      for (int c = 0; c < C; ++c) {
        ASSERT_EQ(y[offset + c], first[c]) << "C " << C << ", the row " << offset
                                           << " floats past a 64-byte boundary, column " << c;
      }
    }
    std::vector<float> in_place = in.x;  // out = x
    layernorm_rows(in_place.data(), nullptr, nullptr, in_place.data(), in.weight.data(),
                   in.bias.data(), 1, C, 1e-5f);
    for (int c = 0; c < C; ++c) {
      ASSERT_EQ(in_place[c], first[c]) << "C " << C << ", in place, column " << c;
    }
  }
}

// A cache that computes nothing: it records the calls the loop makes, and
// its logits make the next token (the sum of the cached tokens + 1) mod V.
class RecordingDecoder : public CachedDecoder {
 public:
  explicit RecordingDecoder(int capacity) : capacity_(capacity), logits_(kV) {}
  int capacity() const override { return capacity_; }
  int length() const override { return static_cast<int>(cached_.size()); }
  int vocab_size() const override { return kV; }
  const float* prefill(const int32_t* tokens, int n) override {
    cached_.assign(tokens, tokens + n);
    calls.push_back("prefill " + list(cached_));
    return next_logits();
  }
  const float* append(int32_t token) override {
    cached_.push_back(token);
    calls.push_back("append " + std::to_string(token));
    return next_logits();
  }
  std::vector<std::string> calls;

 private:
  static constexpr int kV = 5;
  static std::string list(const std::vector<int32_t>& ids) {
    std::string text;
    for (int32_t id : ids) text += std::to_string(id);
    return text;
  }
  const float* next_logits() {
    int sum = 1;
    for (int32_t id : cached_) sum += id;
    std::fill(logits_.begin(), logits_.end(), 0.0f);
    logits_[sum % kV] = 10.0f;  // greedy picks it
    return logits_.data();
  }
  int capacity_;
  std::vector<int32_t> cached_;
  std::vector<float> logits_;
};

// The loop alone, on any cache: the prompt cropped to the last P tokens, one
// append per new token but the last, and when the cache is full a prefill of
// the last max(1, P/2) tokens, the new one included.
TEST(GenerationLoop, PrefillsAppendsAndHalvesWhenFull) {
  RecordingDecoder cache(4);
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(3);
  const std::vector<int32_t> tokens =
      generate_with_cache(cache, {1, 0, 2, 1, 1}, 4, greedy, rng);
  // The cache takes the prompt's last 4 tokens, 0 2 1 1: next (1 + 4) mod 5 = 0.
  // Full: keep the last 2, 1 0: next 2. Append 2 (1 0 2): next 4. Append 4
  // (1 0 2 4): next 3, the last token, which needs no append.
  const std::vector<std::string> expected = {"prefill 0211", "prefill 10", "append 2",
                                             "append 4"};
  EXPECT_EQ(cache.calls, expected);
  EXPECT_EQ(tokens, (std::vector<int32_t>{1, 0, 2, 1, 1, 0, 2, 4, 3}));
}

TEST(GenerationErrors, AreClear) {
  const GPTModel model = make_model(awkward(), 18);
  Rng rng(19);
  EXPECT_THROW(generate_with_kv_cache(model, {}, 3, SamplingOptions{}, rng), std::invalid_argument);
  EXPECT_THROW(generate_with_kv_cache(model, {1}, -1, SamplingOptions{}, rng),
               std::invalid_argument);
  EXPECT_THROW(generate_with_kv_cache(model, {13}, 3, SamplingOptions{}, rng), std::out_of_range);
  SamplingOptions bad;
  bad.top_p = 0.0f;
  EXPECT_THROW(generate_with_kv_cache(model, {1}, 3, bad, rng), std::invalid_argument);
  EXPECT_EQ(generate_with_kv_cache(model, {1, 2}, 0, SamplingOptions{}, rng),
            (std::vector<int32_t>{1, 2}));
  KVCache cache(model, 1);
  EXPECT_THROW(cache.prefill(nullptr, 0), std::invalid_argument);
  const std::vector<int32_t> full(model.config.max_length, 1);
  cache.prefill(full.data(), static_cast<int>(full.size()));
  EXPECT_THROW(cache.append(1), std::length_error);
}

}  // namespace
}  // namespace gpt
