// chapters/10_fast_cpu/fast_gelu.cc — GELU fused with the bias before it, vectorized.
//
// Chapter 05 computes erf one float at a time with std::erf: half of the
// feed-forward's time went there. Here GELU runs 16 floats at a time
// (gelu_rows.h), and the bias add rides along in the same pass over the row.
// The backward takes 16 floats at a time too: gelu'(x) and its product with
// dy in one pass, each element by Eigen's vector formulas.
#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/gelu_rows.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

using RowArray = Eigen::Map<Eigen::ArrayXf>;
using ConstRowArray = Eigen::Map<const Eigen::ArrayXf>;

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

// gelu'(x) for 16 floats. A fixed-size Eigen array of 16 is one AVX-512
// register (two with AVX2), so every element takes Eigen's vector formulas:
// over a run of any length, Eigen would compute the elements before the
// first aligned address one at a time, and its exp of one float is the C
// library's expf, which can differ from its vector exp in the last bit.
using Sixteen = Eigen::Array<float, 16, 1>;
[[gnu::always_inline]] inline Sixteen gelu_slope(const Sixteen& x, GeluForm form) {
  if (form == GeluForm::Erf) {  // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    return 0.5f * (1.0f + (x * kInvSqrt2).erf()) + x * kInvSqrt2Pi * (-0.5f * x.square()).exp();
  }
  const Sixteen t = (kSqrt2OverPi * (x + kGeluCubic * x.cube())).tanh();
  return 0.5f * (1.0f + t) +
         0.5f * x * (1.0f - t.square()) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x.square());
}

void fast_gelu_backward(float* dhidden, const float* dactivated, const float* hidden,
                        int64_t count, GeluForm form, int threads, bool overwrite) {
  constexpr int kChunk = 4096;  // floats a thread takes at a time
  const int chunks = static_cast<int>((count + kChunk - 1) / kChunk);
  // dx (+)= dy · gelu'(x) for 16 floats, in one pass. Overwriting is adding
  // to 0.0f, written as such (the same bits as zeroing dx first, down to the
  // sign of a zero) without a pass that zeroes.
  const auto sixteen = [form, overwrite](float* dx, const float* dy, const float* x)
                           __attribute__((always_inline)) {
    Eigen::Map<Sixteen> out(dx);
    const Sixteen xs = Eigen::Map<const Sixteen>(x);
    const Sixteen slope = gelu_slope(xs, form);
    if (overwrite) {
      out = 0.0f + Eigen::Map<const Sixteen>(dy) * slope;
    } else {
      out += Eigen::Map<const Sixteen>(dy) * slope;
    }
  };
  parallel_rows(chunks, threads, [&](int c) {
    const int64_t start = int64_t(c) * kChunk;
    const int n = static_cast<int>(std::min<int64_t>(kChunk, count - start));
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      sixteen(dhidden + start + i, dactivated + start + i, hidden + start + i);
    }
    if (i < n) {  // the last floats, padded to 16 with zeros
      float x[16] = {}, dy[16] = {}, dx[16] = {};
      std::copy_n(hidden + start + i, n - i, x);
      std::copy_n(dactivated + start + i, n - i, dy);
      if (!overwrite) std::copy_n(dhidden + start + i, n - i, dx);
      sixteen(dx, dy, x);
      std::copy_n(dx, n - i, dhidden + start + i);
    }
  });
}

}  // namespace gpt
