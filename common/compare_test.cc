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
  EXPECT_NE(r.describe("x", kTol).find("(row 1, col 1)"), std::string::npos)
      << r.describe("x", kTol);
}

// A failure says where, in the dimensions' own names, what went in there,
// the two values and the error allowed at that element.
TEST(Compare, FailureNamesThePositionAndTheInputs) {
  const float x[] = {0.5f, -1, 2.5f, 3, 4, 5};
  const float expected[] = {1, 2, 3, 4, 5, 6};
  const float actual[] = {1, 2, 3, 4, 5.1f, 6};
  const CompareReport r = compare(actual, expected, {2, 3}, kTol);
  const ElementContext context{{"b", "t"}, same_element("x", {x, x + 6})};
  const std::string line = r.describe("out", kTol, context);
  EXPECT_NE(line.find("1 of 6 elements outside tolerance"), std::string::npos) << line;
  EXPECT_NE(line.find("worst at (b 1, t 1): x = 4, actual 5.0999999, expected 5"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("= 5.1e-05)"), std::string::npos) << line;  // 1e-6 + 1e-5·5
}

TEST(Compare, FlatTensorsNameTheElement) {
  const float expected[] = {1, 2, 3};
  const float actual[] = {1, 2, 0};
  EXPECT_NE(compare(actual, expected, {3}, kTol).describe("v", kTol).find("(element 2)"),
            std::string::npos);
  EXPECT_EQ(position_of(29, {2, 3, 5}), "(i 1, j 2, k 4)");
}

TEST(Compare, SaysWhenNothingWasWritten) {
  const float expected[] = {1, 0, 3};
  const float zeros[] = {0, 0, 0};
  const CompareReport r = compare(zeros, expected, {3}, kTol);
  EXPECT_TRUE(r.actual_all_zero);
  EXPECT_NE(r.describe("v", kTol).find("every one of ours is 0"), std::string::npos)
      << r.describe("v", kTol);
  EXPECT_FALSE(compare(zeros, zeros, {3}, kTol).actual_all_zero);  // right answer: all 0
}

TEST(Compare, RowStatisticsDescribeTheInputRow) {
  const std::vector<float> x = {1, 3, 10, 10};  // two rows of two
  const DescribeInputs row = row_statistics("x", x, 2, 2);
  EXPECT_EQ(row(1, {0, 1}), "row of x: mean 2, std 1");
  EXPECT_EQ(row(2, {1, 0}), "row of x: mean 10, std 0");
  EXPECT_EQ(both(same_element("x", x), row)(3, {1, 1}), "x = 10, row of x: mean 10, std 0");
}

TEST(Compare, RelativeToleranceScalesWithMagnitude) {
  const float expected[] = {1000.0f};
  const float inside[] = {1000.005f};  // rel error 5e-6
  const float outside[] = {1000.05f};  // rel error 5e-5
  EXPECT_TRUE(compare(inside, expected, {1}, kTol).ok);
  EXPECT_FALSE(compare(outside, expected, {1}, kTol).ok);
}

TEST(Compare, ExactComparisonPassesOnlyEqualElements) {
  const float expected[] = {1, 2};
  const float same[] = {1, 2};
  const float off[] = {1, 2.0000002f};
  const CompareReport r = compare(same, expected, {2}, Tolerance{0, 0});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.worst_index, 0);  // a worst element is named even when all are equal
  EXPECT_FALSE(compare(off, expected, {2}, Tolerance{0, 0}).ok);
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
