// chapters/11_cuda_basics/gpu_compare.h — chapter 11 tests: the GPU's answer against the CPU's.
//
// Every GPU test runs a kernel and the CPU op of chapters 02-09 on the same
// random inputs and compares the two with common/compare.h, printing the
// worst element ("[ compare  ] ..." lines in the test log).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "common/testing/expect.h"

namespace gpt::gpu_testing {

// Tolerances, |gpu − cpu| <= atol + rtol·|cpu|:
//  elementwise ops: both sides round each element a few times, but the GPU's
//   erff, tanhf and expf are not the CPU's (a couple of ulps each), and where
//   GELU's 1 + tanh or 1 + erf nearly cancel the relative error grows: atol covers that.
//  reductions: the GPU adds the same numbers in another order (lanes, warps,
//   atomics), so sums differ by a few ulps of their largest partial sums.
const Tolerance kElementwise{1e-6, 1e-5};
const Tolerance kReduction{1e-5, 1e-4};

inline std::vector<float> random_floats(size_t n, uint64_t seed, float mean = 0.0f,
                                        float std = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.normal(mean, std);
  return v;
}

inline std::vector<int32_t> random_ids(size_t n, int V, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(n);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.below(V));
  return ids;
}

// A buffer's contents before a kernel writes it: NaN everywhere, so that an
// element the kernel forgets to write fails the comparison (device memory is
// not zeroed, and may still hold a previous test's right answer).
inline std::vector<float> poison(size_t n) { return std::vector<float>(n, std::nanf("")); }

// A shape for matches_cpu: dims(N, C). (Braces, {N, C}, would be split into
// two arguments by the EXPECT_MATCHES_CPU macro.)
template <typename... Sizes>
std::vector<int64_t> dims(Sizes... sizes) {
  return {static_cast<int64_t>(sizes)...};
}

inline ::testing::AssertionResult matches_cpu(const std::vector<float>& gpu,
                                              const std::vector<float>& cpu,
                                              const std::vector<int64_t>& shape,
                                              const std::string& name, const Tolerance& tol) {
  if (gpu.size() != cpu.size()) {
    return ::testing::AssertionFailure()
           << name << ": " << gpu.size() << " elements, expected " << cpu.size();
  }
  const CompareReport report = compare(gpu.data(), cpu.data(), shape, tol);
  const std::string line = report.describe(name, tol);
  if (!report.ok) return ::testing::AssertionFailure() << line;  // printed once, by the assertion
  std::cout << "[ compare  ] " << line << std::endl;
  return ::testing::AssertionSuccess();
}

}  // namespace gpt::gpu_testing

#define EXPECT_MATCHES_CPU(gpu, cpu, shape, name, tol) \
  EXPECT_PASSES(::gpt::gpu_testing::matches_cpu((gpu), (cpu), (shape), (name), (tol)))
