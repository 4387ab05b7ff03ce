// tools/export/new_gpt2_model.cc — an untrained GPT-2 of any size, in GPT-2's published layout.
//
//   new_gpt2_model --num_layers 4 --heads 4 --embed_size 128 --max_length 128 --out DIR
//
// Chapter 16's gpt2_shaped() makes the configuration: GPT-2's choices (pre-LN
// blocks, learned positions, the tanh GELU, the output layer tied to the
// token embedding, LayerNorm eps 1e-5, F = 4C, V = 50,257) at the sizes
// given. Chapter 07's init_gpt2 draws the weights (GPT-2's initialisation),
// and chapter 16's write_gpt2_weights writes DIR/model.safetensors and
// DIR/config.json, exactly as Hugging Face stores GPT-2. Then
//
//   train --init DIR/model.safetensors --tokenizer gpt2 --data austen ...
//
// trains it: a small GPT-2 whose every choice but its size is the real one's
// (notebooks/gpt2_inside.ipynb). `train --tokenizer gpt2 --num_layers 4 ...`
// alone would give chapter 07's defaults instead: the erf GELU, an output
// layer of its own.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "chapters/07_gpt/init.h"
#include "chapters/16_gpt2/gpt2_presets.h"
#include "chapters/16_gpt2/gpt2_weights.h"
#include "common/random.h"

int main(int argc, char** argv) {
  CLI::App app{"An untrained GPT-2-shaped model, written in GPT-2's published layout"};
  int num_layers = 4, heads = 4, embed_size = 128, max_length = 128;
  uint64_t seed = 1;
  std::string out;
  app.add_option("--num_layers", num_layers, "L: blocks")->capture_default_str();
  app.add_option("--heads", heads, "H: attention heads (must divide embed_size)")
      ->capture_default_str();
  app.add_option("--embed_size", embed_size, "C: channels per token")->capture_default_str();
  app.add_option("--max_length", max_length, "P: positions (GPT-2's is 1024)")
      ->capture_default_str();
  app.add_option("--seed", seed, "initialisation seed")->capture_default_str();
  app.add_option("--out", out, "directory for model.safetensors and config.json")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    const gpt::GPTConfig config = gpt::gpt2_shaped(num_layers, heads, embed_size, 50257, max_length);
    config.validate();
    gpt::GPTModel model(config);
    gpt::Rng rng(seed);
    gpt::init_gpt2(model, rng);
    gpt::write_gpt2_weights(model, out);
    std::printf("wrote %s/model.safetensors and config.json: L=%d H=%d C=%d V=%d P=%d, %zu "
                "parameters (untrained)\n",
                out.c_str(), config.num_layers, config.heads, config.embed_size,
                config.vocab_size, config.max_length, model.num_parameters());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "new_gpt2_model: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
