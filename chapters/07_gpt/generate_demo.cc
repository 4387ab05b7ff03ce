// chapters/07_gpt/generate_demo.cc — a GPT writes text (badly, until chapter 09).
//   bazel run //chapters/07_gpt:generate_demo -- --prompt "It is a truth" --top_k 10
//
// Builds the seed-shaped GPT over the Austen character vocabulary with GPT-2's
// random initialisation (or loads --model, a safetensors file of parameters
// and configuration) and generates. An untrained model's next-token
// distribution is nearly uniform, so expect random characters: the point is
// the machinery — prompt → ids → forward → sample → append → decode.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/init.h"
#include "common/timer.h"

int main(int argc, char** argv) {
  CLI::App app{"Chapter 07: autoregressive generation from a GPT"};
  std::string model_path, prompt = "It is a truth universally acknowledged";
  int max_new_tokens = 200;
  uint64_t seed = 1337;
  gpt::SamplingOptions sampling;
  app.add_option("--model", model_path, "safetensors model (default: a freshly initialised one)");
  app.add_option("--prompt", prompt, "text to continue (Austen's characters only)")->capture_default_str();
  app.add_option("--max_new_tokens", max_new_tokens, "tokens to generate")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  app.add_option("--temperature", sampling.temperature, "0 = greedy")->capture_default_str();
  app.add_option("--top_k", sampling.top_k, "0 = no limit")->capture_default_str();
  app.add_option("--top_p", sampling.top_p, "1 = no limit")->capture_default_str();
  app.add_option("--seed", seed, "sampling (and initialisation) seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const gpt::CharTokenizer tok = gpt::CharTokenizer::from_text(gpt::read_corpus("austen"));
    gpt::Rng rng(seed);
    gpt::GPTConfig config;
    config.vocab_size = tok.vocab_size();
    gpt::GPTModel model =
        model_path.empty() ? gpt::GPTModel(config)
                           : gpt::GPTModel::from_safetensors(gpt::Safetensors::read(model_path));
    if (model_path.empty()) gpt::init_gpt2(model, rng);
    if (model.config.vocab_size != tok.vocab_size()) {
      throw std::invalid_argument("the model's vocabulary (" + std::to_string(model.config.vocab_size) +
                                  ") is not Austen's (" + std::to_string(tok.vocab_size()) + ")");
    }
    std::fprintf(stderr, "%s model: %zu parameters, L=%d C=%d H=%d, context %d; untrained models babble\n",
                 model_path.empty() ? "random" : model_path.c_str(), model.num_parameters(),
                 model.config.num_layers, model.config.embed_size, model.config.heads,
                 model.config.max_length);
    const std::vector<int32_t> ids = tok.encode(prompt);
    std::cout << prompt << std::flush;
    gpt::Timer timer;
    gpt::generate(model, ids, max_new_tokens, sampling, rng,
                  [&](int32_t id) { std::cout << tok.decode({id}) << std::flush; });
    std::fprintf(stderr, "\n[%d tokens in %.2f s: %.0f tokens/s]\n", max_new_tokens,
                 timer.seconds(), max_new_tokens / timer.seconds());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
