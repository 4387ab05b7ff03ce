// chapters/10_fast_cpu/gelu_rows.h — GELU over a run of floats, 16 at a time.
//
// Chapter 05 evaluates erf one float at a time with std::erf. Eigen's array
// erf and tanh evaluate a whole vector register at once with rational
// approximations (erf within 4e-7 of std::erf). The training step
// (fast_gelu.cc, with the layer's bias added in the same pass) and generation
// (kv_cache.cc, each thread on the columns it computed) both use this one.
// Its bits do not depend on where the rows lie: Eigen's erf and tanh of one
// float are its vector formulas, lane by lane. An exp would not be (one float
// goes to the C library's expf; see fast_gelu.cc's backward).
#pragma once

#include <unsupported/Eigen/SpecialFunctions>

#include <cstdint>

#include "chapters/05_feedforward_layernorm/gelu.h"

namespace gpt {

inline constexpr float kInvSqrt2 = 0.70710678118654752f;     // 1/√2
inline constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
inline constexpr float kGeluCubic = 0.044715f;               // tanh form's x³ coefficient

// activated[i] = gelu(hidden[i]) for i < n; activated may be hidden itself.
// Static: each file keeps its own copy, compiled with that file's flags (the
// training ops are built with -ffp-contract=fast, generation without it).
// lesson: gelu_rows
static inline void gelu_rows(float* activated, const float* hidden, int64_t n, GeluForm form) {
  const Eigen::Map<const Eigen::ArrayXf> h(hidden, n);  // (n)
  Eigen::Map<Eigen::ArrayXf> a(activated, n);           // (n)
  if (form == GeluForm::Erf) {
    a = 0.5f * h * (1.0f + (h * kInvSqrt2).erf());  // x · Φ(x)
  } else {
    a = 0.5f * h * (1.0f + (kSqrt2OverPi * (h + kGeluCubic * h.cube())).tanh());
  }
}
// end lesson

}  // namespace gpt
