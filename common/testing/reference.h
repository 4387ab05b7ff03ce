// common/testing/reference.h — reading PyTorch reference cases in tests.
//
// tests/make_references.py writes one safetensors file per test case under
// tests/references/<chapter>/<case>.safetensors: inputs, parameters and the
// outputs PyTorch computed, with the case's configuration as metadata. A test
// loads a case, runs our op on the same inputs, and checks each output with
// EXPECT_MATCHES_REFERENCE, which prints how close it came either way.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/compare.h"
#include "common/safetensors.h"

namespace gpt::testing {

// Loads tests/references/<chapter>/<case_name>.safetensors (a test's working
// directory is the root of its runfiles, which mirror the workspace).
Safetensors load_reference(const std::string& chapter, const std::string& case_name);

// An integer from the case's metadata, e.g. config_int(ref, "B").
int config_int(const Safetensors& ref, const std::string& key);

// Compares `actual` with the reference tensor `name`: same element count, and
// every element within `tol`. Prints the comparison report to stdout.
::testing::AssertionResult matches_reference(const std::vector<float>& actual,
                                             const Safetensors& ref, const std::string& name,
                                             const Tolerance& tol);

}  // namespace gpt::testing

#define EXPECT_MATCHES_REFERENCE(actual, ref, name, tol) \
  EXPECT_TRUE(::gpt::testing::matches_reference((actual), (ref), (name), (tol)))
