// tools/export/export_sampling.cc — how sampling options reshape the next token's odds.
//
//   export_sampling --checkpoint runs/latest/checkpoint.safetensors --prompt "It is a tr" \
//       --setting 1,0,1 --setting 0.5,0,1 --setting 1,5,1 --setting 1,0,0.9 \
//       --out sampling.safetensors
//
// Loads a checkpoint (chapter 09), runs gpt_forward on the prompt (chapter 07)
// and, for each --setting "temperature,top_k,top_p", writes chapter 07's
// sampling_distribution of the token after the prompt. For
// notebooks/generation.ipynb:
//   logits          (V)  F32  the last position's logits
//   distribution.<i> (V) F32  the probabilities sampling draws from under
//                             setting i (zero outside the candidates)
//   metadata  setting.<i> ("temperature,top_k,top_p"), settings (how many),
//             prompt, checkpoint, step, vocabulary
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/sampling.h"
#include "chapters/09_training/checkpoint.h"
#include "common/safetensors.h"

namespace {

// "0.8,20,0.95" → temperature 0.8, top_k 20, top_p 0.95; checked by validate().
gpt::SamplingOptions parse_setting(const std::string& setting) {
  std::istringstream in(setting);
  gpt::SamplingOptions o;
  char comma1 = 0, comma2 = 0;
  if (!(in >> o.temperature >> comma1 >> o.top_k >> comma2 >> o.top_p) || comma1 != ',' ||
      comma2 != ',' || !(in >> std::ws).eof()) {
    throw std::invalid_argument("--setting '" + setting +
                                "' is not temperature,top_k,top_p (e.g. 0.8,20,1)");
  }
  o.validate();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The next token's sampling distribution under several options, from a checkpoint"};
  std::string checkpoint = "runs/latest/checkpoint.safetensors", prompt, out;
  std::vector<std::string> settings;
  app.add_option("--checkpoint", checkpoint, "a checkpoint written by train")->capture_default_str();
  app.add_option("--prompt", prompt, "the text before the token (the checkpoint's characters)")
      ->required();
  app.add_option("--setting", settings, "temperature,top_k,top_p (repeat the flag for more)")
      ->required();
  app.add_option("--out", out, "the safetensors file to write")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<gpt::SamplingOptions> options;
    for (const std::string& s : settings) options.push_back(parse_setting(s));
    const gpt::TrainingState state = gpt::load_checkpoint(checkpoint);
    const gpt::GPTConfig& config = state.model.config;
    if (state.tokenizer != "char") {  // the notebooks read a character model's checkpoint
      throw std::invalid_argument("'" + checkpoint + "' is a model of the '" + state.tokenizer +
                                  "' tokenizer; this tool reads character models only "
                                  "(--tokenizer char, the default)");
    }
    const gpt::CharTokenizer tokenizer(gpt::decode_utf8(state.vocabulary));
    std::vector<int32_t> tokens = tokenizer.encode(prompt);
    if (tokens.empty()) throw std::invalid_argument("--prompt is empty");
    // The model sees at most max_length tokens: keep the prompt's last ones, as generate() does.
    if (static_cast<int>(tokens.size()) > config.max_length) {
      tokens.erase(tokens.begin(), tokens.end() - config.max_length);
    }
    const int T = static_cast<int>(tokens.size()), V = config.vocab_size;
    gpt::GPTActivations acts(config, 1, T);
    gpt::gpt_forward(acts, tokens.data(), state.model, 1, T);
    const float* logits = acts.logits + size_t(T - 1) * V;  // (V) the token after the prompt

    gpt::Safetensors file;
    file.put_floats("logits", {V}, logits);
    for (size_t i = 0; i < options.size(); ++i) {
      const std::vector<float> p = gpt::sampling_distribution(logits, V, options[i]);  // (V)
      file.put_floats("distribution." + std::to_string(i), {V}, p.data());
      file.metadata["setting." + std::to_string(i)] = settings[i];
    }
    file.metadata["settings"] = std::to_string(options.size());
    file.metadata["prompt"] = prompt;
    file.metadata["checkpoint"] = checkpoint;
    file.metadata["step"] = std::to_string(state.step);
    file.metadata["vocabulary"] = state.vocabulary;
    file.write(out);
    std::printf("wrote %s: %zu distributions over %d tokens\n", out.c_str(), options.size(), V);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_sampling: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
