#include "deltacrit/gauss/quad.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace deltacrit::gauss {

namespace {
double trampoline(double x, void* params) {
  const auto& f = *static_cast<const std::function<double(double)>*>(params);
  return f(x);
}

Status map_gsl(int code) {
  switch (code) {
    case GSL_SUCCESS: return Status::success;
    case GSL_EMAXITER:
    case GSL_EROUND:
    case GSL_ETOL:
    case GSL_EDIVERGE: return Status::not_converged;
    default: return Status::numerical_issue;
  }
}
}  // namespace

QuadResult integrate(const std::function<double(double)>& f, double a, double b,
                     std::vector<double> breakpoints, const QuadOptions& opt) {
  gsl_set_error_handler_off();
  QuadResult out;
  if (!(a < b)) {
    out.status = Status::success;
    return out;
  }
  std::vector<double> pts;
  pts.push_back(a);
  std::sort(breakpoints.begin(), breakpoints.end());
  for (double p : breakpoints) {
    if (p > a && p < b && (pts.empty() || p > pts.back())) pts.push_back(p);
  }
  pts.push_back(b);
  std::unique_ptr<gsl_integration_workspace, decltype(&gsl_integration_workspace_free)> ws(
      gsl_integration_workspace_alloc(static_cast<std::size_t>(opt.max_intervals)),
      &gsl_integration_workspace_free);
  gsl_function F{&trampoline, const_cast<void*>(static_cast<const void*>(&f))};
  int code = gsl_integration_qagp(&F, pts.data(), pts.size(), opt.abs_tol, opt.rel_tol,
                                  static_cast<std::size_t>(opt.max_intervals), ws.get(), &out.value,
                                  &out.abs_error);
  out.status = map_gsl(code);
  out.evaluations = static_cast<int>(ws->size);
  if (!std::isfinite(out.value)) out.status = Status::numerical_issue;
  return out;
}

double integrate_gk61(const std::function<double(double)>& f, double a, double b, double* abs_error) {
  gsl_set_error_handler_off();
  gsl_function F{&trampoline, const_cast<void*>(static_cast<const void*>(&f))};
  double result = 0.0, err = 0.0, resabs = 0.0, resasc = 0.0;
  gsl_integration_qk61(&F, a, b, &result, &err, &resabs, &resasc);
  if (abs_error) *abs_error = err;
  return result;
}

}  // namespace deltacrit::gauss
