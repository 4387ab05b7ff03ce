// chapters/09_training/train_options.cc — parsing and checking the programs' flags.
#include "chapters/09_training/train_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "chapters/01_tokens/utf8.h"

namespace gpt {
namespace {

const char* kEpochHelp =
    "One epoch is ceil(train_tokens / (batch_size * block_size)) steps: enough windows to\n"
    "cover the training text once on average. Windows start at random offsets, so in an\n"
    "epoch some text is seen twice and some not at all.\n"
    "Relative paths (--data, --out, --resume) are relative to the directory you ran\n"
    "`bazel run` from.";

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

bool is_named_data(const std::string& data) {
  return data == "austen" || data == "kjv" || data == "random";
}

// Every flag of `train`, bound to `o`. Used for the command line, and again to
// read a checkpoint's settings back into the same fields.
void add_train_flags(CLI::App& app, TrainOptions& o) {
  app.add_option("--batch_size", o.batch_size, "B: windows per step")->capture_default_str();
  app.add_option("--block_size", o.block_size, "T: tokens per window (the context trained on)")
      ->capture_default_str();
  app.add_option("--epochs", o.epochs, "passes over the training text (see below)")
      ->capture_default_str();
  app.add_option("--max_steps", o.max_steps,
                 "if > 0, the run's length in steps (in total, counting a resumed run's "
                 "earlier steps), instead of --epochs")
      ->capture_default_str();
  app.add_option("--embed_size", o.embed_size, "C: channels per token")->capture_default_str();
  app.add_option("--num_layers", o.num_layers, "L: transformer blocks")->capture_default_str();
  app.add_option("--heads", o.heads, "H: attention heads (must divide embed_size)")
      ->capture_default_str();
  app.add_option("--ff_dim", o.ff_dim, "F: feed-forward width (default 4 * embed_size)");
  app.add_option("--max_length", o.max_length,
                 "P: the longest context the model accepts (default block_size)");
  app.add_option("--dropout", o.dropout, "dropout probability in [0, 1)")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  app.add_option("--weight_decay", o.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str();
  app.add_option("--grad_clip", o.grad_clip, "clip the global gradient norm (0: no clipping)")
      ->capture_default_str();
  app.add_option("--warmup_steps", o.warmup_steps, "linear warmup from 0 to --lr")
      ->capture_default_str();
  app.add_option("--lr_schedule", o.lr_schedule,
                 "constant, or cosine (decays to lr/10 by the last step)")
      ->capture_default_str();
  // (CLI11 would read "-1" into the unsigned seed as 2^64 - 1.)
  app.add_option("--seed", o.seed, "initialisation, batches, dropout")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--data", o.data,
                 "austen, kjv, a UTF-8 text file, or random (uniform random tokens)")
      ->capture_default_str();
  app.add_option("--vocab_size", o.vocab_size, "--data random: vocabulary size")
      ->capture_default_str();
  app.add_option("--random_tokens", o.random_tokens, "--data random: tokens in the stream")
      ->capture_default_str();
  app.add_option("--eval_interval", o.eval_interval,
                 "steps between validation losses (0: only at the end)")
      ->capture_default_str();
  app.add_option("--eval_batches", o.eval_batches, "validation batches per evaluation")
      ->capture_default_str();
  app.add_option("--save_interval", o.save_interval,
                 "steps between checkpoints (0: only at the end, which always saves)")
      ->capture_default_str();
  app.add_option("--log_interval", o.log_interval,
                 "steps between progress lines when the output is not a terminal")
      ->capture_default_str();
  app.add_option("--out", o.out,
                 "directory for checkpoint.safetensors and metrics.jsonl (default runs/latest; "
                 "with --resume, the checkpoint's directory)");
  app.add_option("--resume", o.resume, "continue from this checkpoint");
  app.add_option("--sample_tokens", o.sample_tokens, "characters to generate at the end")
      ->capture_default_str();
  app.add_option("--sample_prompt", o.sample_prompt,
                 "prompt for that sample (default: the start of the validation text)");
  app.add_option("--device", o.device, "where to train: cpu, or cuda where built (chapter 14)");
}

// Runs CLI11 and turns its failures into UsageError. Returns false for --help.
bool run_parser(CLI::App& app, int argc, const char* const* argv, std::ostream& help_out) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help_out << app.help();
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  return true;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError(message);
}

void positive(const char* flag, int64_t value) {
  require(value > 0, std::string("--") + flag + " must be positive, got " + std::to_string(value));
}

void non_negative(const char* flag, double value) {
  require(value >= 0 && std::isfinite(value),
          std::string("--") + flag + " must be >= 0, got " + number(value));
}

}  // namespace

GPTConfig TrainOptions::model_config(int vocab) const {
  GPTConfig c;
  c.vocab_size = vocab;
  c.embed_size = embed_size;
  c.num_layers = num_layers;
  c.heads = heads;
  c.ff_dim = derived_ff_dim();
  c.max_length = derived_max_length();
  c.dropout = dropout;
  return c;
}

