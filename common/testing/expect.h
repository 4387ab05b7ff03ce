// common/testing/expect.h — two GoogleTest assertions whose message says it all,
// and the message of an error a test provokes.
//
// EXPECT_TRUE(result) prints "Value of: ... Actual: false (...) Expected:
// true" around a failure's message, so a message that already explains the
// failure is printed inside noise. These print the message alone:
//
//   EXPECT_PASSES(matches_cpu(gpu, cpu, shape, "out", tol));   // an AssertionResult
//   EXPECT_HOLDS(wrong_rows == 0) << wrong_rows << " of 16 rows ...";
//
// A test of a bad input checks what the user would read:
//
//   EXPECT_THAT(message_of<SafetensorsError>([&] { load(file); }), HasSubstr("missing"));
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <iostream>
#include <string>

namespace gpt::testing {

// The message of the exception of type E that `f` throws, printed so the test
// log shows what a user would read. Fails the test (and returns "") if `f`
// throws nothing or another type.
template <typename E, typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    std::cout << "    message: " << e.what() << "\n";
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another type of exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "threw nothing";
  return "";
}

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
