// chapters/02_embeddings/sinusoidal.h — fixed positional encodings.
//
// "Attention Is All You Need" (Vaswani et al., 2017) encodes position p with
// sines and cosines of geometrically spaced frequencies:
//   PE[p, 2i]     = sin(p / 10000^(2i / C))
//   PE[p, 2i + 1] = cos(p / 10000^(2i / C))
// Channel pairs near 0 turn fast (period 2π positions), the last ones slowly
// (period up to 2π·10000): each position gets a distinct pattern, and nearby
// positions get similar ones. Nothing is learned, and the table exists for any
// length.
#pragma once

namespace gpt {

// Fills table (P, C) with the encodings of positions 0..P-1. C must be even
// (std::invalid_argument otherwise). Computed in double, rounded once to float.
void sinusoidal_table(float* table,  // (P, C)
                      int P, int C);

}  // namespace gpt
