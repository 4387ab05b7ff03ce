// common/testing/expect.h — two GoogleTest assertions whose message says it all.
//
// EXPECT_TRUE(result) prints "Value of: ... Actual: false (...) Expected:
// true" around a failure's message, so a message that already explains the
// failure is printed inside noise. These print the message alone:
//
//   EXPECT_PASSES(matches_cpu(gpu, cpu, shape, "out", tol));   // an AssertionResult
//   EXPECT_HOLDS(wrong_rows == 0) << wrong_rows << " of 16 rows ...";
#pragma once

#include <gtest/gtest.h>

namespace gpt::testing {

// EXPECT_PASSES's predicate-formatter: the result is its own verdict.
inline ::testing::AssertionResult result_itself(const char*,
                                                const ::testing::AssertionResult& result) {
  return result;
}

}  // namespace gpt::testing

#define EXPECT_PASSES(assertion_result) \
  EXPECT_PRED_FORMAT1(::gpt::testing::result_itself, assertion_result)

#define EXPECT_HOLDS(condition) \
  EXPECT_PASSES((condition) ? ::testing::AssertionSuccess() : ::testing::AssertionFailure())
