// chapters/16_gpt2/convert_main.cc — between this course's checkpoints and GPT-2's layout.
//
//   bazel run //:convert -- --from runs/latest/checkpoint.safetensors --to gpt2-austen/
//       writes gpt2-austen/model.safetensors and config.json: a directory
//       Hugging Face's GPT-2 (and tests/reference/gpt2.py) loads;
//   bazel run //:convert -- --from gpt2/model.safetensors --to gpt2.checkpoint.safetensors
//       writes GPT-2's weights as a checkpoint of this course (step 0).
// The direction follows from what --from holds. Exit status 0, 1, or 2 for bad flags.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/train_options.h"
#include "chapters/16_gpt2/gpt2_weights.h"
#include "chapters/16_gpt2/model_files.h"

namespace gpt {
namespace {

int run(int argc, char** argv) {
  std::string from, to;
  CLI::App app{"Chapter 16: convert between a checkpoint and GPT-2's model.safetensors"};
  app.add_option("--from", from, "a checkpoint written by train, or GPT-2's model.safetensors")
      ->required();
  app.add_option("--to", to,
                 "for a checkpoint: a directory for model.safetensors and config.json; for "
                 "GPT-2's weights: the checkpoint file to write")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  from = resolve_user_path(from);
  to = resolve_user_path(to);
  std::optional<TrainingState> state;
  bool checkpoint = false;
  try {
    const Safetensors file = Safetensors::read(from);
    checkpoint = is_checkpoint(file);
    state.emplace(model_from_safetensors(file, from));
  } catch (const std::exception& e) {
    throw UsageError("--from: " + std::string(e.what()));
  }
  if (checkpoint) {
    try {
      write_gpt2_weights(state->model, to);
    } catch (const std::invalid_argument& e) {
      throw UsageError("--from: " + std::string(e.what()));
    }
    std::printf("wrote %s/model.safetensors and config.json (GPT-2's layout, %zu parameters)\n",
                to.c_str(), state->model.num_parameters());
  } else {
    save_checkpoint(*state, to);
    std::printf("wrote %s (a checkpoint at step 0, %zu parameters)\n", to.c_str(),
                state->model.num_parameters());
  }
  return 0;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  return gpt::exit_status_of("convert", [&] { return gpt::run(argc, argv); });
}
