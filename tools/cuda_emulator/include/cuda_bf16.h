// tools/cuda_emulator/include/cuda_bf16.h — the emulator's stand-in for the CUDA
// toolkit's header of the same name: the bfloat16 types and the conversions
// the course uses, and nothing else.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). The names, signatures and meanings
// are the toolkit's: __nv_bfloat16 is 16 bits (a float32's sign, its 8
// exponent bits and the top 7 fraction bits), 2-byte aligned; __nv_bfloat162
// is two of them, .x in the low half, 4-byte aligned. Every conversion from
// float rounds to the nearest bfloat16, a tie to the one with an even last
// bit (so a float too large for bfloat16 becomes infinity), and a NaN becomes
// the canonical NaN 0x7fff, as the toolkit's conversion and the GPU's
// cvt.rn.bf16.f32 do; bfloat16 to float is exact. Arithmetic on
// __nv_bfloat16 goes through float here (it converts implicitly): the
// toolkit's bfloat16 operators and intrinsics (__hadd, __hmul, ...) are not
// declared. A program that needs one fails to compile under the emulator:
// add it here then, with the toolkit's meaning.
#pragma once

#include <cuda_runtime_api.h>  // float2

#include <cstdint>
#include <cstring>

namespace gpt_emu {
// float → bfloat16 bits, rounding to nearest even; any NaN → 0x7fff.
inline unsigned short float_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
  // Adding 0x7fff, plus 1 when the last bit kept is odd, carries into the kept
  // bits exactly when the dropped half is above the midpoint, or at it with an
  // odd last bit.
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<unsigned short>(u >> 16);
}
// bfloat16 bits → float: exact.
inline float bf16_bits_to_float(unsigned short bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace gpt_emu

// The bits of a bfloat16 (and of a pair), for initializing without a conversion.
struct alignas(2) __nv_bfloat16_raw {
  unsigned short x;
};
struct alignas(4) __nv_bfloat162_raw {
  unsigned short x;
  unsigned short y;
};

struct alignas(2) __nv_bfloat16 {
 protected:
  unsigned short __x;

 public:
  __nv_bfloat16() = default;  // uninitialized, as the toolkit's
  constexpr __nv_bfloat16(const __nv_bfloat16_raw& raw) : __x(raw.x) {}
  __nv_bfloat16& operator=(const __nv_bfloat16_raw& raw) {
    __x = raw.x;
    return *this;
  }
  operator __nv_bfloat16_raw() const { return __nv_bfloat16_raw{__x}; }
  // From float, rounding to nearest even (a double or an integer converts to float first).
  __nv_bfloat16(float f) : __x(gpt_emu::float_to_bf16_bits(f)) {}
  // To float, exactly.
  operator float() const { return gpt_emu::bf16_bits_to_float(__x); }
};
static_assert(sizeof(__nv_bfloat16) == 2 && alignof(__nv_bfloat16) == 2,
              "__nv_bfloat16 is 16 bits, 2-byte aligned");

struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x;  // the low 16 bits
  __nv_bfloat16 y;  // the high 16 bits
  __nv_bfloat162() = default;
  constexpr __nv_bfloat162(const __nv_bfloat16& low, const __nv_bfloat16& high)
      : x(low), y(high) {}
  __nv_bfloat162(const __nv_bfloat162_raw& raw)
      : x(__nv_bfloat16_raw{raw.x}), y(__nv_bfloat16_raw{raw.y}) {}
  __nv_bfloat162& operator=(const __nv_bfloat162_raw& raw) {
    x = __nv_bfloat16_raw{raw.x};
    y = __nv_bfloat16_raw{raw.y};
    return *this;
  }
  operator __nv_bfloat162_raw() const {
    return __nv_bfloat162_raw{static_cast<__nv_bfloat16_raw>(x).x,
                              static_cast<__nv_bfloat16_raw>(y).x};
  }
};
static_assert(sizeof(__nv_bfloat162) == 4 && alignof(__nv_bfloat162) == 4,
              "__nv_bfloat162 is two bfloat16, 4-byte aligned");

typedef __nv_bfloat16 nv_bfloat16;
typedef __nv_bfloat162 nv_bfloat162;

// float ↔ bfloat16.
inline __nv_bfloat16 __float2bfloat16(const float a) { return __nv_bfloat16(a); }
inline __nv_bfloat16 __float2bfloat16_rn(const float a) { return __nv_bfloat16(a); }
inline float __bfloat162float(const __nv_bfloat16 a) { return static_cast<float>(a); }

// Pairs: .x is the first (low) value, .y the second (high).
inline __nv_bfloat162 __floats2bfloat162_rn(const float a, const float b) {
  return __nv_bfloat162(__nv_bfloat16(a), __nv_bfloat16(b));
}
inline __nv_bfloat162 __float22bfloat162_rn(const float2 a) {
  return __nv_bfloat162(__nv_bfloat16(a.x), __nv_bfloat16(a.y));
}
inline __nv_bfloat162 __float2bfloat162_rn(const float a) {
  return __nv_bfloat162(__nv_bfloat16(a), __nv_bfloat16(a));
}
inline float2 __bfloat1622float2(const __nv_bfloat162 a) {
  return float2{static_cast<float>(a.x), static_cast<float>(a.y)};
}
inline float __low2float(const __nv_bfloat162 a) { return static_cast<float>(a.x); }
inline float __high2float(const __nv_bfloat162 a) { return static_cast<float>(a.y); }
inline __nv_bfloat16 __low2bfloat16(const __nv_bfloat162 a) { return a.x; }
inline __nv_bfloat16 __high2bfloat16(const __nv_bfloat162 a) { return a.y; }
inline __nv_bfloat162 __halves2bfloat162(const __nv_bfloat16 a, const __nv_bfloat16 b) {
  return __nv_bfloat162(a, b);
}
inline __nv_bfloat162 __bfloat162bfloat162(const __nv_bfloat16 a) {
  return __nv_bfloat162(a, a);
}

// The bits, reinterpreted (no conversion).
inline unsigned short __bfloat16_as_ushort(const __nv_bfloat16 h) {
  return static_cast<__nv_bfloat16_raw>(h).x;
}
inline __nv_bfloat16 __ushort_as_bfloat16(const unsigned short i) {
  return __nv_bfloat16(__nv_bfloat16_raw{i});
}
