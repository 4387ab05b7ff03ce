// chapters/10_fast_cpu/fast_gelu.cc — GELU fused with the bias before it, vectorized.
//
// Chapter 05 computes erf one float at a time with std::erf: half of the
// feed-forward's time went there. Here GELU runs 16 floats at a time
// (gelu_rows.h), and the bias add rides along in the same pass over the row.
#include <unsupported/Eigen/SpecialFunctions>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/gelu_rows.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

using RowArray = Eigen::Map<Eigen::ArrayXf>;
using ConstRowArray = Eigen::Map<const Eigen::ArrayXf>;
using AlignedRowArray = Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>;  // at a 64-byte address

constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1/√(2π)

// lesson: bias_gelu
void fast_bias_gelu_forward(float* activated, float* hidden, const float* bias, int N, int F,
                            GeluForm form, int threads) {
  const ConstRowArray b(bias, F);
  parallel_rows(N, threads, [&](int n) {
    float* h = hidden + int64_t(n) * F;  // (F)
    RowArray(h, F) += b;
    gelu_rows(activated + int64_t(n) * F, h, F, form);
  });
}
// end lesson

void fast_gelu_backward(float* dhidden, const float* dactivated, const float* hidden,
                        int64_t count, GeluForm form, int threads, bool overwrite) {
  constexpr int kChunk = 4096;
  const int chunks = static_cast<int>((count + kChunk - 1) / kChunk);
  parallel_rows(chunks, threads, [&](int c) {
    const int64_t start = int64_t(c) * kChunk;
    const int n = static_cast<int>(std::min<int64_t>(kChunk, count - start));
    const ConstRowArray x(hidden + start, n), dy(dactivated + start, n);
    RowArray dx(dhidden + start, n);
    // gelu'(x) goes to an aligned buffer first. Eigen computes the elements
    // before the destination's first aligned address one at a time, and its
    // exp of one float is the C library's expf, which can differ from its
    // vector exp in the last bit: written straight into dx, an element's
    // value would depend on where dx happens to lie. Here every element
    // takes the same path.
    alignas(64) float slope_buffer[kChunk];
    AlignedRowArray slope(slope_buffer, n);  // gelu'(x)
    if (form == GeluForm::Erf) {  // d/dx x·Φ(x) = Φ(x) + x·φ(x)
      slope = 0.5f * (1.0f + (x * kInvSqrt2).erf()) + x * kInvSqrt2Pi * (-0.5f * x.square()).exp();
    } else {
      alignas(64) float t_buffer[kChunk];
      AlignedRowArray t(t_buffer, n);
      t = (kSqrt2OverPi * (x + kGeluCubic * x.cube())).tanh();
      slope = 0.5f * (1.0f + t) +
              0.5f * x * (1.0f - t.square()) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x.square());
    }
    // Overwriting is adding to 0.0f, written as such (the same bits as zeroing
    // dx first, down to the sign of a zero) without a pass that zeroes.
    if (overwrite) {
      dx = 0.0f + dy * slope;
    } else {
      dx += dy * slope;
    }
  });
}

}  // namespace gpt
