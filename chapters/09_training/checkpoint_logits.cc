// chapters/09_training/checkpoint_logits.cc — our logits, for PyTorch to check.
//
//   checkpoint_logits CHECKPOINT OUT.safetensors [TOKEN_ID ...]
//
// Loads a checkpoint with load_checkpoint, runs gpt_forward on one sequence
// (the given ids, or by default max_length ids counting through the
// vocabulary) and writes `tokens` (1, T) and `logits` (1, T, V) to OUT.
// tests/load_checkpoint.py --compare OUT runs the same checkpoint in the
// PyTorch reference model on the same tokens: equal logits prove the
// checkpoint means the same model on both sides.
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/09_training/checkpoint.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT OUT.safetensors [TOKEN_ID ...]\n", argv[0]);
    return 2;
  }
  try {
    const gpt::TrainingState state = gpt::load_checkpoint(argv[1]);
    const gpt::GPTConfig& config = state.model.config;
    std::vector<int32_t> tokens;
    for (int i = 3; i < argc; ++i) tokens.push_back(std::stoi(argv[i]));
    if (tokens.empty()) {
      for (int t = 0; t < config.max_length; ++t) tokens.push_back((3 * t + 1) % config.vocab_size);
    }
    const int T = static_cast<int>(tokens.size());
    gpt::GPTActivations acts(config, 1, T);
    gpt::gpt_forward(acts, tokens.data(), state.model, 1, T);
    gpt::Safetensors out;
    out.put_ints("tokens", {1, T}, tokens.data());
    out.put_floats("logits", {1, T, config.vocab_size}, acts.logits);  // (1, T, V)
    out.metadata["checkpoint"] = argv[1];
    out.write(argv[2]);
    std::printf("wrote %s: logits (1, %d, %d)\n", argv[2], T, config.vocab_size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_logits: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
