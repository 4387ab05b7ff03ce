// tools/fuzz/fuzz_check.h — what a fuzz target asserts besides "no crash".
//
// FUZZ_CHECK(condition, what) stops the run with a message when a property
// the code promises does not hold (a round trip that changes the data, say).
// abort() is what libFuzzer, and the seed tests under Bazel, report as a failure.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                    \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s: %s\n", __FILE__, __LINE__, \
                   #condition, what);                                                  \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
