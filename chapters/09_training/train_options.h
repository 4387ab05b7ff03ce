// chapters/09_training/train_options.h — the flags of `train` and `generate`.
//
// A program's flags become a plain struct: parsing (CLI11) and checking are
// functions of their own, so the tests can feed them argument lists and the
// mains stay short. Anything wrong with the flags is a UsageError: the
// programs print its message and exit with status 2, never crash.
//
// Paths the user types are relative to the directory they typed them in.
// Under `bazel run` the program starts elsewhere (in its runfiles) and Bazel
// passes the user's directory as BUILD_WORKING_DIRECTORY; resolve_user_path()
// puts relative paths back where the user meant them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/07_gpt/config.h"
#include "chapters/07_gpt/sampling.h"

namespace gpt {

// Bad flags or inputs named by flags: the programs exit with status 2.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Runs a program's body and gives what escapes it the exit status and the
// message every program of the course gives: "PROGRAM: error: ..." on
// stderr, 2 for a UsageError, 1 for anything else (out of memory included,
// with a hint). Returns the body's own status otherwise.
int exit_status_of(const char* program, const std::function<int()>& body);

struct TrainOptions {
  // The model. ff_dim and max_length of 0 mean "derive": 4·embed_size and block_size.
  int embed_size = 256, num_layers = 6, heads = 8, ff_dim = 0, max_length = 0;
  float dropout = 0.0f;
  // The batches: B windows of T = block_size tokens.
  int batch_size = 32, block_size = 64;
  // How long: epochs of the training text, or exactly max_steps steps when > 0.
  int epochs = 10;
  int64_t max_steps = 0;
  // The optimizer and its schedule.
  float lr = 1e-3f, weight_decay = 0.1f, grad_clip = 1.0f;
  int warmup_steps = 0;
  std::string lr_schedule = "constant";  // "constant" or "cosine" (down to lr/10)
  uint64_t seed = 1337;
  // The data: a corpus name (austen, kjv), a UTF-8 text file, or "random".
  std::string data = "austen";
  // The tokenizer: "char" (the text's characters); the programs of chapter 15
  // also take "gpt2" and a BPE file (text_tokenizer.h). Not a recorded
  // setting: the checkpoint stores the tokenizer itself.
  std::string tokenizer = "char";
  int vocab_size = 65;                // --data random only
  int64_t random_tokens = 1000000;    // --data random only
  // Reporting and checkpoints; an interval of 0 means "only at the end".
  int eval_interval = 100, eval_batches = 20, save_interval = 500, log_interval = 10;
  std::string out = "runs/latest";
  std::string resume;  // a checkpoint to continue from
  // A new run that does not start from random numbers (programs.h's ModelSources):
  // --model NAME takes a named configuration (chapter 16: gpt2, gpt2-medium, ...),
  // --init PATH a model file's weights (a checkpoint, or GPT-2's published ones).
  std::string model, init;
  // The configuration they give: model_config() starts from it (its vocabulary,
  // GELU, tying, ...), with the flags' sizes, which apply_model() set from it.
  std::optional<GPTConfig> base_config;
  int sample_tokens = 200;
  std::string sample_prompt;  // empty: the first characters of the validation text
  std::string device;         // --device: empty means the program's first (programs.h)
  std::string precision = "fp32";  // --precision: the matrix products' format (device.h)

  std::set<std::string> given;  // the flags the user typed, without "--"

  int derived_ff_dim() const {  // 4·embed_size, capped where an int ends (validation refuses it)
    return ff_dim > 0 ? ff_dim : static_cast<int>(std::min<int64_t>(4 * int64_t(embed_size), INT32_MAX));
  }
  int derived_max_length() const { return max_length > 0 ? max_length : block_size; }

  // The model configuration these flags describe, for a vocabulary of vocab_size.
  GPTConfig model_config(int vocab) const;
  // The training settings a checkpoint records (and a resumed run inherits).
  std::map<std::string, std::string> settings() const;
};

// Parses argv (argv[0] is the program's name). Returns nullopt after writing
// the help text to `help_out` for --help; throws UsageError for an unknown
// flag, a value that is not a number, or a missing value.
std::optional<TrainOptions> parse_train_options(int argc, const char* const* argv,
                                                std::ostream& help_out);

// Throws UsageError naming the first flag that is out of range or
// inconsistent (sizes must be positive, heads must divide embed_size,
// block_size <= max_length, dropout in [0, 1), ...). Model checks are
// GPTConfig::validate()'s.
void validate_train_options(const TrainOptions& options);

// --resume: the checkpoint's settings replace the defaults of the flags the
// user did not give, so `train --resume X` continues the run as it was
// started. A model flag given explicitly that contradicts the checkpoint's
// configuration is a UsageError. Returns the checkpoint's configuration.
GPTConfig apply_checkpoint(TrainOptions& options, const GPTConfig& checkpoint_config,
                           const std::map<std::string, std::string>& checkpoint_settings);

// --model or --init: the configuration `config` (named by `source` in
// messages, e.g. "--model gpt2") becomes the run's model. A model flag the
// user typed that contradicts it is a UsageError, except --dropout, which a
// new run may choose. Sets base_config and the model flags from `config`.
void apply_model(TrainOptions& options, const GPTConfig& config, const std::string& source);

// Steps in one epoch: enough windows of block_size tokens to cover the
// training tokens once on average, ceil(train_tokens / (B · T)).
int64_t steps_per_epoch(int64_t train_tokens, int batch_size, int block_size);
// Throws UsageError when training this model on (batch_size, block_size)
// batches would need more memory than the machine has: the parameters, their
// gradients and AdamW's two moments, the activations and the backward pass's
// scratch, as chapter 09's Trainer allocates them. Better a clear message now
// than the kernel's OOM killer.
void require_memory(const GPTConfig& config, int batch_size, int block_size);
// Those bytes.
double training_bytes(const GPTConfig& config, int batch_size, int block_size);

// The run's length: max_steps if given, else epochs · steps_per_epoch.
// Throws UsageError above 2^31 − 1 steps.
int64_t total_steps(const TrainOptions& options, int64_t train_tokens);

struct GenerateOptions {
  std::string checkpoint = "runs/latest/checkpoint.safetensors";
  std::string prompt = "\n";
  int max_new_tokens = 500;
  SamplingOptions sampling;
  uint64_t seed = 1337;
  std::string device;     // --device: empty means the program's first (programs.h)
  std::string precision = "fp32";  // --precision: the matrix products' format (device.h)
  std::string tokenizer;  // --tokenizer: empty means the checkpoint's; else it must be that one
};

// As parse_train_options, for `generate`; also validates (UsageError).
std::optional<GenerateOptions> parse_generate_options(int argc, const char* const* argv,
                                                      std::ostream& help_out);

// `path` as the user meant it: absolute paths unchanged, relative ones
// relative to $BUILD_WORKING_DIRECTORY when set (under `bazel run`).
std::string resolve_user_path(const std::string& path);

}  // namespace gpt
