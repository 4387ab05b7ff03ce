// tools/export/export_logit_lens.cc — what a GPT-2 would say after each of its layers.
//
//   export_logit_lens --model gpt2/model.safetensors --text "It is a truth universally"
//       --out lens.safetensors [--top 5]
//
// Reads a model file as chapter 16's programs do (read_model_file: a
// checkpoint of this course, or GPT-2's published model.safetensors), encodes
// the text with the model's own tokenizer, runs chapter 07's gpt_forward on
// it (B = 1) and keeps what every layer wrote into the residual stream:
// stream 0 is the embeddings (token + position), stream l the output of block
// l − 1 (acts.block_out), stream L the last block's, from which the model
// itself predicts. The "logit lens" reads every stream as if it were the
// last: the final LayerNorm (ln_f) and the output layer applied to it give a
// distribution over the next token at every layer. For stream L that is the
// model's own output, and the program checks that it is.
//
// Writes, for notebooks/gpt2_inside.ipynb (S = L + 1 streams, K = --top):
//   tokens                    (T)           I32  the encoded text
//   lens.top_ids              (S, T, K)     I32  each stream's K likeliest next tokens,
//   lens.top_probs            (S, T, K)     F32  and their probabilities, likeliest first
//   lens.next_prob            (S, T - 1)    F32  the probability of the token that does come next
//   lens.next_rank            (S, T - 1)    I32  its rank (0: the lens's first guess)
//   lens.entropy              (S, T)        F32  the distribution's entropy, nats
//   blocks.<l>.attn.weights   (1, H, T, T)  F32  block l's softmax weights (row t: over 0..t)
//   metadata  text, model, step, tokenizer, num_layers, heads, embed_size,
//             pieces (JSON: {id: its text} for every id above; bytes that are
//             not UTF-8 become U+FFFD), last_stream_vs_logits (the largest
//             |difference| between the lens on stream L and the model's logits).
// A text longer than the model's context is cut to its first max_length tokens.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "chapters/04_multihead_attention/linear.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/15_bpe/tokenizers.h"
#include "chapters/16_gpt2/model_files.h"
#include "common/safetensors.h"

