// chapters/09_training/train_options.cc — parsing and checking the programs' flags.
#include "chapters/09_training/train_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <new>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <set>
#include <type_traits>
#include <variant>
#include <vector>

#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/parameters.h"
#include "chapters/08_backward/gpt_backward.h"

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

// Every flag of `train`, declared once: its name, the field it sets, its help,
// and what a checkpoint keeps of it.
//   recorded   the checkpoint's settings hold it, and `--resume` takes it back
//              unless the user gives the flag again;
//   in_config  the model's configuration holds it: a resumed run takes it from
//              there, and a value the user gives must agree with it.
// The rest (paths, the sample at the end, the device) belong to one run only.
template <class T>
using Field = T TrainOptions::*;
using AnyField =
    std::variant<Field<int>, Field<int64_t>, Field<float>, Field<uint64_t>, Field<std::string>>;
using ConfigField = std::variant<std::monostate, int GPTConfig::*, float GPTConfig::*>;

struct TrainFlag {
  const char* name;
  AnyField field;
  const char* help;
  bool recorded = false;
  ConfigField in_config = {};
  bool show_default = true;
};

const std::vector<TrainFlag>& train_flags() {
  using O = TrainOptions;
  using G = GPTConfig;
  static const std::vector<TrainFlag> flags = {
      {"batch_size", &O::batch_size, "B: windows per step", true},
      {"block_size", &O::block_size, "T: tokens per window (the context trained on)", true},
      {"epochs", &O::epochs, "passes over the training text (see below)", true},
      {"max_steps", &O::max_steps,
       "if > 0, the run's length in steps (in total, counting a resumed run's earlier steps), "
       "instead of --epochs",
       true},
      {"embed_size", &O::embed_size, "C: channels per token", false, &G::embed_size},
      {"num_layers", &O::num_layers, "L: transformer blocks", false, &G::num_layers},
      {"heads", &O::heads, "H: attention heads (must divide embed_size)", false, &G::heads},
      {"ff_dim", &O::ff_dim, "F: feed-forward width (default 4 * embed_size)", false, &G::ff_dim,
       false},
      {"max_length", &O::max_length,
       "P: the longest context the model accepts (default block_size)", false, &G::max_length,
       false},
      {"dropout", &O::dropout, "dropout probability in [0, 1)", false, &G::dropout},
      {"lr", &O::lr, "peak learning rate", true},
      {"weight_decay", &O::weight_decay, "AdamW's decoupled weight decay", true},
      {"grad_clip", &O::grad_clip, "clip the global gradient norm (0: no clipping)", true},
      {"warmup_steps", &O::warmup_steps, "linear warmup from 0 to --lr", true},
      {"lr_schedule", &O::lr_schedule, "constant, or cosine (decays to lr/10 by the last step)",
       true},
      {"seed", &O::seed, "initialisation, batches, dropout", true},
      {"data", &O::data, "austen, kjv, a UTF-8 text file, or random (uniform random tokens)", true},
      {"tokenizer", &O::tokenizer,
       "char (the text's characters); chapter 15's programs also take gpt2 (GPT-2's BPE) and a "
       "BPE file written by `tokenize learn`. With --resume, the checkpoint's (a different one "
       "is an error)"},
      {"vocab_size", &O::vocab_size, "--data random: vocabulary size", true, &G::vocab_size},
      {"random_tokens", &O::random_tokens, "--data random: tokens in the stream", true},
      {"eval_interval", &O::eval_interval, "steps between validation losses (0: only at the end)",
       true},
      {"eval_batches", &O::eval_batches, "validation batches per evaluation", true},
      {"save_interval", &O::save_interval,
       "steps between checkpoints (0: only at the end, which always saves)", true},
      {"log_interval", &O::log_interval,
       "steps between progress lines when the output is not a terminal"},
      {"out", &O::out,
       "directory for checkpoint.safetensors and metrics.jsonl (default runs/latest; with "
       "--resume, the checkpoint's directory)",
       false, {}, false},
      {"resume", &O::resume, "continue from this checkpoint", false, {}, false},
      {"model", &O::model,
       "start from a named configuration instead of the size flags (chapter 16's programs: "
       "gpt2, gpt2-medium, gpt2-large, gpt2-xl)",
       false, {}, false},
      {"init", &O::init,
       "start a new run from this model file's weights (a checkpoint, or in chapter 16's "
       "programs GPT-2's model.safetensors); the optimizer starts afresh",
       false, {}, false},
      {"sample_tokens", &O::sample_tokens, "tokens (characters for char) to generate at the end"},
      {"sample_prompt", &O::sample_prompt,
       "prompt for that sample (default: the start of the validation text)", false, {}, false},
      {"device", &O::device, "where to train: cpu, or cuda where built (chapter 14)", false, {},
       false},
      {"precision", &O::precision,
       "the matrix products' number format: fp32, or bf16 on cuda (chapter 17's programs); "
       "weights, gradients and AdamW stay fp32 either way"},
  };
  return flags;
}

