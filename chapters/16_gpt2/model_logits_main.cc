// chapters/16_gpt2/model_logits_main.cc — our logits for a model file, for PyTorch to check.
//
//   model_logits MODEL OUT.safetensors TOKEN_ID [TOKEN_ID ...]
//
// Reads MODEL as the programs do (a checkpoint, or GPT-2's model.safetensors
// with config.json beside it: model_files.h), runs chapter 07's forward pass
// on the one sequence of ids and writes `logits` (T, V) to OUT.
// gpt2_reference.py compare runs the same file in the PyTorch GPT-2 on the
// same ids: equal logits prove both sides read the same model.
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/16_gpt2/model_files.h"
#include "common/timer.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL OUT.safetensors TOKEN_ID [TOKEN_ID ...]\n", argv[0]);
    return 2;
  }
  try {
    gpt::Timer timer;
    const gpt::TrainingState state = gpt::read_model_file(argv[1]);
    const gpt::GPTConfig& config = state.model.config;
    const double read_seconds = timer.seconds();
    std::vector<int32_t> tokens;
    for (int i = 3; i < argc; ++i) tokens.push_back(std::stoi(argv[i]));
    const int T = static_cast<int>(tokens.size());
    gpt::GPTActivations acts(config, 1, T);
    gpt::gpt_forward(acts, tokens.data(), state.model, 1, T);
    gpt::Safetensors out;
    out.put_floats("logits", {T, config.vocab_size}, acts.logits);  // (T, V)
    out.write(argv[2]);
    std::printf("model_logits: %s: L=%d H=%d C=%d V=%d P=%d, %zu parameters, read in %.1f s; "
                "wrote logits (%d, %d)\n",
                argv[1], config.num_layers, config.heads, config.embed_size, config.vocab_size,
                config.max_length, state.model.num_parameters(), read_seconds, T,
                config.vocab_size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_logits: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