int main(int argc, char** argv) {
  CLI::App app{"The logit lens: every layer's next-token guesses for a text, and its attention"};
  std::string model_path, text, out;
  int top = 5;
  app.add_option("--model", model_path, "a checkpoint, or GPT-2's model.safetensors")->required();
  app.add_option("--text", text, "the text to run")->required();
  app.add_option("--out", out, "the safetensors file to write")->required();
  app.add_option("--top", top, "guesses kept per stream and position")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    if (top < 1) throw std::invalid_argument("--top must be at least 1");
    const gpt::TrainingState state = gpt::read_model_file(model_path);
    const gpt::GPTConfig& config = state.model.config;
    const int L = config.num_layers, H = config.heads, C = config.embed_size,
              V = config.vocab_size, K = std::min(top, V), S = L + 1;
    const std::shared_ptr<const gpt::TextTokenizer> tokenizer = gpt::restore_tokenizer(
        gpt::bpe_tokenizers(), state.tokenizer, state.vocabulary, V, "--model " + model_path);
    std::vector<int32_t> tokens = tokenizer->encode(text);
    if (tokens.empty()) throw std::invalid_argument("--text is empty");
    if (static_cast<int>(tokens.size()) > config.max_length) {
      tokens.resize(config.max_length);
      text = tokenizer->decode(tokens);
      std::printf("note: the text is cut to the model's context of %d tokens\n", config.max_length);
    }
    const int T = static_cast<int>(tokens.size());

    gpt::GPTActivations acts(config, 1, T);
    gpt::gpt_forward(acts, tokens.data(), state.model, 1, T);

    // The lens: ln_f, then the output layer, on each stream.
    const gpt::GPTWeights w = state.model.weights();
    std::vector<float> normed(size_t(T) * C), logits(size_t(T) * V);
    std::vector<int32_t> top_ids(size_t(S) * T * K), next_rank(size_t(S) * (T - 1));
    std::vector<float> top_probs(size_t(S) * T * K), next_prob(size_t(S) * (T - 1)),
        entropy(size_t(S) * T);
    std::set<int32_t> shown(tokens.begin(), tokens.end());
    double last_vs_logits = 0;
    std::vector<double> p(V);
    std::vector<int32_t> order(V);
    for (int s = 0; s < S; ++s) {
      const float* stream = s == 0 ? acts.embeddings : acts.block_out[s - 1];  // (T, C)
      gpt::layernorm_forward(normed.data(), nullptr, nullptr, stream, w.ln_f_weight, w.ln_f_bias,
                             T, C, config.layernorm_eps);
      gpt::linear_forward(logits.data(), normed.data(), w.lm_head, nullptr, T, C, V);  // (T, V)
      if (s == L) {
        for (size_t i = 0; i < logits.size(); ++i) {
          last_vs_logits = std::max(last_vs_logits, double(std::fabs(logits[i] - acts.logits[i])));
        }
      }
      for (int t = 0; t < T; ++t) {
        const float* row = logits.data() + size_t(t) * V;
        const double max = *std::max_element(row, row + V);
        double sum = 0;
        for (int v = 0; v < V; ++v) sum += (p[v] = std::exp(double(row[v]) - max));
        double h = 0;
        for (int v = 0; v < V; ++v) {
          p[v] /= sum;
          if (p[v] > 0) h -= p[v] * std::log(p[v]);
        }
        entropy[size_t(s) * T + t] = static_cast<float>(h);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + K, order.end(),
                          [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        for (int k = 0; k < K; ++k) {
          top_ids[(size_t(s) * T + t) * K + k] = order[k];
          top_probs[(size_t(s) * T + t) * K + k] = static_cast<float>(p[order[k]]);
          shown.insert(order[k]);
        }
        if (t + 1 < T) {
          const double q = p[tokens[t + 1]];
          next_prob[size_t(s) * (T - 1) + t] = static_cast<float>(q);
          next_rank[size_t(s) * (T - 1) + t] =
              static_cast<int32_t>(std::count_if(p.begin(), p.end(), [q](double x) { return x > q; }));
        }
      }
    }
    // The lens on the last stream is the model's own output: anything else is a bug here.
    if (!(last_vs_logits < 1e-3)) {
      throw std::runtime_error("the lens on the last block's output differs from the model's "
                               "logits by " + std::to_string(last_vs_logits));
    }

    gpt::Safetensors file;
    file.put_ints("tokens", {T}, tokens.data());
    file.put_ints("lens.top_ids", {S, T, K}, top_ids.data());
    file.put_floats("lens.top_probs", {S, T, K}, top_probs.data());
    if (T > 1) {
      file.put_floats("lens.next_prob", {S, T - 1}, next_prob.data());
      file.put_ints("lens.next_rank", {S, T - 1}, next_rank.data());
    }
    file.put_floats("lens.entropy", {S, T}, entropy.data());
    for (int l = 0; l < L; ++l) {
      file.put_floats("blocks." + std::to_string(l) + ".attn.weights", {1, H, T, T},
                      acts.blocks[l].attn.weights);  // (1, H, T, T)
    }
    nlohmann::json pieces = nlohmann::json::object();
    for (int32_t id : shown) pieces[std::to_string(id)] = tokenizer->decode({id});
    file.metadata["text"] = text;
    file.metadata["model"] = model_path;
    file.metadata["step"] = std::to_string(state.step);
    file.metadata["tokenizer"] = tokenizer->description();
    file.metadata["num_layers"] = std::to_string(L);
    file.metadata["heads"] = std::to_string(H);
    file.metadata["embed_size"] = std::to_string(C);
    file.metadata["pieces"] = pieces.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    char difference[32];
    std::snprintf(difference, sizeof difference, "%.3g", last_vs_logits);
    file.metadata["last_stream_vs_logits"] = difference;
    file.write(out);
    std::printf("wrote %s: %d tokens, %d streams x top %d, %d layers x %d heads of attention; "
                "the lens on the last stream matches the logits to %s\n",
                out.c_str(), T, S, K, L, H, difference);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_logit_lens: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
