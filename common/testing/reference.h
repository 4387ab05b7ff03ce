// common/testing/reference.h — reading PyTorch reference cases in tests.
//
// tests/make_references.py writes one safetensors file per test case under
// tests/references/<chapter>/<case>.safetensors: inputs, parameters and the
// outputs PyTorch computed, with the case's configuration as metadata. A test
// loads a case, runs our op on the same inputs, and checks each output with
// EXPECT_MATCHES_REFERENCE. A passing comparison prints how close it came
// ("[ compare  ]" lines in the test log); a failing one is reported once, as
// the test's failure, in one line that says where the worst element is and,
// given an ElementContext, what went into it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/compare.h"
#include "common/safetensors.h"
#include "common/testing/expect.h"

namespace gpt::testing {

// Loads tests/references/<chapter>/<case_name>.safetensors (a test's working
// directory is the root of its runfiles, which mirror the workspace).
Safetensors load_reference(const std::string& chapter, const std::string& case_name);

// An integer from the case's metadata, e.g. config_int(ref, "B").
int config_int(const Safetensors& ref, const std::string& key);

// Compares `actual` with the reference tensor `name`: same element count, and
// every element within `tol`. On success, prints the comparison to stdout; on
// failure, prints nothing and returns the comparison as the message.
::testing::AssertionResult matches_reference(const std::vector<float>& actual,
                                             const Safetensors& ref, const std::string& name,
                                             const Tolerance& tol,
                                             const ElementContext& context = {});

// Several tensors of one case, checked as one: the failure lists the tensors
// that differ in the order checked, one line each (past the first
// kDetailedDifferences, by name only). Where the tensors are a forward pass's
// steps, checked in the order computed, the first listed is where the error
// starts.
//   ReferenceChecks checks(ref);
//   checks.add(hidden, "out.hidden", kTol);
//   checks.add(activated, "out.activated", kTol, context);
//   EXPECT_PASSES(checks.all_match());
class ReferenceChecks {
 public:
  explicit ReferenceChecks(const Safetensors& ref) : ref_(ref) {}
  void add(const std::vector<float>& actual, const std::string& name, const Tolerance& tol,
           const ElementContext& context = {});
  ::testing::AssertionResult all_match() const;
  static constexpr size_t kDetailedDifferences = 8;

 private:
  const Safetensors& ref_;
  int checked_ = 0;
  struct Difference {
    std::string name, line;
  };
  std::vector<Difference> differences_;  // the tensors that differ, in the order checked
};

}  // namespace gpt::testing

// EXPECT_MATCHES_REFERENCE(actual, ref, name, tol) or, naming the dimensions
// and the inputs for the failure message, (actual, ref, name, tol, context).
#define EXPECT_MATCHES_REFERENCE(actual, ref, name, ...) \
  EXPECT_PASSES(::gpt::testing::matches_reference((actual), (ref), (name), __VA_ARGS__))
