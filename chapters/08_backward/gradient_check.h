// chapters/08_backward/gradient_check.h — checking a backward pass with its own forward.
//
// A backward pass claims to compute ∂L/∂x for every element of x. Finite
// differences test the claim with nothing but the forward pass:
//
//   ∂L/∂x_i ≈ (L(x + h e_i) − L(x − h e_i)) / 2h       (central difference)
//
// for the scalar L = Σ dout ⊙ forward(x) with a fixed random dout — whose
// gradient is exactly what a backward given that dout returns. The error of
// the estimate has two sources pulling in opposite directions:
//   truncation: ≈ h² · L'''(x) / 6, smaller for small h;
//   rounding:   the float forward pass computes L with a relative error
//               ε ≈ 1e-7 (times a few), amplified by 1/2h: larger for small h.
// In float32 the sweet spot is h ≈ 1e-2 to 1e-3, and the estimate has only
// three or four good digits. So the check compares with a tolerance scaled to
// the gradient's size: element i passes when
//   |analytic_i − numeric_i| <= tol · max_j |numeric_j|.
// That catches a wrong formula (errors of the order of the gradient itself),
// not a rounding difference in the seventh digit: the PyTorch reference tests
// do that. The chapter's tests measure the errors; the README lists them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace gpt {

struct GradientCheckReport {
  bool ok = true;
  int64_t checked = 0;            // elements compared
  int64_t failures = 0;           // elements outside the tolerance
  int64_t worst_index = -1;       // the element with the largest error
  double worst_analytic = 0, worst_numeric = 0;
  double max_abs_error = 0;       // max_i |analytic_i − numeric_i|
  double scale = 0;               // max_i |numeric_i|
  double relative_error() const { return scale > 0 ? max_abs_error / scale : max_abs_error; }

  // "name: ok, 64 elements, max error 2.1e-05 = 3.4e-05 of max |grad| 0.61, worst [12] ..."
  std::string describe(const std::string& name, double tol) const {
    char line[320];
    std::snprintf(line, sizeof line,
                  "%s: %s, %lld elements, max error %.2e = %.2e of max |grad| %.3g (tol %.0e), "
                  "worst [%lld] analytic %.6g numeric %.6g",
                  name.c_str(), ok ? "ok" : "FAILED", static_cast<long long>(checked),
                  max_abs_error, relative_error(), scale, tol,
                  static_cast<long long>(worst_index), worst_analytic, worst_numeric);
    return line;
  }
};

// Σ dout ⊙ y, accumulated in double: the scalar whose gradient a backward
// pass returns when it is given dout.
inline double weighted_sum(const std::vector<float>& dout, const std::vector<float>& y) {
  double sum = 0;
  for (size_t i = 0; i < y.size(); ++i) sum += double(dout[i]) * double(y[i]);
  return sum;
}

// Compares analytic[i] with the central difference of loss() in x[i], for
// every element of x (x is perturbed in place and restored). loss() must
// recompute the forward pass from the current contents of x and return L.
template <class Loss>
GradientCheckReport check_gradient(std::vector<float>& x, const std::vector<float>& analytic,
                                   Loss&& loss, float h, double tol) {
  std::vector<double> numeric(x.size());
  // lesson: central_difference
  for (size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    const float plus = saved + h, minus = saved - h;  // rounded to float...
    x[i] = plus;
    const double l_plus = loss();
    x[i] = minus;
    const double l_minus = loss();
    x[i] = saved;
    numeric[i] = (l_plus - l_minus) / (double(plus) - double(minus));  // ...so divide by the true step
  }
  // end lesson
  GradientCheckReport report;
  for (double n : numeric) report.scale = std::max(report.scale, std::abs(n));
  for (size_t i = 0; i < x.size(); ++i) {
    const double error = std::abs(double(analytic[i]) - numeric[i]);
    ++report.checked;
    if (error > tol * report.scale) ++report.failures;
    if (report.worst_index < 0 || error > report.max_abs_error) {
      report.max_abs_error = error;
      report.worst_index = static_cast<int64_t>(i);
      report.worst_analytic = analytic[i];
      report.worst_numeric = numeric[i];
    }
  }
  report.ok = report.failures == 0 && report.scale > 0;  // an all-zero gradient checks nothing
  return report;
}

}  // namespace gpt