std::map<std::string, std::string> TrainOptions::settings() const {
  return {
      {"data", data},
      {"vocab_size", std::to_string(vocab_size)},
      {"random_tokens", std::to_string(random_tokens)},
      {"batch_size", std::to_string(batch_size)},
      {"block_size", std::to_string(block_size)},
      {"epochs", std::to_string(epochs)},
      {"max_steps", std::to_string(max_steps)},
      {"lr", number(lr)},
      {"lr_schedule", lr_schedule},
      {"warmup_steps", std::to_string(warmup_steps)},
      {"weight_decay", number(weight_decay)},
      {"grad_clip", number(grad_clip)},
      {"seed", std::to_string(seed)},
      {"eval_interval", std::to_string(eval_interval)},
      {"eval_batches", std::to_string(eval_batches)},
      {"save_interval", std::to_string(save_interval)},
  };
}

std::optional<TrainOptions> parse_train_options(int argc, const char* const* argv,
                                                std::ostream& help_out) {
  TrainOptions o;
  CLI::App app{"Chapter 09: train a GPT on a text, with checkpoints and metrics"};
  app.footer(kEpochHelp);
  add_train_flags(app, o);
  if (!run_parser(app, argc, argv, help_out)) return std::nullopt;
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() > 0 && !option->get_lnames().empty()) {
      o.given.insert(option->get_lnames().front());
    }
  }
  // Paths as the user meant them; names of corpora stay names.
  if (!is_named_data(o.data) && !o.data.empty()) o.data = resolve_user_path(o.data);
  if (!o.resume.empty()) {
    o.resume = resolve_user_path(o.resume);
    if (!o.given.count("out")) {
      const std::string dir = std::filesystem::path(o.resume).parent_path().string();
      o.out = dir.empty() ? "." : dir;
    }
  }
  if (!o.out.empty()) o.out = resolve_user_path(o.out);
  return o;
}

void validate_train_options(const TrainOptions& o) {
  positive("batch_size", o.batch_size);
  positive("block_size", o.block_size);
  positive("embed_size", o.embed_size);
  positive("num_layers", o.num_layers);
  positive("heads", o.heads);
  positive("epochs", o.epochs);
  if (o.given.count("ff_dim") || o.ff_dim != 0) positive("ff_dim", o.ff_dim);
  if (o.given.count("max_length") || o.max_length != 0) positive("max_length", o.max_length);
  require(o.block_size <= o.derived_max_length(),
          "--block_size (" + std::to_string(o.block_size) + ") must not exceed --max_length (" +
              std::to_string(o.derived_max_length()) + "), the longest context the model accepts");
  require(o.dropout >= 0.0f && o.dropout < 1.0f,
          "--dropout must be in [0, 1), got " + number(o.dropout));
  require(o.max_steps >= 0, "--max_steps must be >= 0, got " + std::to_string(o.max_steps));
  require(o.lr > 0.0f && std::isfinite(o.lr), "--lr must be positive, got " + number(o.lr));
  non_negative("weight_decay", o.weight_decay);
  non_negative("grad_clip", o.grad_clip);
  non_negative("warmup_steps", o.warmup_steps);
  require(o.lr_schedule == "constant" || o.lr_schedule == "cosine",
          "--lr_schedule must be constant or cosine, got '" + o.lr_schedule + "'");
  require(!o.data.empty(), "--data must name a corpus (austen, kjv), a file, or random");
  try {
    decode_utf8(o.data);  // it is recorded in the checkpoint's (JSON) metadata
  } catch (const std::invalid_argument& e) {
    throw UsageError("--data: the path is not valid UTF-8 (" + std::string(e.what()) +
                     "); rename the file");
  }
  if (o.data == "random") {
    positive("vocab_size", o.vocab_size);
    require(o.vocab_size <= 50000,
            "--vocab_size must be at most 50000, got " + std::to_string(o.vocab_size));
    positive("random_tokens", o.random_tokens);
  } else {
    for (const char* flag : {"vocab_size", "random_tokens"}) {
      require(!o.given.count(flag), std::string("--") + flag +
                                        " applies only to --data random; a corpus's vocabulary "
                                        "is its characters");
    }
  }
  non_negative("eval_interval", o.eval_interval);
  positive("eval_batches", o.eval_batches);
  non_negative("save_interval", o.save_interval);
  positive("log_interval", o.log_interval);
  require(o.sample_tokens >= 0 && o.sample_tokens <= 100000,
          "--sample_tokens must be in [0, 100000], got " + std::to_string(o.sample_tokens));
  require(!o.out.empty(), "--out must name a directory");
  try {
    o.model_config(o.data == "random" ? o.vocab_size : 1).validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("bad model: ") + e.what());
  }
}

