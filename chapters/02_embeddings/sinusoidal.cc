// chapters/02_embeddings/sinusoidal.cc — the sinusoidal position table.
// Exercise: sinusoidal_exercise.cc is this file with the body removed.
#include "chapters/02_embeddings/sinusoidal.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace gpt {

// lesson: sinusoidal_table
void sinusoidal_table(float* table, int P, int C) {
  if (C % 2 != 0) {
    throw std::invalid_argument("sinusoidal encodings pair channels: embed_size must be even, got " +
                                std::to_string(C));
  }
  for (int i = 0; i < C / 2; ++i) {
    // Frequency of channel pair i: 10000^(-2i / C), from 1 down towards 1/10000.
    const double frequency = std::exp(-std::log(10000.0) * (2.0 * i) / C);
    for (int p = 0; p < P; ++p) {
      // double: at p = 1000 a float angle would already be off by ~3e-5
      const double angle = p * frequency;
      table[int64_t(p) * C + 2 * i] = static_cast<float>(std::sin(angle));
      table[int64_t(p) * C + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  }
}
// end lesson

}  // namespace gpt
