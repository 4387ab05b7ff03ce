// chapters/06_transformer_block/residual.h — the residual connection.
//
// out = a + b, elementwise. In a block, `a` is the stream coming in and `b`
// what a sub-layer computed from it: each sub-layer only adds a correction to
// the stream, so information (and, in chapter 08, gradient) flows straight
// through any number of blocks.
#pragma once

#include <cstdint>

namespace gpt {

// `out` may alias `a` or `b`.
void residual_forward(float* out,      // (N)
                      const float* a,  // (N)
                      const float* b,  // (N)
                      int64_t N);

}  // namespace gpt
