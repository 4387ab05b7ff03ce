// common/compare.cc — element-by-element comparison with a worst-element report
// that says where the worst element is and what went into it.
#include "common/compare.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <utility>

namespace gpt {
namespace {

std::string format(const char* fmt, double value) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

// The names a rank gets when a test names no dimensions.
std::vector<std::string> default_dims(size_t rank) {
  if (rank == 1) return {"element"};
  if (rank == 2) return {"row", "col"};
  std::vector<std::string> names;
  for (size_t d = 0; d < rank; ++d) {
    names.push_back(d < 5 ? std::string(1, "ijklm"[d]) : "dim" + std::to_string(d));
  }
  return names;
}

std::vector<int64_t> decode(int64_t flat_index, const std::vector<int64_t>& shape) {
  std::vector<int64_t> coords(shape.size(), 0);
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    coords[d] = shape[d] > 0 ? flat_index % shape[d] : 0;
    flat_index = shape[d] > 0 ? flat_index / shape[d] : 0;
  }
  return coords;
}

}  // namespace

DescribeInputs same_element(const std::string& name, std::vector<float> input) {
  auto values = std::make_shared<const std::vector<float>>(std::move(input));
  return [name, values](int64_t flat_index, const std::vector<int64_t>&) {
    if (flat_index < 0 || size_t(flat_index) >= values->size()) return name + " = ?";
    return name + " = " + format("%.6g", (*values)[flat_index]);
  };
}

DescribeInputs row_statistics(const std::string& name, std::vector<float> input, int64_t row_length,
                              int64_t outputs_per_row) {
  auto values = std::make_shared<const std::vector<float>>(std::move(input));
  return [=](int64_t flat_index, const std::vector<int64_t>&) {
    const int64_t row = flat_index / outputs_per_row;
    if (row_length <= 0 || size_t((row + 1) * row_length) > values->size()) return std::string();
    const float* x = values->data() + row * row_length;
    double mean = 0, variance = 0;
    for (int64_t c = 0; c < row_length; ++c) mean += x[c];
    mean /= row_length;
    for (int64_t c = 0; c < row_length; ++c) variance += (x[c] - mean) * (x[c] - mean);
    variance /= row_length;
    return "row of " + name + ": mean " + format("%.6g", mean) + ", std " +
           format("%.3g", std::sqrt(variance));
  };
}

DescribeInputs both(DescribeInputs first, DescribeInputs second) {
  return [first, second](int64_t flat_index, const std::vector<int64_t>& coords) {
    const std::string a = first ? first(flat_index, coords) : "";
    const std::string b = second ? second(flat_index, coords) : "";
    return a.empty() ? b : b.empty() ? a : a + ", " + b;
  };
}

std::string position_of(int64_t flat_index, const std::vector<int64_t>& shape,
                        const std::vector<std::string>& dims) {
  const std::vector<int64_t> coords = decode(flat_index, shape);
  const std::vector<std::string> names =
      dims.size() == shape.size() ? dims : default_dims(shape.size());
  std::string text = "(";
  for (size_t d = 0; d < coords.size(); ++d) {
    text += (d ? ", " : "") + names[d] + " " + std::to_string(coords[d]);
  }
  return text + ")";
}

CompareReport compare(const float* actual, const float* expected,
                      const std::vector<int64_t>& shape, const Tolerance& tol) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  CompareReport r;
  r.elements = n;
  r.shape = shape;
  bool any_actual_nonzero = false, any_expected_nonzero = false;
  double worst_ratio = -1;  // error divided by the allowed error
  for (int64_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    any_actual_nonzero |= a != 0;
    any_expected_nonzero |= e != 0;
    const double error = std::fabs(a - e);
    const double allowed = tol.atol + tol.rtol * std::fabs(e);
    // An exact comparison (allowed 0) passes only equal elements: 0/0 is no ratio.
    double ratio =
        allowed > 0 ? error / allowed : (error > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    if (std::isnan(a) != std::isnan(e) || std::isinf(a) != std::isinf(e) ||
        (std::isinf(a) && a != e)) {
      ratio = std::numeric_limits<double>::infinity();
      // A NaN or Inf where a number was expected is the worst error there
      // is: the report must not say "max abs error 0" beside it.
      r.max_abs_error = r.max_rel_error = std::numeric_limits<double>::infinity();
    } else if (std::isnan(a) || std::isinf(a)) {
      ratio = 0;  // both NaN, or the same infinity
    }
    if (ratio > 1) {
      r.ok = false;
      ++r.mismatches;
    }
    if (std::isfinite(error)) {
      if (error > r.max_abs_error) r.max_abs_error = error;
      if (std::fabs(e) > tol.atol && error / std::fabs(e) > r.max_rel_error) {
        r.max_rel_error = error / std::fabs(e);
      }
    }
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      r.worst_index = i;
      r.worst_actual = a;
      r.worst_expected = e;
      r.worst_allowed = allowed;
    }
  }
  r.actual_all_zero = n > 0 && !any_actual_nonzero && any_expected_nonzero;
  if (r.worst_index >= 0) r.worst_coords = decode(r.worst_index, shape);
  return r;
}

std::string CompareReport::describe(const std::string& name, const Tolerance& tol,
                                    const ElementContext& context) const {
  if (worst_index < 0) return name + ": ok, no elements";
  // "worst at (row 3, col 16): x = 2.5, " — no position for a single number.
  std::string where;
  if (elements > 1) where = "worst at " + position_of(worst_index, shape, context.dims) + ": ";
  const std::string inputs = context.inputs ? context.inputs(worst_index, worst_coords) : "";
  if (!inputs.empty()) where += inputs + ", ";
  const std::string values =
      "actual " + format("%.9g", worst_actual) + ", expected " + format("%.9g", worst_expected);
  if (ok) {
    return name + ": ok, max abs error " + format("%.3g", max_abs_error) + ", max rel error " +
           format("%.3g", max_rel_error) + " (atol " + format("%.0e", tol.atol) + ", rtol " +
           format("%.0e", tol.rtol) + "); " + where + values;
  }
  std::string line = name + ": ";
  if (elements > 1) {
    line += std::to_string(mismatches) + " of " + std::to_string(elements) +
            " elements outside tolerance";
    if (actual_all_zero) line += ", and every one of ours is 0 (never written?)";
    line += "; ";
  }
  line += where + values;
  if (tol.atol == 0 && tol.rtol == 0) {
    line += " (must be equal exactly)";
  } else {
    line += " (allowed error " + format("%.0e", tol.atol) + " + " + format("%.0e", tol.rtol) +
            "·|expected| = " + format("%.2g", worst_allowed) + ")";
  }
  if (elements > 1) line += "; max abs error " + format("%.3g", max_abs_error);
  return line;
}

}  // namespace gpt
