// chapters/02_embeddings/embeddings_demo.cc — what the position table looks like.
//   bazel run //chapters/02_embeddings:embeddings_demo
//
// Embeds the first sentence of Pride and Prejudice with a freshly initialised
// token table and the sinusoidal position table, prints the shapes, then draws
// how alike the encodings of positions 0..31 are (cosine similarity) as a
// character map: the bright diagonal band is "nearby positions look alike".
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/02_embeddings/embeddings.h"
#include "chapters/02_embeddings/sinusoidal.h"
#include "common/random.h"

int main(int argc, char** argv) {
  CLI::App app{"Chapter 02: token embeddings plus positional encodings"};
  int embed_size = 64, positions = 32;
  app.add_option("--embed_size", embed_size, "C: channels per embedding (even)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--positions", positions, "positions to compare in the similarity map")
      ->capture_default_str()->check(CLI::Range(2, 80));
  CLI11_PARSE(app, argc, argv);

  try {
    const std::string text = gpt::read_corpus("austen");
    const gpt::CharTokenizer tok = gpt::CharTokenizer::from_text(text);
    const std::string sentence =
        "It is a truth universally acknowledged, that a single man in possession";
    const std::vector<int32_t> ids = tok.encode(sentence);
    const int B = 1, T = static_cast<int>(ids.size()), C = embed_size, V = tok.vocab_size();
    const int P = std::max(T, positions);

    gpt::Rng rng(1);
    std::vector<float> wte(size_t(V) * C);  // (V, C), GPT-2's N(0, 0.02) start
    for (float& w : wte) w = rng.normal(0.0f, 0.02f);
    std::vector<float> table(size_t(P) * C);  // (P, C)
    gpt::sinusoidal_table(table.data(), P, C);
    std::vector<float> x(size_t(B) * T * C);  // (B, T, C)
    gpt::embedding_forward(x.data(), ids.data(), wte.data(), table.data(), B, T, C, V);

    std::printf("sentence: \"%s\"\n", sentence.c_str());
    std::printf("tokens (B, T) = (%d, %d) -> embeddings (B, T, C) = (%d, %d, %d)\n", B, T, B, T, C);
    std::printf("x[0, 0, :6] = ");
    for (int c = 0; c < 6; ++c) std::printf("%+.4f ", x[c]);
    std::printf(" ('%c' + position 0)\n\n", sentence[0]);

    std::printf("cosine similarity of sinusoidal encodings, positions 0..%d\n", positions - 1);
    std::printf("(' ' < 0.2 <= '.' < 0.4 <= ':' < 0.6 <= '*' < 0.8 <= '#')\n");
    const char* shades = " .:*#";
    for (int p = 0; p < positions; ++p) {
      std::printf("%3d ", p);
      for (int q = 0; q < positions; ++q) {
        double dot = 0, np = 0, nq = 0;
        for (int c = 0; c < C; ++c) {
          dot += table[p * C + c] * table[q * C + c];
          np += table[p * C + c] * table[p * C + c];
          nq += table[q * C + c] * table[q * C + c];
        }
        const double cosine = dot / std::sqrt(np * nq);
        const int shade = std::clamp(static_cast<int>(cosine * 5), 0, 4);
        std::printf("%c%c", shades[shade], shades[shade]);
      }
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
