// common/compare.cc — element-by-element comparison with a worst-element report.
#include "common/compare.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace gpt {

CompareReport compare(const float* actual, const float* expected,
                      const std::vector<int64_t>& shape, const Tolerance& tol) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  CompareReport r;
  double worst_ratio = -1;  // error divided by the allowed error
  for (int64_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    const double error = std::fabs(a - e);
    const double allowed = tol.atol + tol.rtol * std::fabs(e);
    double ratio = error / allowed;
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
    }
  }
  if (r.worst_index >= 0) {
    r.worst_coords.assign(shape.size(), 0);
    int64_t rest = r.worst_index;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      r.worst_coords[d] = rest % shape[d];
      rest /= shape[d];
    }
  }
  return r;
}

std::string CompareReport::describe(const std::string& name, const Tolerance& tol) const {
  std::string coords = "[";
  for (size_t d = 0; d < worst_coords.size(); ++d) {
    coords += (d ? ", " : "") + std::to_string(worst_coords[d]);
  }
  coords += "]";
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: %s, max abs error %.3g, max rel error %.3g (atol %.0e, rtol %.0e); "
                "worst element %s: actual %.9g, expected %.9g%s",
                name.c_str(), ok ? "ok" : "MISMATCH", max_abs_error, max_rel_error, tol.atol,
                tol.rtol, coords.c_str(), worst_actual, worst_expected,
                ok ? "" : (", " + std::to_string(mismatches) + " elements outside tolerance").c_str());
  return line;
}

}  // namespace gpt
