// chapters/16_gpt2/evaluate_program.cc — the loss of a model over a whole text.
#include "chapters/16_gpt2/evaluate_program.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "chapters/09_training/train_options.h"
#include "chapters/09_training/training_data.h"
#include "common/timer.h"

namespace gpt {
namespace {

struct EvaluateOptions {
  std::string checkpoint;
  std::string data = "austen";
  std::string split = "val";  // val: the last tenth (what training held out); all
  int block_size = 0;         // T; 0 = the model's context
  int batch_size = 1;
  int64_t max_tokens = 0;     // 0 = every token of the split
  std::string device;
  bool json = false;
};

std::optional<EvaluateOptions> parse(int argc, char** argv) {
  EvaluateOptions o;
  CLI::App app{"Chapter 16: the loss, perplexity and bits per byte of a model on a text"};
  app.footer("Relative paths are relative to the directory you ran `bazel run` from.");
  app.add_option("--checkpoint", o.checkpoint,
                 "a checkpoint written by train, or GPT-2's model.safetensors")
      ->required();
  app.add_option("--data", o.data, "austen, kjv, or a UTF-8 text file")->capture_default_str();
  app.add_option("--split", o.split,
                 "val: the last tenth of the text, which train holds out; all: the whole text")
      ->capture_default_str();
  app.add_option("--block_size", o.block_size,
                 "T: tokens predicted per window (default: the model's context)");
  app.add_option("--batch_size", o.batch_size, "windows per forward pass")->capture_default_str();
  app.add_option("--max_tokens", o.max_tokens, "score at most this many tokens (0: all)")
      ->capture_default_str();
  app.add_option("--device", o.device, "where to run the model: cpu, or cuda where built");
  app.add_flag("--json", o.json, "print the result as one JSON line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  if (o.data != "austen" && o.data != "kjv") o.data = resolve_user_path(o.data);
  o.checkpoint = resolve_user_path(o.checkpoint);
  if (o.split != "val" && o.split != "all") {
    throw UsageError("--split must be val or all, got '" + o.split + "'");
  }
  if (o.block_size < 0) throw UsageError("--block_size must be positive");
  if (o.batch_size <= 0) throw UsageError("--batch_size must be positive");
  if (o.max_tokens < 0) throw UsageError("--max_tokens must be >= 0");
  if (o.data == "random") throw UsageError("--data random has no text to evaluate on");
  return o;
}

int run(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
        const ModelSources& models) {
  const std::optional<EvaluateOptions> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const EvaluateOptions& o = *parsed;
  const auto& [device_name, device] = choose_device(devices, o.device);
  std::optional<TrainingState> state;
  state.emplace(read_model_flag(models, "--checkpoint", o.checkpoint));
  const GPTConfig& config = state->model.config;
  const std::shared_ptr<const TextTokenizer> tokenizer =
      restore_tokenizer(tokenizers, state->tokenizer, state->vocabulary, config.vocab_size,
                        "--checkpoint " + o.checkpoint);
  const int T = o.block_size > 0 ? o.block_size : config.max_length;
  if (T > config.max_length) {
    throw UsageError("--block_size " + std::to_string(T) + " exceeds the model's context of " +
                     std::to_string(config.max_length) + " tokens");
  }
  std::fprintf(stderr, "evaluate: tokenizing %s ...\n", o.data.c_str());
  const TrainingData data = prepare_training_data(o.data, 0, 0, 0, tokenizer, nullptr);
  std::vector<int32_t> ids = data.val;
  if (o.split == "all") {
    ids = data.train;
    ids.insert(ids.end(), data.val.begin(), data.val.end());
  }
  if (o.max_tokens > 0 && int64_t(ids.size()) > o.max_tokens + 1) ids.resize(o.max_tokens + 1);
  if (ids.size() < 2) throw UsageError("--data: the split holds fewer than 2 tokens");

  // lesson: windows
  // Windows of T + 1 tokens, each starting where the last one's predictions ended.
  std::vector<std::pair<size_t, int>> windows;  // (start, tokens predicted)
  for (size_t start = 0; start + 1 < ids.size(); start += T) {
    windows.emplace_back(start, static_cast<int>(std::min<size_t>(T, ids.size() - 1 - start)));
  }
  // end lesson
  std::unique_ptr<TrainingEngine> engine = device.engine(config, o.batch_size, T);
  std::fprintf(stderr, "evaluate: %s, %zu parameters; %s: %zu tokens in %zu windows of T = %d "
               "on %s\n", o.checkpoint.c_str(), state->model.num_parameters(), o.split.c_str(),
               ids.size() - 1, windows.size(), T, device_name.c_str());
  const bool terminal = isatty(fileno(stderr));
  double loss_sum = 0;  // nats, summed over predicted tokens
  int64_t predicted = 0;
  Timer timer;
  {  // one run of evaluations: the same weights for every batch
    const EvaluationRun evaluations(*engine);
    for (size_t w = 0; w < windows.size();) {
      // A batch: up to B windows of the same length (only the last can be shorter).
      Batch batch;
      batch.T = windows[w].second;
      while (w < windows.size() && batch.B < o.batch_size && windows[w].second == batch.T) {
        const size_t start = windows[w].first;
        batch.inputs.insert(batch.inputs.end(), ids.begin() + start, ids.begin() + start + batch.T);
        batch.targets.insert(batch.targets.end(), ids.begin() + start + 1,
                             ids.begin() + start + 1 + batch.T);
        ++batch.B, ++w;
      }
      const double tokens = double(batch.B) * batch.T;
      loss_sum += double(engine->evaluate(*state, batch)) * tokens;
      predicted += static_cast<int64_t>(tokens);
      if (terminal || w == windows.size()) {
        std::fprintf(stderr, "\revaluate: %zu/%zu windows, loss %.4f, %.0f tokens/s   ", w,
                     windows.size(), loss_sum / predicted, predicted / timer.seconds());
      }
    }
  }  // the run's end: an engine frees what it prepared for it
  std::fprintf(stderr, "\n");
  const double loss = loss_sum / predicted;
  const std::vector<int32_t> scored(ids.begin() + 1, ids.begin() + 1 + predicted);
  const double bytes = double(tokenizer->decode(scored).size());
  const double bits_per_byte = loss * predicted / (bytes * std::log(2.0));
  if (o.json) {
    std::printf("{\"tokens\": %lld, \"bytes\": %.0f, \"loss\": %.6f, \"perplexity\": %.4f, "
                "\"bits_per_byte\": %.6f, \"block_size\": %d, \"seconds\": %.2f}\n",
                static_cast<long long>(predicted), bytes, loss, std::exp(loss), bits_per_byte, T,
                timer.seconds());
  } else {
    std::printf("tokens      %lld (%s of %s, %.0f bytes)\n", static_cast<long long>(predicted),
                o.split.c_str(), o.data.c_str(), bytes);
    std::printf("loss        %.4f nats per token (%s)\n", loss, tokenizer->description().c_str());
    std::printf("perplexity  %.3f\n", std::exp(loss));
    std::printf("bits/byte   %.4f\n", bits_per_byte);
  }
  return 0;
}

}  // namespace

int evaluate_program(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
                     const ModelSources& models) {
  return exit_status_of("evaluate", [&] { return run(argc, argv, devices, tokenizers, models); });
}

}  // namespace gpt
