// chapters/09_training/generate_main.cc — text from a trained checkpoint.
//
//   bazel run //:generate -- --prompt "It is a truth" --temperature 0.8 --top_k 20
//
// Loads a checkpoint written by `train` (the model, and the tokenizer's
// vocabulary stored beside it), encodes the prompt, and streams the
// continuation as chapter 07's generate() chooses each character.
#include <cstdio>
#include <iostream>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/train_options.h"
#include "common/random.h"
#include "common/timer.h"

namespace gpt {
namespace {

int run(int argc, char** argv) {
  const std::optional<GenerateOptions> parsed = parse_generate_options(argc, argv, std::cout);
  if (!parsed) return 0;  // --help
  const GenerateOptions& o = *parsed;

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

  std::fprintf(stderr, "%s: step %d, %zu parameters, L=%d C=%d H=%d, context %d\n",
               o.checkpoint.c_str(), state->step, model.num_parameters(), model.config.num_layers,
               model.config.embed_size, model.config.heads, model.config.max_length);
  std::fputs(o.prompt.c_str(), stdout);
  std::fflush(stdout);
  Rng rng(o.seed);
  Timer timer;
  generate(model, prompt, o.max_new_tokens, o.sampling, rng, [&](int32_t id) {
    std::fputs(tokenizer->decode({id}).c_str(), stdout);
    std::fflush(stdout);
  });
  std::fputs("\n", stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "[%d characters in %.2f s]\n", o.max_new_tokens, timer.seconds());
  return 0;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  try {
    return gpt::run(argc, argv);
  } catch (const gpt::UsageError& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 1;
  }
}
