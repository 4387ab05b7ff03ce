// chapters/09_training/generate_program.cc — text from a trained checkpoint.
//
//   bazel run //:generate -- --prompt "It is a truth" --temperature 0.8 --top_k 20
//
// Loads a checkpoint written by `train` (the model, and the tokenizer's
// vocabulary stored beside it), encodes the prompt, and streams the
// continuation as the device's generate (device.h) chooses each character.
#include <cstdio>
#include <iostream>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/programs.h"
#include "chapters/09_training/train_options.h"
#include "common/random.h"
#include "common/timer.h"

namespace gpt {
namespace {

int run(int argc, char** argv, const Devices& devices) {
  const std::optional<GenerateOptions> parsed = parse_generate_options(argc, argv, std::cout);
  if (!parsed) return 0;  // --help
  const GenerateOptions& o = *parsed;
  const auto& [device_name, device] = choose_device(devices, o.device);

  std::optional<TrainingState> state;
  std::optional<CharTokenizer> tokenizer;
  try {
    state.emplace(load_checkpoint(o.checkpoint));
    tokenizer.emplace(decode_utf8(state->vocabulary));
  } catch (const std::exception& e) {
    throw UsageError("--checkpoint: " + std::string(e.what()));
  }
  const GPTModel& model = state->model;
  if (tokenizer->vocab_size() != model.config.vocab_size) {
    throw UsageError("--checkpoint " + o.checkpoint + ": its vocabulary has " +
                     std::to_string(tokenizer->vocab_size()) + " characters, its model " +
                     std::to_string(model.config.vocab_size));
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
    std::fputs(tokenizer->decode({id}).c_str(), stdout);
    std::fflush(stdout);
  });
  std::fputs("\n", stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "[%d characters in %.2f s]\n", o.max_new_tokens, timer.seconds());
  return 0;
}

}  // namespace

int generate_program(int argc, char** argv, const Devices& devices) {
  try {
    return run(argc, argv, devices);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace gpt
