// chapters/02_embeddings/embeddings_test.cc — our embeddings against PyTorch's.
//
// Each case in tests/references/02_embeddings/ holds token ids, the tables and
// PyTorch's outputs (tests/cases/ch02_embeddings.py, computed in float64 and
// rounded once). Tolerance: an element passes when
// |ours - torch| <= 1e-6 + 1e-5 * |torch|.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/02_embeddings/sinusoidal.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::config_int;
using testing::load_reference;

// Lookups are exact copies; the only rounding is one float addition per
// element (correctly rounded: the float64 sum rounded once is the same float)
// and the sinusoids, which both sides compute in double and round once (two
// libm's sin may differ in double's last bit, so a float may flip by one
// spacing, 2^-24·|x|). Measured: bit-identical. The tolerance is far wider
// than needed and still catches any wrong row, column or position.
const Tolerance kTol{1e-6, 1e-5};

// For failure messages: the element (b, t, c) of an embedding comes from token
// tokens[b, t] at position t.
ElementContext token_context(const Safetensors& ref, int C) {
  const std::vector<int32_t> tokens = ref.ints("in.tokens");
  return {{"b", "t", "c"}, [tokens, C](int64_t flat_index, const std::vector<int64_t>&) {
            return "token " + std::to_string(tokens[flat_index / C]);
          }};
}

class EmbeddingsReference : public ::testing::TestWithParam<const char*> {};

TEST_P(EmbeddingsReference, TokenEmbeddingMatchesPyTorch) {
  const Safetensors ref = load_reference("02_embeddings", GetParam());
  const int B = config_int(ref, "B"), T = config_int(ref, "T");
  const int C = config_int(ref, "embed_size"), V = config_int(ref, "vocab_size");
  std::vector<float> out(size_t(B) * T * C);
  token_embedding_forward(out.data(), ref.ints("in.tokens").data(),
                          ref.floats("wte.weight").data(), B, T, C, V);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.token_embedding", kTol, token_context(ref, C));
}

TEST_P(EmbeddingsReference, PositionTableMatchesPyTorch) {
  const Safetensors ref = load_reference("02_embeddings", GetParam());
  const int P = config_int(ref, "max_length"), C = config_int(ref, "embed_size");
  std::vector<float> table(size_t(P) * C);
  if (ref.metadata.at("positions") == "sinusoidal") {
    sinusoidal_table(table.data(), P, C);
  } else {
    table = ref.floats("wpe.weight");  // learned: the table is a parameter
  }
  EXPECT_MATCHES_REFERENCE(table, ref, "out.position_table", kTol,
                           ElementContext{{"position", "c"}, {}});
}

TEST_P(EmbeddingsReference, EmbeddingMatchesPyTorch) {
  const Safetensors ref = load_reference("02_embeddings", GetParam());
  const int B = config_int(ref, "B"), T = config_int(ref, "T"), P = config_int(ref, "max_length");
  const int C = config_int(ref, "embed_size"), V = config_int(ref, "vocab_size");
  std::vector<float> positions(size_t(P) * C);
  if (ref.metadata.at("positions") == "sinusoidal") {
    sinusoidal_table(positions.data(), P, C);
  } else {
    positions = ref.floats("wpe.weight");
  }
  std::vector<float> out(size_t(B) * T * C);
  embedding_forward(out.data(), ref.ints("in.tokens").data(), ref.floats("wte.weight").data(),
                    positions.data(), B, T, C, V);
  EXPECT_MATCHES_REFERENCE(out, ref, "out.embeddings", kTol, token_context(ref, C));
}

INSTANTIATE_TEST_SUITE_P(Cases, EmbeddingsReference,
                         ::testing::Values("learned", "sinusoidal", "learned_full_length",
                                           "sinusoidal_long"));

TEST(Embeddings, TokenOutsideTheVocabularyIsAClearError) {
  const std::vector<float> wte(4 * 2, 0.0f), positions(3 * 2, 0.0f);
  const std::vector<int32_t> tokens = {0, 4, 1};
  std::vector<float> out(3 * 2);
  try {
    embedding_forward(out.data(), tokens.data(), wte.data(), positions.data(), 1, 3, 2, 4);
    FAIL() << "no error for token id 4 with V = 4";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("token id 4"), std::string::npos) << e.what();
  }
}

TEST(Sinusoidal, OddEmbedSizeIsAClearError) {
  std::vector<float> table(4 * 3);
  EXPECT_THROW(sinusoidal_table(table.data(), 4, 3), std::invalid_argument);
}

TEST(Sinusoidal, NearbyPositionsAreMoreAlikeThanDistantOnes) {
  const int P = 64, C = 32;
  std::vector<float> table(P * C);
  sinusoidal_table(table.data(), P, C);
  const auto dot = [&](int p, int q) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += table[p * C + c] * table[q * C + c];
    return s;
  };
  // sin² + cos² = 1 per channel pair; each entry is rounded to float (u
  // relative) and each product too: at most C·3u = 5.7e-6 off.
  std::ostringstream dots;  // "16, 15.9, 9.2, -1.3"
  dots << dot(10, 10) << ", " << dot(10, 11) << ", " << dot(10, 20) << ", " << dot(10, 50);
  EXPECT_HOLDS(std::abs(dot(10, 10) - C / 2.0) <= 1e-4 && dot(10, 11) > dot(10, 20) &&
               dot(10, 20) > dot(10, 50))
      << "position 10's row should have the dot product C/2 = " << C / 2 << " with itself "
      << "(within 1e-4) and smaller ones with rows further away; with rows 10, 11, 20 and 50 "
      << "it has " << dots.str();
}

}  // namespace
}  // namespace gpt