// Binds every flag to `o`: for the command line, and again to read a
// checkpoint's settings back into the same fields.
void add_train_flags(CLI::App& app, TrainOptions& o) {
  for (const TrainFlag& flag : train_flags()) {
    std::visit(
        [&](auto field) {
          using T = std::remove_reference_t<decltype(o.*field)>;
          CLI::Option* option = app.add_option(std::string("--") + flag.name, o.*field, flag.help);
          // CLI11 would read "-1" into an unsigned field as 2^64 - 1.
          if constexpr (std::is_unsigned_v<T>) option->check(CLI::NonNegativeNumber);
          if (flag.show_default) option->capture_default_str();
        },
        flag.field);
  }
}

// A flag's value as the checkpoint's settings write it.
std::string value_text(const TrainOptions& o, const TrainFlag& flag) {
  return std::visit(
      [&](auto field) -> std::string {
        using T = std::remove_cv_t<std::remove_reference_t<decltype(o.*field)>>;
        if constexpr (std::is_same_v<T, std::string>) {
          return o.*field;
        } else if constexpr (std::is_floating_point_v<T>) {
          return number(o.*field);
        } else {
          return std::to_string(o.*field);
        }
      },
      flag.field);
}

// For a model flag: its value in the options and in a configuration.
double option_number(const TrainOptions& o, const TrainFlag& flag) {
  return std::visit(
      [&](auto field) -> double {
        if constexpr (std::is_arithmetic_v<std::remove_reference_t<decltype(o.*field)>>) {
          return static_cast<double>(o.*field);
        } else {
          return 0;  // no model flag is a string
        }
      },
      flag.field);
}
double config_number(const GPTConfig& c, const TrainFlag& flag) {
  return std::visit(
      [&](auto member) -> double {
        if constexpr (std::is_same_v<decltype(member), std::monostate>) {
          return 0;
        } else {
          return static_cast<double>(c.*member);
        }
      },
      flag.in_config);
}
void take_from_config(TrainOptions& o, const GPTConfig& c, const TrainFlag& flag) {
  std::visit(
      [&](auto field) {
        using T = std::remove_reference_t<decltype(o.*field)>;
        if constexpr (std::is_arithmetic_v<T>) o.*field = static_cast<T>(config_number(c, flag));
      },
      flag.field);
}
bool in_config(const TrainFlag& flag) {
  return !std::holds_alternative<std::monostate>(flag.in_config);
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

int exit_status_of(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory; try a smaller --batch_size, --block_size "
                         "or model\n", program);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

GPTConfig TrainOptions::model_config(int vocab) const {
  GPTConfig c = base_config.value_or(GPTConfig{});
  c.vocab_size = base_config ? base_config->vocab_size : vocab;
  c.embed_size = embed_size;
  c.num_layers = num_layers;
  c.heads = heads;
  c.ff_dim = derived_ff_dim();
  c.max_length = derived_max_length();
  c.dropout = dropout;
  return c;
}

std::map<std::string, std::string> TrainOptions::settings() const {
  std::map<std::string, std::string> recorded;
  for (const TrainFlag& flag : train_flags()) {
    if (flag.recorded) recorded[flag.name] = value_text(*this, flag);
  }
  return recorded;
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
  if (!o.init.empty()) o.init = resolve_user_path(o.init);
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
  require(!o.tokenizer.empty(), "--tokenizer must name a tokenizer (char, or gpt2 or a BPE file "
                                 "in chapter 15's programs)");
  if (o.data == "random") {
    require(o.tokenizer == "char",
            "--tokenizer " + o.tokenizer + " does not apply to --data random, whose tokens are "
            "random ids over made-up characters; use --tokenizer char, or train on a text");
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
  for (const TrainFlag& flag : train_flags()) {
    if (!in_config(flag) || !o.given.count(flag.name)) continue;
    const double typed = option_number(o, flag), saved = config_number(c, flag);
    if (typed != saved) {
      throw UsageError("--" + std::string(flag.name) + " " + number(typed) +
                       " contradicts the checkpoint '" + o.resume + "', whose model has " +
                       flag.name + " = " + number(saved) +
                       "; leave the flag out to continue with the checkpoint's model");
    }
  }
  // The run's settings come back for every flag the user did not give; the
  // model's come from its configuration.
  std::set<std::string> from_config;
  for (const TrainFlag& flag : train_flags()) {
    if (in_config(flag)) from_config.insert(flag.name);
  }
  std::vector<std::string> args = {"train"};
  for (const auto& [key, value] : settings) {
    if (from_config.count(key) || o.given.count(key)) continue;
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
  for (const TrainFlag& flag : train_flags()) {
    if (in_config(flag)) take_from_config(o, c, flag);
  }
  return c;
}

void apply_model(TrainOptions& o, const GPTConfig& c, const std::string& source) {
  for (const TrainFlag& flag : train_flags()) {
    if (!in_config(flag) || !o.given.count(flag.name) || std::string(flag.name) == "dropout") {
      continue;
    }
    const double typed = option_number(o, flag), saved = config_number(c, flag);
    if (typed != saved) {
      throw UsageError("--" + std::string(flag.name) + " " + number(typed) + " contradicts " +
                       source + ", whose model has " + flag.name + " = " + number(saved) +
                       "; leave the flag out");
    }
  }
  GPTConfig base = c;
  if (o.given.count("dropout")) base.dropout = o.dropout;
  for (const TrainFlag& flag : train_flags()) {
    // The vocabulary stays the configuration's (model_config): --vocab_size is --data random's.
    if (in_config(flag) && std::string(flag.name) != "vocab_size") take_from_config(o, base, flag);
  }
  o.base_config = base;
}

double training_bytes(const GPTConfig& c, int B, int T) {
  // First a bound from the shapes alone, in double: no size below exceeds it.
  // A model beyond any machine's memory stops here, before the exact sizes
  // (whose integer products could overflow) are computed.
  const double V = c.vocab_size, C = c.embed_size, L = c.num_layers, F = c.ff_dim,
               P = c.max_length, H = c.heads;
  const double parameter_bound = 2 * V * C + P * C + 2 * C + L * (4 * C * C + 2 * C * F + 9 * C + F);
  const double activation_bound = 2.0 * B * T * ((L + 1) * (20 * C + 3 * F + 2 * H * T) + 4 * C + 3 * V);
  const double bound = (4 * parameter_bound + activation_bound) * sizeof(float);
  if (bound > 1e15) return bound;
  // Exactly. The parameters, their gradients and AdamW's two moments: four
  // buffers of the parameter table's size (tied weights and fixed positions
  // hold none). Every layer adds the same slots, so the tables of one and of
  // two layers give the count for L, without building a table of L layers.
  GPTConfig one = c, two = c;
  one.num_layers = 1;
  two.num_layers = 2;
  const double first = double(ParameterLayout(one).total());
  const double per_layer = double(ParameterLayout(two).total()) - first;
  const double parameters = first + (L - 1) * per_layer;
  const double floats = 4 * parameters + double(GPTActivations::size(c, B, T)) +
                        double(GPTBackwardScratch::size(c, B, T));
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
  app.add_option("--prompt", o.prompt, "text to continue (for a character model, characters of "
                                       "the checkpoint's vocabulary; default a newline)");
  app.add_option("--max_new_tokens", o.max_new_tokens,
                 "tokens (characters for a character model) to generate, 0 to 100000")
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
  app.add_option("--precision", o.precision,
                 "the matrix products' number format: fp32, or bf16 on cuda (chapter 17's "
                 "programs)")
      ->capture_default_str();
  app.add_option("--tokenizer", o.tokenizer,
                 "the checkpoint stores its tokenizer; if given (char, gpt2, a BPE file), it must "
                 "be that one");
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
