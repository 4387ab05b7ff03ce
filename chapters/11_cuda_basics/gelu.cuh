// chapters/11_cuda_basics/gelu.cuh — chapter 11: GELU and its slope, one float at a time, on the device.
//
// Device code only: included by the .cu files whose kernels apply GELU (this
// chapter's elementwise kernels, chapter 17's bf16 feed-forward), so that
// every GPU GELU rounds the same way.
//
// The forward uses chapter 05's formulas as written, so that it rounds
// like the CPU op. The backward rewrites the slope so that float keeps its
// precision (chapter 08 computes it in double instead):
//   tanh form: ½(1 + tanh u) = s = 1/(1 + e^(−2u)) and 1 − tanh² u = 4 s (1 − s),
//              with s (1 − s) = e^(−2|u|)/(1 + e^(−2|u|))² for either sign of u:
//              no 1 − tanh² u or 1 − s cancelling to nothing where |tanh u| ≈ 1;
//   erf form:  Φ(x) = normcdff(x), accurate in the far left tail where
//              ½(1 + erf(x/√2)) would be a difference of two near-equal numbers.
#pragma once

#include <cuda_runtime.h>

namespace gpt::cuda::gelu_device {

constexpr float kInvSqrt2 = 0.70710678118654752f;     // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
constexpr float kKappa = 0.044715f;

__device__ inline float gelu(float x, bool tanh_form) {
  if (tanh_form) return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kKappa * x * x * x)));
  return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
}

__device__ inline float gelu_slope(float x, bool tanh_form) {
  if (tanh_form) {
    const float u = kSqrt2OverPi * (x + kKappa * x * x * x);
    const float e = expf(-2.0f * fabsf(u));  // in (0, 1]: never overflows
    const float inv = 1.0f / (1.0f + e);
    const float s = u >= 0.0f ? inv : e * inv;  // ½(1 + tanh u), the sigmoid of 2u
    const float s_1_minus_s = e * inv * inv;    // s (1 − s) = ¼(1 − tanh² u)
    return s + 2.0f * x * s_1_minus_s * kSqrt2OverPi * (1.0f + 3.0f * kKappa * x * x);
  }
  return normcdff(x) + x * kInvSqrt2Pi * expf(-0.5f * x * x);  // Φ(x) + x φ(x)
}

}  // namespace gpt::cuda::gelu_device
