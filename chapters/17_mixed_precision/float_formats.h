// chapters/17_mixed_precision/float_formats.h — chapter 17: four ways to store a real number, and what rounding into each does.
//
// A binary floating-point number is ±1.f × 2^E: a sign bit, an exponent field
// that sets the range, and a fraction field that sets the precision. The
// formats a tensor core reads differ only in how many bits each field gets:
//
//   format   sign  exponent  fraction   stored in
//   fp32       1       8        23       32 bits   IEEE 754 single
//   tf32       1       8        10       32 bits   19 bits used: how tensor cores read an fp32
//   fp16       1       5        10       16 bits   IEEE 754 half
//   bf16       1       8         7       16 bits   "brain float": the top half of an fp32
//
// Everything else — the largest value, the smallest, the spacing of the
// numbers near 1 — follows from those counts (limits_of). This file also
// rounds float32 to fp16 (bf16 is in bf16.h), rounds any double into any of
// the formats, and adds up a sequence with the running sum held in a format,
// to show what too few fraction bits do to a sum (sum_held_in).
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/17_mixed_precision/bf16.h"

namespace gpt {

// lesson: format
// A binary floating-point format: ±1.f × 2^E with `fraction_bits` bits of f
// and an exponent field of `exponent_bits` bits.
struct FloatFormat {
  const char* name;
  int exponent_bits;
  int fraction_bits;  // bits stored after the binary point; the leading 1 is implicit
  int storage_bits;   // what one value takes in memory
};

constexpr FloatFormat kFp32{"fp32", 8, 23, 32};
constexpr FloatFormat kTf32{"tf32", 8, 10, 32};  // a tensor-core input: fp32 read with 10 fraction bits
constexpr FloatFormat kFp16{"fp16", 5, 10, 16};
constexpr FloatFormat kBf16{"bf16", 8, 7, 16};
// end lesson

constexpr FloatFormat kFormats[] = {kFp32, kTf32, kFp16, kBf16};

// What a format can hold, computed from its bit counts (limits_of).
struct FormatLimits {
  int bias;                   // exponent field − bias = E
  int min_exponent;           // the smallest E of a normal number: 1 − bias
  int max_exponent;           // the largest E of a finite number: bias
  double largest;             // the largest finite value, (2 − 2^−f) × 2^max_exponent
  double smallest_normal;     // 2^min_exponent
  double smallest_subnormal;  // 2^(min_exponent − f): the last step before 0
  double epsilon;             // the spacing of the numbers at 1: 2^−f
  double decimal_digits;      // (f + 1) · log10(2): significant digits, roughly
};

FormatLimits limits_of(const FloatFormat& format);

// x rounded to the nearest value of `format`, ties to even, with subnormals
// and overflow to ±∞ (at or past largest + half a step). NaN stays NaN.
// Exact for every format here: x / spacing and back are exact in a double.
double round_to_format(double x, const FloatFormat& format);

// float32 → IEEE fp16, round to nearest even, as PyTorch's .to(torch.float16)
// and CUDA's __float2half do. Magnitudes below 2^-14 become subnormals (steps
// of 2^-24), those at or above 65520 (65504 + half a step) become ∞, and a NaN
// becomes a quiet NaN with its sign.
uint16_t to_fp16_bits(float x);
// fp16 → float32 is exact: every fp16 is a float32.
float fp16_to_float(uint16_t bits);
// x rounded to fp16 and back: the float32 an fp16 buffer would hold.
inline float round_to_fp16(float x) { return fp16_to_float(to_fp16_bits(x)); }

// How a running sum held in a format ends up.
struct HeldSum {
  double sum;          // the final running sum, a value of the format
  int64_t last_change; // the number of the last addition that changed it (0: none did)
};

// start + values[0] + values[1] + ..., where after every addition the running
// sum is rounded to `format` (each addition rounded once, as the hardware
// does: the exact sum of two such numbers is a double here). The values are
// used as given: round them to the format first to model a sum whose every
// operand lives in it.
HeldSum sum_held_in(const FloatFormat& format, double start, const std::vector<double>& values);

}  // namespace gpt
