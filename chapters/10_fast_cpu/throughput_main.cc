// chapters/10_fast_cpu/throughput_main.cc — chapter 10: tokens per second, as one JSON line.
//
//   bazel run //chapters/10_fast_cpu:throughput -- --device fast --mode train --threads 2
//
// Times one device's training step (--mode train: engine->step on random
// batches), forward pass with the loss (--mode forward: engine->evaluate, the
// passes one run of evaluations: chapter 09's EvaluationRun) or
// batch-1 generation (--mode generate: --new_tokens tokens after a 1-token
// prompt, sampled at temperature 1), after --warmup untimed steps, for at
// least --steps steps and --seconds seconds. Prints one line of JSON:
// tokens_per_s (tokens of all timed steps over their total time),
// ms_per_step (the median step), gflop_per_s (model_flops.h's count; the
// products with the weights account for product_flop_per_token of it), the
// configuration, and timed_from_s and timed_to_s: when the timed steps began
// and ended, in seconds of the monotonic clock (CLOCK_MONOTONIC on Linux), so
// that a profile can keep the samples of the timed steps only
// (profile_shares.py). versus_pytorch.py reads the line; pytorch_throughput.py
// prints the same fields for PyTorch.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/device.h"
#include "chapters/10_fast_cpu/fast_cpu_device.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/10_fast_cpu/model_flops.h"
#include "common/timer.h"

namespace gpt {
namespace {

// "fast" is chapter 10's device: its training engine and, for generation,
// the KV cache (fast_cpu_device.h); "reference" is chapter 09's.
Devices devices(int threads) {
  return {{"fast", fast_cpu_device(threads)}, {"reference", reference_cpu_device()}};
}

struct Options {
  std::string device = "fast", mode = "train";
  GPTConfig config;
  int batch_size = 32, threads = 0, steps = 3, warmup = 1, new_tokens = 200;
  double seconds = 3.0;
};

// Seconds on the monotonic clock: steady_clock is CLOCK_MONOTONIC on Linux,
// the clock `perf record -k CLOCK_MONOTONIC` stamps its samples with.
double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run(const Options& o) {
  const Devices offered = devices(o.threads);
  const Device& device = choose_device(offered, o.device).second;
  const GPTConfig& config = o.config;
  config.validate();
  const int B = o.mode == "generate" ? 1 : o.batch_size, T = config.max_length;
  const int tokens_per_step = o.mode == "generate" ? o.new_tokens : B * T;
  const double flops_per_token = model_flops_per_token(config, o.mode, T);

  TrainingState state(config);
  Rng rng(1);
  init_gpt2(state.model, rng);
  std::vector<int32_t> text(100000);
  for (int32_t& t : text) t = static_cast<int32_t>(rng.below(config.vocab_size));
  std::unique_ptr<TrainingEngine> engine;
  if (o.mode != "generate") engine = device.engine(config, B, T);

  auto one_step = [&] {
    if (o.mode == "generate") {
      device.generate(state.model, {0}, o.new_tokens, SamplingOptions{}, rng, nullptr);
    } else {
      const Batch batch = sample_batch(text, B, T, rng);
      if (o.mode == "train") {
        engine->step(state, batch, 1e-3f, 1.0f, AdamWConfig{}, rng);
      } else {
        engine->evaluate(state, batch);
      }
    }
  };
  // The forward passes are a run of evaluations: the same weights for every
  // batch, which an engine may prepare once (chapter 09's begin_evaluations).
  std::optional<EvaluationRun> evaluations;
  if (o.mode == "forward") evaluations.emplace(*engine);
  for (int i = 0; i < o.warmup; ++i) one_step();
  std::vector<double> times;
  const double timed_from = monotonic_seconds();
  Timer total;
  while (static_cast<int>(times.size()) < o.steps || total.seconds() < o.seconds) {
    Timer step;
    one_step();
    times.push_back(step.seconds());
  }
  const double seconds = total.seconds();
  const double timed_to = monotonic_seconds();
  const double tokens_per_s = double(tokens_per_step) * times.size() / seconds;

  nlohmann::ordered_json line = {
      {"side", "ours"},
      {"device", o.device},
      {"mode", o.mode},
      {"tokens_per_s", tokens_per_s},
      {"ms_per_step", 1e3 * median(times)},
      {"gflop_per_s", tokens_per_s * flops_per_token / 1e9},
      {"flop_per_token", flops_per_token},
      {"product_flop_per_token", product_flops_per_token(config, o.mode)},
      {"steps", times.size()},
      {"tokens_per_step", tokens_per_step},
      {"threads", omp_get_max_threads()},
      {"config",
       {{"batch_size", B}, {"block_size", T}, {"embed_size", config.embed_size},
        {"num_layers", config.num_layers}, {"heads", config.heads}, {"ff_dim", config.ff_dim},
        {"vocab_size", config.vocab_size}}},
      {"description", device.description},
      {"timed_from_s", timed_from},
      {"timed_to_s", timed_to},
  };
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // as train and generate do (spin_waiting.h)
  gpt::Options o;
  CLI::App app{"Chapter 10: training, forward or generation throughput of a device, as JSON"};
  app.add_option("--device", o.device, "fast or reference")->capture_default_str();
  app.add_option("--mode", o.mode, "train, forward or generate")
      ->check(CLI::IsMember({"train", "forward", "generate"}))
      ->capture_default_str();
  app.add_option("--embed_size", o.config.embed_size, "C")->capture_default_str();
  app.add_option("--num_layers", o.config.num_layers, "L")->capture_default_str();
  app.add_option("--heads", o.config.heads, "H")->capture_default_str();
  app.add_option("--ff_dim", o.config.ff_dim, "F")->capture_default_str();
  app.add_option("--vocab_size", o.config.vocab_size, "V")->capture_default_str();
  app.add_option("--batch_size", o.batch_size, "B (generation: always 1)")->capture_default_str();
  app.add_option("--block_size", o.config.max_length, "T = max_length")->capture_default_str();
  app.add_option("--threads", o.threads, "OpenMP threads; 0: all cores")->capture_default_str();
  app.add_option("--seconds", o.seconds, "time at least this long")->capture_default_str();
  app.add_option("--steps", o.steps, "and at least this many steps")->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed steps first")->capture_default_str();
  app.add_option("--new_tokens", o.new_tokens, "tokens per generation")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  try {
    return gpt::run(o);
  } catch (const std::exception& e) {
    std::cerr << "throughput: " << e.what() << std::endl;
    return 2;
  }
}