GPTConfig apply_checkpoint(TrainOptions& o, const GPTConfig& c,
                           const std::map<std::string, std::string>& settings) {
  // Model flags the user typed must agree with the checkpoint's model.
  const std::pair<const char*, std::pair<double, double>> model_flags[] = {
      {"embed_size", {o.embed_size, c.embed_size}},
      {"num_layers", {o.num_layers, c.num_layers}},
      {"heads", {o.heads, c.heads}},
      {"ff_dim", {o.ff_dim, c.ff_dim}},
      {"max_length", {o.max_length, c.max_length}},
      {"dropout", {o.dropout, c.dropout}},
      {"vocab_size", {o.vocab_size, c.vocab_size}},
  };
  for (const auto& [flag, values] : model_flags) {
    if (o.given.count(flag) && values.first != values.second) {
      throw UsageError("--" + std::string(flag) + " " + number(values.first) +
                       " contradicts the checkpoint '" + o.resume + "', whose model has " + flag +
                       " = " + number(values.second) +
                       "; leave the flag out to continue with the checkpoint's model");
    }
  }
  // The run's settings come back for every flag the user did not give.
  std::vector<std::string> args = {"train"};
  for (const auto& [key, value] : settings) {
    if (key == "vocab_size" || o.given.count(key)) continue;  // vocab_size: the model's
    args.push_back("--" + key);
    args.push_back(value);
  }
  CLI::App app;
  add_train_flags(app, o);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.allow_extras();  // a key this version no longer has is not the user's problem
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    throw UsageError("checkpoint '" + o.resume + "' records a bad training setting: " + e.what());
  }
  o.embed_size = c.embed_size;
  o.num_layers = c.num_layers;
  o.heads = c.heads;
  o.ff_dim = c.ff_dim;
  o.max_length = c.max_length;
  o.dropout = c.dropout;
  o.vocab_size = c.vocab_size;
  return c;
}

double training_bytes(const GPTConfig& c, int B, int T) {
  const double V = c.vocab_size, C = c.embed_size, L = c.num_layers, F = c.ff_dim,
               P = c.max_length, H = c.heads;
  const double parameters = 2 * V * C + P * C + 2 * C + L * (4 * C * C + 2 * C * F + 9 * C + F);
  // Per token and layer, at least: the residual stream, LayerNorms, q, k, v,
  // the attention output and projection, the MLP's two widths, the dropout
  // masks; and the attention weights (H rows of T); then the logits.
  const double per_token = L * (20 * C + 3 * F + 2 * H * T) + 4 * C + 3 * V;
  const double floats = 4 * parameters + 2 * double(B) * T * per_token;
  return floats * sizeof(float);
}

void require_memory(const GPTConfig& config, int batch_size, int block_size) {
  const double need = training_bytes(config, batch_size, block_size);
  const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  if (have > 0 && need > have) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "this model with --batch_size %d and --block_size %d needs about %.1f GB, "
                  "more than this machine's %.1f GB of memory; choose a smaller model or batch",
                  batch_size, block_size, need / 1e9, have / 1e9);
    throw UsageError(text);
  }
}

int64_t steps_per_epoch(int64_t train_tokens, int batch_size, int block_size) {
  const int64_t per_step = int64_t(batch_size) * block_size;
  return std::max<int64_t>(1, (train_tokens + per_step - 1) / per_step);
}

int64_t total_steps(const TrainOptions& o, int64_t train_tokens) {
  const int64_t spe = steps_per_epoch(train_tokens, o.batch_size, o.block_size);
  const int64_t total = o.max_steps > 0 ? o.max_steps : spe * o.epochs;
  require(total <= INT_MAX, "the run would take " + std::to_string(total) +
                                " steps, more than a step counter holds (2^31 - 1)");
  return total;
}

std::optional<GenerateOptions> parse_generate_options(int argc, const char* const* argv,
                                                      std::ostream& help_out) {
  GenerateOptions o;
  CLI::App app{"Chapter 09: generate text with a checkpoint written by train"};
  app.footer("The checkpoint path is relative to the directory you ran `bazel run` from.");
  app.add_option("--checkpoint", o.checkpoint, "a checkpoint written by train")
      ->capture_default_str();
  app.add_option("--prompt", o.prompt, "text to continue (characters of the checkpoint's "
                                       "vocabulary; default a newline)");
  app.add_option("--max_new_tokens", o.max_new_tokens, "characters to generate, 0 to 100000")
      ->capture_default_str();
  app.add_option("--temperature", o.sampling.temperature, "0 = greedy, < 1 sharper, > 1 flatter")
      ->capture_default_str();
  app.add_option("--top_k", o.sampling.top_k, "sample among the k likeliest (0 = all)")
      ->capture_default_str();
  app.add_option("--top_p", o.sampling.top_p, "sample among the likeliest adding up to p (1 = all)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "sampling seed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--device", o.device, "where to run the model: cpu, or cuda where built");
  if (!run_parser(app, argc, argv, help_out)) return std::nullopt;
  require(!o.checkpoint.empty(), "--checkpoint must name a checkpoint file");
  o.checkpoint = resolve_user_path(o.checkpoint);
  require(!o.prompt.empty(), "--prompt must not be empty: generation continues a text");
  require(o.max_new_tokens >= 0 && o.max_new_tokens <= 100000,
          "--max_new_tokens must be in [0, 100000], got " + std::to_string(o.max_new_tokens));
  try {
    o.sampling.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--") + e.what());  // "--top_k must be >= 0, got -1"
  }
  return o;
}

std::string resolve_user_path(const std::string& path) {
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || !base || !*base || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base) / path).lexically_normal().string();
}

}  // namespace gpt
