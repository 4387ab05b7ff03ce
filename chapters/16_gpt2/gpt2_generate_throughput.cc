// chapters/16_gpt2/gpt2_generate_throughput.cc — chapter 16: GPT-2 generation speed, one JSON line.
//
//   bazel run //chapters/16_gpt2:gpt2_generate_throughput -- --threads 2 --tokens 64
//
// A GPT-2 preset (124M by default) on random weights (init_gpt2, --seed),
// batch 1: a --prompt_tokens prompt of random ids, then --tokens new tokens by
// chapter 10's generate_with_kv_cache on --threads OpenMP threads, greedy (as
// gpt2_reference.py's `generate` decodes) or, with --sample, sampled at
// temperature 1 by chapter 07's sampler. One untimed warm-up generation of a few tokens
// first (the weights' pages, the thread pool), then --runs timed ones. Prints
// one line of JSON: tokens_per_s (tokens over the median run's wall-clock
// seconds), the bytes a generated token reads (decode_traffic.h) and the GB/s
// that makes. generation_versus_pytorch.py reads it; gpt2_reference.py's
// `generate` prints the same first fields for PyTorch.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chapters/07_gpt/init.h"
#include "chapters/07_gpt/model.h"
#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/16_gpt2/decode_traffic.h"
#include "chapters/16_gpt2/gpt2_presets.h"
#include "common/timer.h"

namespace gpt {
namespace {

struct Options {
  std::string preset = "gpt2";
  int threads = 0, tokens = 64, prompt_tokens = 1, runs = 1, warmup_tokens = 4;
  uint64_t seed = 1;
  bool sample = false;
};

int run(const Options& o) {
  const Gpt2Preset& preset = gpt2_preset(o.preset);
  const GPTConfig& config = preset.config;
  if (o.tokens < 1 || o.prompt_tokens < 1 || o.prompt_tokens + o.tokens > config.max_length) {
    throw std::invalid_argument("need tokens >= 1, prompt_tokens >= 1 and their sum <= " +
                                std::to_string(config.max_length) + " (max_length)");
  }
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  GPTModel model(config);
  Rng rng(o.seed);
  init_gpt2(model, rng);
  std::vector<int32_t> prompt(o.prompt_tokens);
  for (int32_t& t : prompt) t = static_cast<int32_t>(rng.below(config.vocab_size));

  SamplingOptions decoding;  // temperature 1
  if (!o.sample) decoding.temperature = 0.0f;  // greedy: the likeliest token
  generate_with_kv_cache(model, prompt, std::min(o.tokens, o.warmup_tokens), decoding, rng,
                         nullptr, threads);
  std::vector<double> seconds;
  for (int r = 0; r < o.runs; ++r) {
    Timer timer;
    generate_with_kv_cache(model, prompt, o.tokens, decoding, rng, nullptr, threads);
    seconds.push_back(timer.seconds());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double tokens_per_s = o.tokens / median;
  const double bytes = bytes_per_generated_token(config, o.prompt_tokens, o.tokens);

  nlohmann::ordered_json line = {
      {"side", "ours"},
      {"tokens_per_s", tokens_per_s},
      {"threads", threads},
      {"seconds", median},
      {"tokens", o.tokens},
      {"prompt_tokens", o.prompt_tokens},
      {"preset", preset.name},
      {"parameters", model.num_parameters()},
      {"bytes_per_token", bytes},
      {"gb_per_s", tokens_per_s * bytes / 1e9},
      {"runs_seconds", seconds},
      {"decoding", o.sample ? "sampled, temperature 1" : "greedy"},
      {"engine", "chapter 10 KV cache (generate_with_kv_cache), fp32"},
  };
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // as chapter 10's programs do (spin_waiting.h)
  gpt::Options o;
  bool json = true;
  CLI::App app{"Chapter 16: GPT-2 batch-1 generation speed on random weights, as JSON"};
  app.add_option("--preset", o.preset, "gpt2, gpt2-medium, gpt2-large or gpt2-xl")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "OpenMP threads; 0: all cores")->capture_default_str();
  app.add_option("--tokens", o.tokens, "new tokens per generation")->capture_default_str();
  app.add_option("--prompt_tokens", o.prompt_tokens, "random prompt ids")->capture_default_str();
  app.add_option("--seed", o.seed, "weights and prompt")->capture_default_str();
  app.add_option("--runs", o.runs, "timed generations (the median counts)")->capture_default_str();
  app.add_option("--warmup_tokens", o.warmup_tokens, "tokens of the untimed first generation")
      ->capture_default_str();
  app.add_flag("--sample", o.sample, "sample at temperature 1 instead of greedy decoding");
  app.add_flag("--json", json, "print JSON (the only output there is)");
  CLI11_PARSE(app, argc, argv);
  try {
    return gpt::run(o);
  } catch (const std::exception& e) {
    std::cerr << "gpt2_generate_throughput: " << e.what() << std::endl;
    return 2;
  }
}
