// common/compare.h — how close is a tensor to its reference?
//
// Every test in the course compares our output with PyTorch's. An element
// passes when |actual - expected| <= atol + rtol * |expected| (numpy's
// allclose rule): rtol is the relative error allowed, atol keeps elements near
// zero from demanding impossible relative precision. A report names the worst
// element (the one closest to failing, or failing most), so a failing test says
// where to look, and passing tests can still print how close they came.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpt {

// float32's unit roundoff, u = 2^-24 ≈ 6.0e-8: one correctly rounded float
// operation (+, −, ×, ÷, sqrt, a conversion from double) is off by at most
// u·|result|, so a bound derived from the arithmetic reads "k·u·|x|" or
// "k·u·Σ|terms|" whatever the instruction set, the FMA contractions or the
// order of the adds.
constexpr double kFloatRoundoff = 0x1p-24;

struct Tolerance {
  double atol;  // absolute slack, for elements near zero
  double rtol;  // relative error allowed
};

struct CompareReport {
  bool ok = true;
  int64_t mismatches = 0;           // elements outside the tolerance
  int64_t worst_index = -1;         // flat index of the worst element
  std::vector<int64_t> worst_coords;  // the same index, per dimension
  double worst_actual = 0, worst_expected = 0;
  double max_abs_error = 0;         // over all elements
  double max_rel_error = 0;         // |a - e| / |e| over elements with |e| > atol

  // One line: "name: ok, max abs 1.2e-07, max rel 3.4e-07, worst at [0, 3, 1] ..."
  std::string describe(const std::string& name, const Tolerance& tol) const;
};

// `actual` and `expected` hold the same number of elements, laid out row-major
// with the given shape. NaN or Inf in `actual` where `expected` is finite fails.
CompareReport compare(const float* actual, const float* expected,
                      const std::vector<int64_t>& shape, const Tolerance& tol);

}  // namespace gpt
