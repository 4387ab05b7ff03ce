// chapters/17_mixed_precision/float_formats.cc — chapter 17: a format's limits from its bit counts; rounding into fp16 and into any format; a sum held in a format.
#include "chapters/17_mixed_precision/float_formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace gpt {

// lesson: limits
// Everything a format can hold follows from its two bit counts. The exponent
// field holds 0 … 2^e − 1; its two ends are reserved (all zeros: zero and the
// subnormals, all ones: ∞ and NaN), and the bias 2^(e−1) − 1 centres the rest
// on E = 0, the numbers from 1 to 2.
FormatLimits limits_of(const FloatFormat& format) {
  const int f = format.fraction_bits;
  FormatLimits l;
  l.bias = (1 << (format.exponent_bits - 1)) - 1;
  l.min_exponent = 1 - l.bias;  // field 1
  l.max_exponent = l.bias;      // field 2^e − 2
  l.epsilon = std::ldexp(1.0, -f);                                         // 1.00…01 − 1
  l.largest = (2.0 - l.epsilon) * std::ldexp(1.0, l.max_exponent);         // 1.11…11 × 2^max
  l.smallest_normal = std::ldexp(1.0, l.min_exponent);                     // 1.00…00 × 2^min
  l.smallest_subnormal = std::ldexp(1.0, l.min_exponent - f);              // 0.00…01 × 2^min
  l.decimal_digits = (f + 1) * std::log10(2.0);  // f + 1 significant bits, counting the leading 1
  return l;
}
// end lesson

double round_to_format(double x, const FloatFormat& format) {
  if (!std::isfinite(x) || x == 0.0) return x;
  const FormatLimits l = limits_of(format);
  // The exponent of x's leading bit, but no lower than the smallest normal's:
  // below it the spacing stops shrinking (the subnormals).
  const int exponent = std::max(std::ilogb(x), l.min_exponent);
  const double step = std::ldexp(1.0, exponent - format.fraction_bits);  // the spacing around x
  // x / step is exact (a power of two), nearbyint rounds to the nearest
  // integer, ties to even, in the default rounding mode.
  const double rounded = std::nearbyint(x / step) * step;
  if (std::fabs(rounded) > l.largest) return std::copysign(std::numeric_limits<double>::infinity(), x);
  return rounded;
}

// lesson: to_fp16
uint16_t to_fp16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;                // |x|'s bits
  if (a > 0x7f800000u) return sign | 0x7e00u;        // NaN: a quiet NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;       // |x| >= 65520: ∞
  if (a >= 0x38800000u) {                            // |x| >= 2^-14: a normal fp16
    // Keep 10 of the 23 fraction bits, rounding the 13 dropped ones to
    // nearest even (as to_bf16 does with 16), then move the exponent's bias
    // from 127 to 15: 112 less in the exponent field, at bit 10.
    const uint32_t rounded = a + 0x0fffu + ((a >> 13) & 1u);
    return sign | static_cast<uint16_t>((rounded >> 13) - (112u << 10));
  }
  // |x| < 2^-14: a subnormal fp16, a whole number q of steps of 2^-24.
  if (a <= 0x33000000u) return sign;                 // |x| <= 2^-25, half a step: 0
  const uint32_t mantissa = (a & 0x007fffffu) | 0x00800000u;  // 1.f as a 24-bit integer
  // |x| = mantissa · 2^(E−23) with E = field − 127: in steps of 2^-24 that is
  // mantissa >> shift, shift = −E − 1 = 126 − field (from 14 to 24 here).
  const int shift = 126 - static_cast<int>(a >> 23);
  uint32_t q = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (q & 1u))) ++q;  // nearest, ties to even
  return sign | static_cast<uint16_t>(q);            // q = 1024 is 2^-14, the smallest normal
}
// end lesson

float fp16_to_float(uint16_t bits) {
  const float sign = (bits & 0x8000u) ? -1.0f : 1.0f;
  const int field = (bits >> 10) & 0x1f;
  const int fraction = bits & 0x3ff;
  if (field == 0) return sign * std::ldexp(static_cast<float>(fraction), -24);  // 0 and subnormals
  if (field == 31) {
    if (fraction != 0) return std::copysign(std::numeric_limits<float>::quiet_NaN(), sign);
    return sign * std::numeric_limits<float>::infinity();
  }
  const uint32_t u = (static_cast<uint32_t>(bits & 0x8000u) << 16) |       // the sign
                     (static_cast<uint32_t>(field - 15 + 127) << 23) |     // the bias 15 → 127
                     (static_cast<uint32_t>(fraction) << 13);              // 10 bits → 23
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// lesson: sum_held_in
HeldSum sum_held_in(const FloatFormat& format, double start, const std::vector<double>& values) {
  HeldSum held{round_to_format(start, format), 0};
  for (size_t i = 0; i < values.size(); ++i) {
    const double next = round_to_format(held.sum + values[i], format);  // one rounding per add
    if (next != held.sum) held.last_change = static_cast<int64_t>(i) + 1;
    held.sum = next;
  }
  return held;
}
// end lesson

}  // namespace gpt
