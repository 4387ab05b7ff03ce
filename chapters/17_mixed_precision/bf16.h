// chapters/17_mixed_precision/bf16.h — chapter 17: bfloat16, the top half of a float32.
//
// A float32 is 1 sign bit, 8 exponent bits and 23 fraction bits. bfloat16
// keeps the sign and all 8 exponent bits (so the same range, ~1e-38 to ~3e38)
// and only 7 fraction bits: a relative step of 2^-8 between neighbours, about
// 2-3 decimal digits. Converting is rounding away the low 16 bits.
//
// Host code (the tests, the CPU references) holds bf16 values as Bf16, 16 bits
// with the same layout as CUDA's __nv_bfloat16, so device buffers of either
// type hold the same bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace gpt {

struct Bf16 {
  uint16_t bits = 0;
};
static_assert(sizeof(Bf16) == 2, "Bf16 must be exactly 16 bits, like __nv_bfloat16");

// lesson: to_bf16
// float32 → bfloat16, rounding to the nearest bf16 and, on a tie, to the one
// whose last kept bit is 0 (round half to even, as the GPU's __float2bfloat16
// and PyTorch's .to(torch.bfloat16) do). A NaN stays a (quiet) NaN.
inline Bf16 to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return Bf16{static_cast<uint16_t>((u >> 16) | 0x0040u)};
  const uint32_t lsb = (u >> 16) & 1u;  // the last bit kept: ties go to make it 0
  u += 0x7fffu + lsb;                   // carries into the kept bits iff we round up
  return Bf16{static_cast<uint16_t>(u >> 16)};
}
// end lesson

// bfloat16 → float32 is exact: the 16 bits become the top half.
inline float to_float(Bf16 x) {
  const uint32_t u = static_cast<uint32_t>(x.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// x rounded to bf16 and back: the float32 a bf16 buffer would hold.
inline float round_to_bf16(float x) { return to_float(to_bf16(x)); }

inline std::vector<Bf16> to_bf16(const std::vector<float>& v) {
  std::vector<Bf16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(v[i]);
  return out;
}
inline std::vector<float> to_float(const std::vector<Bf16>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_float(v[i]);
  return out;
}

}  // namespace gpt
