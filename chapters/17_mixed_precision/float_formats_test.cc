// chapters/17_mixed_precision/float_formats_test.cc — rounding to bf16 and fp16, bit for bit against PyTorch; the formats' limits; sums held in a format.
//
// The reference case (tests/cases/ch17_mixed_precision.py) holds 557 float32
// inputs chosen to hit every path of a conversion — ties with an even and an
// odd neighbour, the floats either side of each tie, subnormals, overflow,
// ±0, ±∞, NaNs — and the 16 bits PyTorch's .to(torch.bfloat16) and
// .to(torch.float16) give for each. Tolerance: none. Every pattern must be
// the same, except a NaN's, which must only stay a NaN (PyTorch's own paths
// disagree on a NaN's bits).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/float_formats.h"
#include "common/random.h"
#include "common/testing/reference.h"

namespace gpt {
namespace {

using testing::load_reference;

uint32_t bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

std::string hex(uint32_t v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%04x", v);
  return buffer;
}

bool is_bf16_nan(uint16_t b) { return (b & 0x7f80u) == 0x7f80u && (b & 0x007fu) != 0; }
bool is_fp16_nan(uint16_t b) { return (b & 0x7c00u) == 0x7c00u && (b & 0x03ffu) != 0; }

// Compares our 16-bit patterns with PyTorch's: exact, or both NaN.
template <typename Convert, typename IsNan>
::testing::AssertionResult same_bits(const char* what, Convert convert, IsNan is_nan,
                                     const char* reference) {
  const Safetensors ref = load_reference("17_mixed_precision", "conversions");
  const std::vector<float> x = ref.floats("in.x");             // (N,)
  const std::vector<int32_t> expected = ref.ints(reference);   // (N,)
  if (x.size() != expected.size()) return ::testing::AssertionFailure() << "sizes differ";
  int wrong = 0;
  std::string first;
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t want = static_cast<uint16_t>(expected[i]);
    const uint16_t got = convert(x[i]);
    const bool ok = is_nan(want) ? is_nan(got) : got == want;
    if (!ok && wrong++ < 8) {
      char value[32];
      std::snprintf(value, sizeof value, "%.9g", x[i]);
      first += "\n  x = " + hex(bits_of(x[i])) + " (" + value + "): ours " + hex(got) +
               ", PyTorch " + hex(want);
    }
  }
  if (wrong > 0) {
    return ::testing::AssertionFailure()
           << what << ": " << wrong << " of " << x.size() << " inputs differ from PyTorch" << first;
  }
  std::printf("[ compare  ] %s: all %zu inputs give PyTorch's bits\n", what, x.size());
  return ::testing::AssertionSuccess();
}

// The reference case is the one the lesson describes: 557 inputs.
TEST(Conversions, TheReferenceCaseHasEveryInput) {
  const Safetensors ref = load_reference("17_mixed_precision", "conversions");
  EXPECT_EQ(ref.floats("in.x").size(), 557u);
}

TEST(Conversions, Bf16MatchesPyTorch) {
  EXPECT_PASSES(same_bits("to_bf16", [](float x) { return to_bf16(x).bits; }, is_bf16_nan,
                          "out.bf16_bits"));
}

TEST(Conversions, Fp16MatchesPyTorch) {
  EXPECT_PASSES(same_bits("to_fp16_bits", to_fp16_bits, is_fp16_nan, "out.fp16_bits"));
}

// The generic rounding (any format, in double) lands on the same values as
// the bit-level conversions, on the same inputs.
TEST(Conversions, RoundToFormatMatchesPyTorch) {
  const Safetensors ref = load_reference("17_mixed_precision", "conversions");
  const std::vector<float> x = ref.floats("in.x");
  const std::vector<int32_t> bf16 = ref.ints("out.bf16_bits"), fp16 = ref.ints("out.fp16_bits");
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(round_to_format(x[i], kBf16)));
      continue;
    }
    const double want_bf16 = to_float(Bf16{static_cast<uint16_t>(bf16[i])});
    const double want_fp16 = fp16_to_float(static_cast<uint16_t>(fp16[i]));
    EXPECT_EQ(round_to_format(x[i], kBf16), want_bf16) << "x = " << hex(bits_of(x[i]));
    EXPECT_EQ(round_to_format(x[i], kFp16), want_fp16) << "x = " << hex(bits_of(x[i]));
    EXPECT_EQ(std::signbit(round_to_format(x[i], kFp16)), std::signbit(want_fp16));
  }
}

// Every fp16 but the NaNs survives fp16 → float → fp16 unchanged, and a NaN
// stays a NaN.
TEST(Conversions, EveryFp16RoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t b = static_cast<uint16_t>(h);
    const float f = fp16_to_float(b);
    if (is_fp16_nan(b)) {
      EXPECT_TRUE(std::isnan(f)) << hex(h);
      EXPECT_TRUE(is_fp16_nan(to_fp16_bits(f))) << hex(h);
    } else {
      EXPECT_EQ(to_fp16_bits(f), b) << hex(h);
    }
  }
}

// For fp32, round_to_format is the hardware's own double → float conversion:
// random doubles over float32's whole range, its subnormals and past its top.
TEST(Conversions, RoundToFp32IsTheCast) {
  Rng rng(17);
  for (int i = 0; i < 200000; ++i) {
    const double magnitude = std::ldexp(1.0 + double(rng.next_u64() >> 11) * 0x1.0p-53,
                                        int(rng.below(300)) - 160);  // 2^-160 … 2^140
    const double x = rng.below(2) ? magnitude : -magnitude;
    EXPECT_EQ(round_to_format(x, kFp32), static_cast<double>(static_cast<float>(x))) << x;
  }
}

