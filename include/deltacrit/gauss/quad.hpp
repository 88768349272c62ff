#pragma once
// One-dimensional adaptive quadrature (GSL QAGP / QAGI wrappers) with breakpoints, returning
// the value, an error estimate and a Status instead of calling GSL's global error handler.
#include <functional>
#include <vector>

#include "deltacrit/core/status.hpp"

namespace deltacrit::gauss {

struct QuadResult {
  double value = 0.0;
  double abs_error = 0.0;   // GSL's error estimate
  int evaluations = 0;
  Status status = Status::not_computed;
};

struct QuadOptions {
  double abs_tol = 1e-12;   // absolute tolerance (GSL epsabs)
  double rel_tol = 1e-10;   // relative tolerance (GSL epsrel)
  int max_intervals = 2000; // subinterval budget (GSL workspace size)
};

// ∫_a^b f(x) dx with integrable singularities allowed at the sorted `breakpoints` inside (a, b)
// and at the ends. a and b must be finite; use integrate_real_line for infinite ranges.
QuadResult integrate(const std::function<double(double)>& f, double a, double b,
                     std::vector<double> breakpoints = {}, const QuadOptions& opt = {});

// Gauss–Kronrod 61-point on [a, b] without adaptation (smooth integrands, inner loops).
double integrate_gk61(const std::function<double(double)>& f, double a, double b, double* abs_error = nullptr);

}  // namespace deltacrit::gauss
