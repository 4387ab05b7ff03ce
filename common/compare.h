// common/compare.h — how close is a tensor to its reference?
//
// Every test in the course compares our output with PyTorch's. An element
// passes when |actual - expected| <= atol + rtol * |expected| (numpy's
// allclose rule): rtol is the relative error allowed, atol keeps elements near
// zero from demanding impossible relative precision. A report names the worst
// element (the one closest to failing, or failing most), so a failing test says
// where to look, and passing tests can still print how close they came.
//
// Where to look means more than a flat index: the report decodes the worst
// element's position with the tensor's shape ("row 3, col 16"), and a test
// that knows what went into each element passes an ElementContext, so that the
// message shows the input there too: "x = 2.5, actual 0, expected 2.48".
#pragma once

#include <cstdint>
#include <functional>
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

// Describes the inputs behind one output element, e.g. "x = 2.5", given the
// element's flat index and its index per dimension.
using DescribeInputs =
    std::function<std::string(int64_t flat_index, const std::vector<int64_t>& coords)>;

// What a message may say about an element besides its two values.
struct ElementContext {
  // One name per dimension, e.g. {"row", "col"} or {"b", "t", "c"}. Left
  // empty, the rank chooses: (element 7), (row 3, col 16), (i 0, j 5, k 2).
  std::vector<std::string> dims;
  // The inputs at an element; left empty, the message names none.
  DescribeInputs inputs;
};

// Ready-made DescribeInputs for the common cases. Each keeps its own copy of
// the input, so a context may outlive the vector it was made from.
//
// Elementwise ops (GELU, a residual add): the input element at the same flat
// index as the output element. same_element("x", x) says "x = 2.5".
DescribeInputs same_element(const std::string& name, std::vector<float> input);
// Rowwise ops (LayerNorm): the statistics of the input row, `row_length`
// floats, that an output element comes from; the output holds
// `outputs_per_row` elements per row (C for LayerNorm's output, 1 for its
// mean). row_statistics("x", x, C, C) says "row of x: mean 1e+03, std 0.103".
DescribeInputs row_statistics(const std::string& name, std::vector<float> input, int64_t row_length,
                              int64_t outputs_per_row);
// Both descriptions, joined by ", ".
DescribeInputs both(DescribeInputs first, DescribeInputs second);

// "(row 3, col 16)": a flat row-major index decoded with `shape`, each
// dimension named by `dims` (or by the rank, as ElementContext::dims says).
std::string position_of(int64_t flat_index, const std::vector<int64_t>& shape,
                        const std::vector<std::string>& dims = {});

struct CompareReport {
  bool ok = true;
  int64_t elements = 0;             // elements compared
  int64_t mismatches = 0;           // elements outside the tolerance
  bool actual_all_zero = false;     // every element of ours is 0, and not every expected one
  std::vector<int64_t> shape;       // the tensor's shape, as compared
  int64_t worst_index = -1;         // flat index of the worst element
  std::vector<int64_t> worst_coords;  // the same index, per dimension
  double worst_actual = 0, worst_expected = 0;
  double worst_allowed = 0;         // atol + rtol·|expected| at the worst element
  double max_abs_error = 0;         // over all elements
  double max_rel_error = 0;         // |a - e| / |e| over elements with |e| > atol

  // One line. Passing, for the test log: "name: ok, max abs error 1.2e-07,
  // max rel error 3.4e-07 (atol 1e-06, rtol 1e-05); worst at (row 0, col 3):
  // actual ..., expected ...". Failing, what to fix: "name: 366 of 472
  // elements outside tolerance; worst at (element 400): x = 10, actual 0,
  // expected 10 (allowed error 1e-06 + 1e-05·|expected| = 0.0001); max abs
  // error 10".
  std::string describe(const std::string& name, const Tolerance& tol,
                       const ElementContext& context = {}) const;
};

// `actual` and `expected` hold the same number of elements, laid out row-major
// with the given shape. NaN or Inf in `actual` where `expected` is finite fails.
CompareReport compare(const float* actual, const float* expected,
                      const std::vector<int64_t>& shape, const Tolerance& tol);

}  // namespace gpt
