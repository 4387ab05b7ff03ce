// tools/export/export_attention.cc — what every head of a trained model looks at.
//
//   export_attention --checkpoint runs/latest/checkpoint.safetensors --out attention.safetensors
//       --text "It is a truth universally acknowledged"
//
// Loads a checkpoint with chapter 09's load_checkpoint, encodes the text with
// the checkpoint's own vocabulary, runs chapter 07's gpt_forward on it (B = 1)
// and writes, for notebooks/attention.ipynb:
//   tokens                    (1, T)        I32  the encoded text
//   blocks.<l>.attn.weights   (1, H, T, T)  F32  block l's softmax weights:
//                                                row t is how position t spreads
//                                                its attention over positions 0..t
//   next_probs                (V)           F32  the model's distribution for the
//                                                token after the text
//   metadata  text, checkpoint, step, vocabulary, num_layers, heads
// A text longer than the model's context (max_length) is cut to its first
// max_length characters, and the note says so.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/sampling.h"
#include "chapters/09_training/checkpoint.h"
#include "common/safetensors.h"

int main(int argc, char** argv) {
  CLI::App app{"Every block's attention weights for a text, from a checkpoint"};
  std::string checkpoint = "runs/latest/checkpoint.safetensors", text, out;
  app.add_option("--checkpoint", checkpoint, "a checkpoint written by train")->capture_default_str();
  app.add_option("--text", text, "the text to run (characters of the checkpoint's vocabulary)")
      ->required();
  app.add_option("--out", out, "the safetensors file to write")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    const gpt::TrainingState state = gpt::load_checkpoint(checkpoint);
    const gpt::GPTConfig& config = state.model.config;
    if (state.tokenizer != "char") {  // the notebooks read a character model's checkpoint
      throw std::invalid_argument("'" + checkpoint + "' is a model of the '" + state.tokenizer +
                                  "' tokenizer; this tool reads character models only "
                                  "(--tokenizer char, the default)");
    }
    const gpt::CharTokenizer tokenizer(gpt::decode_utf8(state.vocabulary));
    std::vector<int32_t> tokens = tokenizer.encode(text);
    if (tokens.empty()) throw std::invalid_argument("--text is empty");
    if (static_cast<int>(tokens.size()) > config.max_length) {
      tokens.resize(config.max_length);
      text = tokenizer.decode(tokens);
      std::printf("note: the text is cut to the model's context of %d characters\n",
                  config.max_length);
    }
    const int T = static_cast<int>(tokens.size()), H = config.heads, V = config.vocab_size;

    gpt::GPTActivations acts(config, 1, T);
    gpt::gpt_forward(acts, tokens.data(), state.model, 1, T);

    gpt::Safetensors file;
    file.put_ints("tokens", {1, T}, tokens.data());
    for (int l = 0; l < config.num_layers; ++l) {
      file.put_floats("blocks." + std::to_string(l) + ".attn.weights", {1, H, T, T},
                      acts.blocks[l].attn.weights);  // (1, H, T, T)
    }
    // The last position's probabilities: chapter 07's sampling distribution at
    // temperature 1 with no top-k or top-p, which is the plain softmax.
    const float* last = acts.logits + size_t(T - 1) * V;  // (V)
    const std::vector<float> probs = gpt::sampling_distribution(last, V, gpt::SamplingOptions{});
    file.put_floats("next_probs", {V}, probs.data());
    file.metadata["text"] = text;
    file.metadata["checkpoint"] = checkpoint;
    file.metadata["step"] = std::to_string(state.step);
    file.metadata["vocabulary"] = state.vocabulary;
    file.metadata["num_layers"] = std::to_string(config.num_layers);
    file.metadata["heads"] = std::to_string(H);
    file.write(out);
    std::printf("wrote %s: %d layers x %d heads of (%d, %d) attention weights\n", out.c_str(),
                config.num_layers, H, T, T);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_attention: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
