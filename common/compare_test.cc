// common/compare_test.cc — the comparison that every reference test relies on.
#include "common/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace gpt {
namespace {

const Tolerance kTol{1e-6, 1e-5};

TEST(Compare, EqualTensorsPass) {
  const float a[] = {1, -2, 3, 0};
  const CompareReport r = compare(a, a, {2, 2}, kTol);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.max_abs_error, 0);
}

TEST(Compare, FindsTheWorstElementAndItsCoordinates) {
  const float expected[] = {1, 2, 3, 4, 5, 6};
  const float actual[] = {1, 2, 3, 4, 5.1f, 6};
  const CompareReport r = compare(actual, expected, {2, 3}, kTol);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 1);
  EXPECT_EQ(r.worst_index, 4);
  EXPECT_EQ(r.worst_coords, (std::vector<int64_t>{1, 1}));
  EXPECT_NEAR(r.max_abs_error, 0.1, 1e-6);
  EXPECT_NEAR(r.max_rel_error, 0.02, 1e-6);
  EXPECT_NE(r.describe("x", kTol).find("[1, 1]"), std::string::npos) << r.describe("x", kTol);
}

TEST(Compare, RelativeToleranceScalesWithMagnitude) {
  const float expected[] = {1000.0f};
  const float inside[] = {1000.005f};  // rel error 5e-6
  const float outside[] = {1000.05f};  // rel error 5e-5
  EXPECT_TRUE(compare(inside, expected, {1}, kTol).ok);
  EXPECT_FALSE(compare(outside, expected, {1}, kTol).ok);
}

TEST(Compare, NanInActualFails) {
  const float expected[] = {1, 2};
  const float actual[] = {1, NAN};
  const CompareReport r = compare(actual, expected, {2}, kTol);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.worst_index, 1);
  EXPECT_TRUE(std::isinf(r.max_abs_error)) << r.describe("nan", kTol);
  EXPECT_NE(r.describe("nan", kTol).find("max abs error inf"), std::string::npos)
      << r.describe("nan", kTol);
}

}  // namespace
}  // namespace gpt
