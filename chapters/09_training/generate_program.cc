// chapters/09_training/generate_program.cc — text from a trained checkpoint.
//
//   bazel run //:generate -- --prompt "It is a truth" --temperature 0.8 --top_k 20
//
// Loads a checkpoint written by `train` (the model, and the tokenizer stored
// beside it, restored with the program's tokenizers: text_tokenizer.h),
// encodes the prompt, and streams the continuation as the device's generate
// (device.h) chooses each token, writing its bytes as they come.
#include <cstdio>
#include <iostream>
#include <memory>

#include "chapters/07_gpt/generate.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/programs.h"
#include "chapters/09_training/train_options.h"
#include "common/random.h"
#include "common/timer.h"

namespace gpt {
namespace {

int run(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
        const ModelSources& models) {
  const std::optional<GenerateOptions> parsed = parse_generate_options(argc, argv, std::cout);
  if (!parsed) return 0;  // --help
  const GenerateOptions& o = *parsed;
  const auto& [device_name, device] = choose_device(devices, o.device, o.precision);

  std::optional<TrainingState> state;
  state.emplace(read_model_flag(models, "--checkpoint", o.checkpoint));
  const GPTModel& model = state->model;
  const std::shared_ptr<const TextTokenizer> tokenizer =
      restore_tokenizer(tokenizers, state->tokenizer, state->vocabulary, model.config.vocab_size,
                        "--checkpoint " + o.checkpoint);
  if (!o.tokenizer.empty()) {
    require_same_tokenizer(tokenizers, o.tokenizer, *tokenizer, o.checkpoint);
  }
  std::vector<int32_t> prompt;
  try {
    prompt = tokenizer->encode(o.prompt);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--prompt: " + std::string(e.what()) + " of this checkpoint");
  }

  std::fprintf(stderr, "%s: step %d, %zu parameters, L=%d C=%d H=%d, context %d; %s: %s\n",
               o.checkpoint.c_str(), state->step, model.num_parameters(), model.config.num_layers,
               model.config.embed_size, model.config.heads, model.config.max_length,
               device_name.c_str(), device.description.c_str());
  std::fputs(o.prompt.c_str(), stdout);
  std::fflush(stdout);
  Rng rng(o.seed);
  Timer timer;
  device.generate(model, prompt, o.max_new_tokens, o.sampling, rng, [&](int32_t id) {
    const std::string bytes = tokenizer->decode({id});
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fflush(stdout);
  });
  std::fputs("\n", stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "[%d %s in %.2f s]\n", o.max_new_tokens, token_unit(*tokenizer),
               timer.seconds());
  return 0;
}

}  // namespace

TrainingState read_model_flag(const ModelSources& models, const std::string& flag,
                              const std::string& path) {
  try {
    return models.read(path);
  } catch (const std::exception& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

int generate_program(int argc, char** argv, const Devices& devices,
                     const Tokenizers& tokenizers, const ModelSources& models) {
  return exit_status_of("generate", [&] { return run(argc, argv, devices, tokenizers, models); });
}

}  // namespace gpt