TEST(FormatLimits, ComputedFromTheBitCounts) {
  const FormatLimits fp32 = limits_of(kFp32);
  EXPECT_EQ(fp32.bias, 127);
  EXPECT_EQ(fp32.largest, std::numeric_limits<float>::max());
  EXPECT_EQ(fp32.smallest_normal, std::numeric_limits<float>::min());
  EXPECT_EQ(fp32.smallest_subnormal, std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(fp32.epsilon, std::numeric_limits<float>::epsilon());

  const FormatLimits fp16 = limits_of(kFp16);
  EXPECT_EQ(fp16.bias, 15);
  EXPECT_EQ(fp16.largest, 65504.0);
  EXPECT_EQ(fp16.smallest_normal, std::ldexp(1.0, -14));     // 6.1e-5
  EXPECT_EQ(fp16.smallest_subnormal, std::ldexp(1.0, -24));  // 5.96e-8
  EXPECT_EQ(fp16.epsilon, std::ldexp(1.0, -10));
  EXPECT_EQ(fp16_to_float(0x7bff), 65504.0f);  // the bit pattern agrees
  EXPECT_EQ(fp16_to_float(0x0001), std::ldexp(1.0f, -24));

  const FormatLimits bf16 = limits_of(kBf16);
  EXPECT_EQ(bf16.bias, 127);  // fp32's exponent, so fp32's range:
  EXPECT_EQ(bf16.smallest_normal, fp32.smallest_normal);
  EXPECT_EQ(bf16.largest, to_float(Bf16{0x7f7f}));  // 3.39e38
  EXPECT_EQ(bf16.epsilon, 0.0078125);                // 2^-7
  EXPECT_EQ(bf16.smallest_subnormal, std::ldexp(1.0, -133));

  const FormatLimits tf32 = limits_of(kTf32);
  EXPECT_EQ(tf32.epsilon, fp16.epsilon);  // fp16's precision, fp32's range
  float fp32_top_10_bits;  // float32's largest with the 13 fraction bits tf32 ignores cleared
  const uint32_t top = 0x7f7fe000u;
  std::memcpy(&fp32_top_10_bits, &top, 4);
  EXPECT_EQ(tf32.largest, fp32_top_10_bits);

  EXPECT_NEAR(fp32.decimal_digits, 7.22, 0.01);
  EXPECT_NEAR(fp16.decimal_digits, 3.31, 0.01);
  EXPECT_NEAR(bf16.decimal_digits, 2.41, 0.01);
}

// The lesson's demonstration: 1.0 plus 0.001, ten thousand times (exactly 11).
TEST(SumHeldIn, SmallAddendsStagnate) {
  const double addend = 1e-3f;  // as float32 holds it
  const auto held = [&](const FloatFormat& format) {
    return sum_held_in(format, 1.0, std::vector<double>(10000, round_to_format(addend, format)));
  };
  // bf16's neighbours of 1.0 are 2^-7 above and 2^-8 below: 0.001 is less
  // than half of either, so every addition rounds back to 1.
  EXPECT_EQ(held(kBf16).sum, 1.0);
  EXPECT_EQ(held(kBf16).last_change, 0);
  // fp16 climbs one step (2^-10) an addition up to 2, one step of 2^-9 (more
  // than 0.001) up to 4, where half a step (2^-10) exceeds 0.001.
  EXPECT_EQ(held(kFp16).sum, 4.0);
  EXPECT_EQ(held(kFp16).last_change, 2048);
  // fp32 gets close, and is exactly what float additions give.
  float sum = 1.0f;
  for (int i = 0; i < 10000; ++i) sum += 1e-3f;
  EXPECT_EQ(held(kFp32).sum, static_cast<double>(sum));
  EXPECT_NEAR(held(kFp32).sum, 11.0, 1e-2);
  EXPECT_EQ(held(kFp32).last_change, 10000);
}

// lesson: exact_products
// A bf16 significand has 8 bits (7 stored, the leading 1), so the product of
// two has at most 16: it fits float32's 24 exactly. fp16: 11 + 11 = 22. Every
// pair of significands is tried, at exponents whose product stays in range.
TEST(Products, OfTwoBf16OrTwoFp16AreExactInFp32) {
  for (const FloatFormat& format : {kBf16, kFp16}) {
    const int significands = 1 << format.fraction_bits;  // 128 for bf16, 1024 for fp16
    for (int i = 0; i < significands; ++i) {
      for (int j = 0; j < significands; ++j) {
        const float a = std::ldexp(1.0f + float(i) / significands, -3);  // exact
        const float b = std::ldexp(1.0f + float(j) / significands, 5);
        const double exact = double(a) * double(b);  // 53 bits: always exact
        ASSERT_EQ(double(a * b), exact) << format.name << " " << i << " " << j;
      }
    }
  }
}
// end lesson

// ...while float32 products of float32 numbers round almost always.
TEST(Products, OfTwoFp32MostlyRound) {
  Rng rng(3);
  int exact = 0;
  for (int i = 0; i < 10000; ++i) {
    const float a = 1.0f + rng.uniform(), b = 1.0f + rng.uniform();
    exact += double(a * b) == double(a) * double(b);
  }
  EXPECT_LT(exact, 1000);
}

}  // namespace
}  // namespace gpt
