// common/hashed_fill_test.cc — the benchmarks' inputs stay the same values, on every machine.
//
// Benchmark results are compared across runs and machines (chapters' results/
// folders): a change to the hash would quietly change every input. These
// values pin it, and the range and determinism are checked over many indices.
#include "common/hashed_fill.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace gpt {
namespace {

TEST(HashedFill, PinnedValues) {
  EXPECT_EQ(hashed_bits(0, 1), 1523226402u);
  EXPECT_EQ(hashed_bits(1, 1), 2410065951u);
  EXPECT_EQ(hashed_bits(12345, 7), 2976396896u);
  EXPECT_EQ(hashed_bits(4000000000ull, 2), 3090312921u);
  EXPECT_FLOAT_EQ(hashed_uniform(0, 1), -0.290692449f);
  EXPECT_FLOAT_EQ(hashed_uniform(12345, 7), 0.385992765f);
}

TEST(HashedFill, InRangeAndTheSameEachTime) {
  const std::vector<float> a = hashed_floats(100000, 3, -4.0f, 4.0f);
  const std::vector<float> b = hashed_floats(100000, 3, -4.0f, 4.0f);
  EXPECT_EQ(a, b);
  for (float x : a) {
    ASSERT_GE(x, -4.0f);
    ASSERT_LT(x, 4.0f);
  }
  EXPECT_NE(hashed_floats(8, 3), hashed_floats(8, 4));  // the seed matters
}

}  // namespace
}  // namespace gpt
