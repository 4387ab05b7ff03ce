// chapters/09_training/train_program.cc — the course's training program.
//
//   bazel run //:train -- --data austen --epochs 1
//   bazel run //:train -- --resume runs/latest/checkpoint.safetensors --epochs 2
//
// Everything the chapters built, in one loop:
//   text ─► tokens (01) ─► random (B, T) windows ─► Trainer::step: forward + loss (07),
//   backward (08), clip, AdamW (09) ─► every few steps a validation loss and a
//   checkpoint ─► at the end a sample of generated text (07).
// Flags are parsed and checked in train_options.cc, the data prepared in
// training_data.cc, the metrics written by metrics.cc; this file is the loop.
// The step itself is the chosen device's (device.h): chapter 09's Trainer on
// the CPU here, chapter 10's fast CPU engine and chapter 14's GPU engine later.
// The tokenizer is the one --tokenizer names among the program's
// (text_tokenizer.h): characters here, GPT-2's BPE or a learned one in
// chapter 15's programs.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/lr_schedule.h"
#include "chapters/09_training/programs.h"
#include "chapters/09_training/metrics.h"
#include "chapters/09_training/train_options.h"
#include "chapters/09_training/trainer.h"
#include "chapters/09_training/training_data.h"
#include "common/random.h"
#include "common/timer.h"

