// chapters/10_fast_cpu/packed_weights.cc — each weight's panels, packed at its first product.
#include "chapters/10_fast_cpu/packed_weights.h"

#include "chapters/10_fast_cpu/fast_matmul.h"

namespace gpt {

void PackedWeights::release() {
  holding_ = false;
  panels_.clear();
}

// lesson: packed_weights
const float* PackedWeights::transposed(const float* weight, int I, int O) {
  if (!holding_) return nullptr;
  Panels& p = panels_[weight];
  if (p.floats.empty() || p.I != I || p.O != O) {  // its first product (in this shape)
    p.I = I, p.O = O;
    p.floats.assign(packed_B_floats(/*N=*/O, /*K=*/I), 0.0f);
    pack_whole_B(p.floats.data(), MatrixView{weight, I, /*transposed=*/true}, O, I);
    ++packs_;
  }
  return p.floats.data();
}
// end lesson

}  // namespace gpt