namespace gpt {
namespace {

// Evaluation and the final sample draw from generators of their own, so they
// never move the training stream: a run's losses do not depend on how often
// it evaluates, and a resumed run continues exactly.
constexpr uint64_t kEvalSalt = 0xE7A1BA7Cull;
constexpr uint64_t kSampleSalt = 0x5A3B1Eull;
constexpr int kDefaultPromptChars = 32;

// Ctrl-C (SIGINT) and SIGTERM (`kill`, a job scheduler) stop a run without
// losing it. The handler only records the signal (all a handler may safely
// do); the loop looks after each step, saves a checkpoint and exits with
// 128 + the signal's number — 130 for SIGINT, 143 for SIGTERM — the status a
// shell reports for a program the signal stopped, so scripts can tell an
// interrupted run from a finished one (0) or a failed one (1, 2). A second
// signal stops the program at once: checkpoints are written atomically, so
// even then the previous one survives.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void request_stop(int signal) {
  if (g_stop_signal != 0) {
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    return;
  }
  g_stop_signal = signal;
}

// Signals ignored when the program started stay ignored: a script's
// background job, which Ctrl-C at the terminal is not meant to stop.
void handle_stop_signals(bool install) {
  for (int signal : {SIGINT, SIGTERM}) {
    struct sigaction current {};
    sigaction(signal, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = install ? request_stop : SIG_DFL;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // a write to the terminal is not cut short
    sigaction(signal, &action, nullptr);
  }
}

// The mean loss over fixed batches, with the model as it is now.
float mean_loss(TrainingEngine& engine, TrainingState& state, const std::vector<Batch>& batches) {
  double sum = 0;
  EvaluationRun run(engine);  // the same weights for every batch
  for (const Batch& batch : batches) sum += engine.evaluate(state, batch);
  return static_cast<float>(sum / batches.size());
}

std::vector<Batch> fixed_batches(const std::vector<int32_t>& tokens, int count, int B, int T,
                                 Rng& rng) {
  std::vector<Batch> batches;
  for (int i = 0; i < count; ++i) batches.push_back(sample_batch(tokens, B, T, rng));
  return batches;
}

// Everything a run needs before its first step, checked before anything is
// written: the options (with a resumed run's merged in), the checkpoint's
// state if there is one, the data, the model's shape, the device and the
// final sample's prompt.
struct PreparedRun {
  TrainOptions o;
  std::optional<TrainingState> state;  // a resumed run's; empty for a new one
  std::optional<TrainingState> init;   // --init's model, for a new run that starts from it
  TrainingData data;
  GPTConfig config;
  std::string device_name;
  const Device* device = nullptr;
  std::string prompt;
  std::vector<int32_t> prompt_ids;
};

// --model and --init: the named configuration and the file's model become the
// run's (apply_model); returns the file's model for --init. Both together
// must describe the same shape.
std::optional<TrainingState> start_model(TrainOptions& o, const ModelSources& models) {
  if ((!o.model.empty() || !o.init.empty()) && !o.resume.empty()) {
    throw UsageError(std::string(o.init.empty() ? "--model" : "--init") +
                     " starts a new run, and --resume continues one: give one of them");
  }
  std::optional<GPTConfig> named;
  if (!o.model.empty()) {
    std::string names;
    for (const auto& [name, config] : models.presets) {
      if (name == o.model) named = config;
      names += (names.empty() ? "" : ", ") + name;
    }
    if (!named) {
      throw UsageError("--model " + o.model + ": " +
                       (names.empty() ? std::string("this program has no named models (chapter "
                                                    "16's programs have GPT-2's sizes)")
                                      : "the named models are " + names));
    }
    apply_model(o, *named, "--model " + o.model);
  }
  if (o.init.empty()) return std::nullopt;
  std::optional<TrainingState> init;
  init.emplace(read_model_flag(models, "--init", o.init));
  const GPTConfig& c = init->model.config;
  if (named && (c.vocab_size != named->vocab_size || c.embed_size != named->embed_size ||
                c.num_layers != named->num_layers || c.heads != named->heads ||
                c.ff_dim != named->ff_dim || c.max_length != named->max_length ||
                c.tie_weights != named->tie_weights || c.gelu != named->gelu)) {
    throw UsageError("--init " + o.init + " holds a model of another shape than --model " +
                     o.model + "; leave --model out to train the file's model as it is");
  }
  apply_model(o, c, "--init " + o.init);
  return init;
}

// Throws UsageError for anything wrong; nullopt after --help.
std::optional<PreparedRun> prepare(int argc, char** argv, const Devices& devices,
                                   const Tokenizers& tokenizers, const ModelSources& models) {
  std::optional<TrainOptions> parsed = parse_train_options(argc, argv, std::cout);
  if (!parsed) return std::nullopt;  // --help
  TrainOptions o = *parsed;
  // A new run's model may be named (--model) or read from a file (--init).
  std::optional<TrainingState> init = start_model(o, models);
  // A resumed run takes its model, and the settings the user does not
  // override, from the checkpoint.
  std::optional<TrainingState> state;
  if (!o.resume.empty()) {
    try {
      state.emplace(load_checkpoint(o.resume));
    } catch (const std::exception& e) {
      throw UsageError(std::string("--resume: ") + e.what());
    }
    apply_checkpoint(o, state->model.config, state->settings);
  }
  validate_train_options(o);
  const auto& [device_name, device] = choose_device(devices, o.device, o.precision);

  // A resumed run's tokenizer is its checkpoint's, and --init's model's is its
  // file's: --tokenizer, if given, must name it.
  std::shared_ptr<const TextTokenizer> stored;
  if (init) {
    stored = restore_tokenizer(tokenizers, init->tokenizer, init->vocabulary,
                               init->model.config.vocab_size, "--init " + o.init);
    if (o.given.count("tokenizer")) require_same_tokenizer(tokenizers, o.tokenizer, *stored, o.init);
  }
  if (state) {
    stored = restore_tokenizer(tokenizers, state->tokenizer, state->vocabulary,
                               state->model.config.vocab_size, "--resume " + o.resume);
    if (o.given.count("tokenizer")) {
      require_same_tokenizer(tokenizers, o.tokenizer, *stored, o.resume);
    }
  }
  TrainingData data = prepare_training_data(
      o.data, o.vocab_size, o.random_tokens, o.seed, stored,
      [&](const std::string& text) { return tokenizers.make(o.tokenizer, text); });
  const TextTokenizer& tokenizer = *data.tokenizer;
  require_one_block(data, o.block_size);
  const GPTConfig config = state ? state->model.config : o.model_config(tokenizer.vocab_size());
  require_memory(config, o.batch_size, o.block_size);
  if (config.vocab_size != tokenizer.vocab_size()) {
    const std::string source = state ? "--resume: the checkpoint's tokenizer"
                               : init ? "--init: the model file's tokenizer"
                                      : "--tokenizer " + o.tokenizer;
    throw UsageError(source + " has " + std::to_string(tokenizer.vocab_size()) + " " +
                     token_unit(tokenizer) + " but " +
                     (o.model.empty() ? "the model" : "--model " + o.model) + " expects " +
                     std::to_string(config.vocab_size) +
                     (o.model.empty() ? "" : "; choose the tokenizer it was made for"));
  }

  // The prompt of the final sample, checked now rather than after the run.
  // By default the first tokens of the validation text, as they are (a BPE
  // token may end inside a character: its text might not encode back to it).
  std::string prompt = o.sample_prompt;
  std::vector<int32_t> prompt_ids;
  if (prompt.empty()) {
    prompt_ids.assign(data.val.begin(),
                      data.val.begin() + std::min<size_t>(kDefaultPromptChars, data.val.size()));
    prompt = tokenizer.decode(prompt_ids);
  } else {
    try {
      prompt_ids = tokenizer.encode(prompt);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--sample_prompt: ") + e.what());
    }
  }
  return PreparedRun{std::move(o), std::move(state), std::move(init), std::move(data),
                     config,       device_name,      &device,         prompt,
                     std::move(prompt_ids)};
}

// The run's plan, before the first step: what it trains, on what, how long.
void print_plan(const PreparedRun& run, const TrainingState& state, int64_t epoch_steps,
                int64_t total, const std::filesystem::path& out_dir) {
  const TrainOptions& o = run.o;
  const GPTConfig& config = run.config;
  const TrainingData& data = run.data;
  const int B = o.batch_size, T = o.block_size;
  std::printf("data    %s\n", data.description.c_str());
  std::printf("tokens  train %s, validation %s; a unigram model scores %.4f on validation\n",
              grouped(data.train.size()).c_str(), grouped(data.val.size()).c_str(),
              unigram_loss(data.train, data.val, data.tokenizer->vocab_size()));
  std::printf("model   V=%d C=%d L=%d H=%d F=%d P=%d dropout=%g: %s parameters\n",
              config.vocab_size, config.embed_size, config.num_layers, config.heads,
              config.ff_dim, config.max_length, config.dropout,
              grouped(state.model.num_parameters()).c_str());
  std::printf("steps   B=%d x T=%d = %s tokens per step; one epoch = %s steps; %s steps in all%s\n",
              B, T, grouped(int64_t(B) * T).c_str(), grouped(epoch_steps).c_str(),
              grouped(total).c_str(),
              o.max_steps > 0 ? " (--max_steps)"
                              : (" (" + std::to_string(o.epochs) + " epochs)").c_str());
  std::printf("optim   AdamW lr=%g (%s%s), weight_decay=%g, grad_clip=%g, seed=%llu\n", o.lr,
              o.lr_schedule.c_str(),
              o.warmup_steps > 0 ? (", warmup " + std::to_string(o.warmup_steps)).c_str() : "",
              o.weight_decay, o.grad_clip, static_cast<unsigned long long>(o.seed));
  std::printf("device  %s: %s\n", run.device_name.c_str(), run.device->description.c_str());
  std::printf("out     %s (checkpoint.safetensors, metrics.jsonl)\n", out_dir.c_str());
  if (!o.resume.empty()) {
    std::printf("resume  %s at step %d\n", o.resume.c_str(), state.step);
  }
  if (!o.init.empty()) std::printf("init    %s (its weights; a new optimizer)\n", o.init.c_str());
  std::fflush(stdout);
}

// One step's line in metrics.jsonl.
StepMetrics step_metrics(int64_t step, int64_t epoch_steps, const StepResult& result, float lr,
                         double tokens_per_s) {
  StepMetrics m;
  m.step = step;
  m.epoch = double(step) / epoch_steps;
  m.loss = result.loss;
  m.lr = lr;
  m.grad_norm = result.grad_norm;
  m.tokens_per_s = tokens_per_s;
  return m;
}

// The progress line after a step: the speed and time left over this run's steps so far.
Progress progress(const StepMetrics& m, int64_t total, double tokens_per_step,
                  int64_t steps_this_run, double train_seconds) {
  Progress p;
  p.step = m.step;
  p.total = total;
  p.epoch = m.epoch;
  p.loss = m.loss;
  p.lr = m.lr;
  p.tokens_per_s = tokens_per_step * steps_this_run / train_seconds;
  p.eta_seconds = (total - m.step) * (train_seconds / steps_this_run);
  return p;
}

// A NaN or infinite loss or gradient norm at `step`: what the user reads.
void report_divergence(const StepResult& result, int64_t step, int last_saved,
                       const std::string& checkpoint_path) {
  const bool loss_bad = !std::isfinite(result.loss);
  const double bad = loss_bad ? result.loss : result.grad_norm;
  const std::string kept = last_saved >= 0 ? "The checkpoint of step " +
                                                 std::to_string(last_saved) + " (" +
                                                 checkpoint_path + ") is unchanged"
                                           : std::string("No checkpoint was written");
  std::fprintf(stderr,
               "train: the %s became %s at step %lld: training diverged. %s; try a smaller "
               "--lr or --grad_clip.\n",
               loss_bad ? "loss" : "gradient norm", std::isnan(bad) ? "NaN" : "infinite",
               static_cast<long long>(step), kept.c_str());
}

const char* stop_reason(int signal) {
  return signal == SIGINT ? "interrupted (SIGINT)" : "stopped (SIGTERM)";
}

// The sample at the end: the prompt, then generated tokens' bytes as they come.
void print_sample(const PreparedRun& run, const TrainingState& state) {
  const TrainOptions& o = run.o;
  const TextTokenizer& tokenizer = *run.data.tokenizer;
  std::printf("sample  (%d %s after the prompt)\n%s", o.sample_tokens, token_unit(tokenizer),
              run.prompt.c_str());
  std::fflush(stdout);
  Rng sample_rng(o.seed ^ kSampleSalt);
  run.device->generate(state.model, run.prompt_ids, o.sample_tokens, SamplingOptions{},
                       sample_rng, [&](int32_t id) {
                         const std::string bytes = tokenizer.decode({id});
                         std::fwrite(bytes.data(), 1, bytes.size(), stdout);
                         std::fflush(stdout);
                       });
  std::printf("\n");
}

int run(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
        const ModelSources& models) {
  std::optional<PreparedRun> prepared = prepare(argc, argv, devices, tokenizers, models);
  if (!prepared) return 0;  // --help
  const TrainOptions& o = prepared->o;
  const TrainingData& data = prepared->data;
  const GPTConfig& config = prepared->config;
  std::optional<TrainingState>& state = prepared->state;

  // lesson: setup
  Rng rng(o.seed);  // the training stream: initialisation, batches, dropout
  if (state) {
    rng.set_state(state->rng_state);
  } else {
    state.emplace(config);
    if (prepared->init) {  // --init: the file's weights; the optimizer starts afresh
      const ParameterBuffer& from = prepared->init->model.params;
      std::copy(from.data(), from.data() + from.size(), state->model.params.data());
    } else {
      init_gpt2(state->model, rng);
    }
    state->tokenizer = data.tokenizer->kind();
    state->vocabulary = data.tokenizer->record();
  }
  state->settings = o.settings();
  const int B = o.batch_size, T = o.block_size;
  const int64_t epoch_steps = steps_per_epoch(int64_t(data.train.size()), B, T);
  const int64_t total = total_steps(o, int64_t(data.train.size()));
  LrSchedule schedule;
  schedule.max_lr = o.lr;
  schedule.min_lr = o.lr / 10;
  schedule.warmup_steps = o.warmup_steps;
  schedule.total_steps = o.lr_schedule == "cosine" ? static_cast<int>(total) : 0;
  AdamWConfig adamw;
  adamw.weight_decay = o.weight_decay;
  // end lesson

  const std::filesystem::path out_dir(o.out);
  try {
    std::filesystem::create_directories(out_dir);
  } catch (const std::exception& e) {
    throw UsageError("--out " + o.out + ": " + e.what());
  }
  const std::string checkpoint_path = (out_dir / "checkpoint.safetensors").string();
  print_plan(*prepared, *state, epoch_steps, total, out_dir);

  MetricsWriter metrics((out_dir / "metrics.jsonl").string(), o.resume.empty() ? -1 : state->step);
  Rng eval_rng(o.seed ^ kEvalSalt);
  const std::vector<Batch> val_batches = fixed_batches(data.val, o.eval_batches, B, T, eval_rng);
  std::unique_ptr<TrainingEngine> engine;
  try {
    engine = prepared->device->engine(config, B, T);
  } catch (const std::exception& e) {
    throw UsageError("--device " + prepared->device_name + ": " + e.what());
  }
  ProgressPrinter printer(stdout, isatty(STDOUT_FILENO) != 0, o.log_interval);

  const bool trains = state->step < total;
  if (!trains) {
    std::printf("the checkpoint is at step %d of %s already: nothing to train "
                "(raise --epochs or --max_steps to continue)\n",
                state->step, grouped(total).c_str());
  }
  double train_seconds = 0;
  int64_t steps_this_run = 0;
  // The step of the checkpoint at checkpoint_path, -1 for none (yet).
  std::error_code same_error;
  int last_saved = !o.resume.empty() &&
                           std::filesystem::equivalent(o.resume, checkpoint_path, same_error)
                       ? state->step
                       : -1;
  auto save = [&] {
    engine->sync(*state);
    save_checkpoint(*state, checkpoint_path);
    last_saved = state->step;
  };
  handle_stop_signals(true);
  // lesson: loop
  while (state->step < total) {
    Timer step_timer;
    const float lr = schedule.at(state->step);
    const Batch batch = sample_batch(data.train, B, T, rng);
    const StepResult result = engine->step(*state, batch, lr, o.grad_clip, adamw, rng);
    state->rng_state = rng.state();  // saved with the checkpoint, to resume exactly
    // end lesson
    const double seconds = step_timer.seconds();
    train_seconds += seconds;
    ++steps_this_run;
    const int64_t step = state->step;
    const StepMetrics m = step_metrics(step, epoch_steps, result, lr, double(B) * T / seconds);
    metrics.write(step_json(m));
    // A NaN or infinite loss, or gradient (then this step's update has made
    // the weights NaN too): stop, and do not save this state.
    if (!std::isfinite(result.loss) || !std::isfinite(result.grad_norm)) {
      printer.finish();
      report_divergence(result, step, last_saved, checkpoint_path);
      return 1;
    }

    const Progress p = progress(m, total, double(B) * T, steps_this_run, train_seconds);
    const bool last = step == total;
    const bool evaluate = !last && o.eval_interval > 0 && step % o.eval_interval == 0;
    printer.update(p, evaluate || steps_this_run == 1);
    if (evaluate) {
      const float val_loss = mean_loss(*engine, *state, val_batches);
      metrics.write(eval_json(step, val_loss));
      char line[128];
      std::snprintf(line, sizeof line, "step %lld: validation loss %.4f", static_cast<long long>(step),
                    val_loss);
      printer.print_line(line);
    }
    if (!last && o.save_interval > 0 && step % o.save_interval == 0) save();
    if (g_stop_signal != 0) {
      printer.finish();
      if (last_saved != state->step) save();
      std::fprintf(stderr,
                   "train: %s at step %lld of %lld: saved %s. Continue with\n"
                   "  train --resume %s\n",
                   stop_reason(g_stop_signal), static_cast<long long>(step),
                   static_cast<long long>(total), checkpoint_path.c_str(), checkpoint_path.c_str());
      return 128 + g_stop_signal;
    }
  }
  printer.finish();

  // The end: both losses over fixed batches, a checkpoint, a sample.
  const std::vector<Batch> train_batches =
      fixed_batches(data.train, o.eval_batches, B, T, eval_rng);
  const float val_loss = mean_loss(*engine, *state, val_batches);
  const float train_loss = mean_loss(*engine, *state, train_batches);
  engine->sync(*state);
  if (trains) {
    metrics.write(eval_json(state->step, val_loss));
    save();
  }
  std::printf("final   step %d: train loss %.4f, validation loss %.4f (%d batches each)%s\n",
              state->step, train_loss, val_loss, o.eval_batches,
              steps_this_run > 0
                  ? (", " + std::to_string(steps_this_run) + " steps in " +
                     format_duration(train_seconds))
                        .c_str()
                  : "");
  if (trains) std::printf("saved   %s\n", checkpoint_path.c_str());
  if (g_stop_signal != 0) {  // it came during the final evaluation: saved, now stop
    std::fprintf(stderr, "train: %s after the last step; the checkpoint is saved\n",
                 stop_reason(g_stop_signal));
    return 128 + g_stop_signal;
  }
  handle_stop_signals(false);  // the sample is saved nowhere: Ctrl-C just ends it
  if (o.sample_tokens > 0) print_sample(*prepared, *state);
  return 0;
}

}  // namespace

int train_program(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
                  const ModelSources& models) {
  return exit_status_of("train", [&] { return run(argc, argv, devices, tokenizers, models); });
}

}  // namespace gpt
