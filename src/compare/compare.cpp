#include "deltacrit/compare/compare.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace deltacrit::compare {

void AgreementOptions::validate() const {
  if (!(sigmas >= 0.0) || !std::isfinite(sigmas)) throw InputError("sigmas", "sigmas must be finite and >= 0");
  if (!(allowance >= 0.0) || !std::isfinite(allowance)) throw InputError("allowance", "allowance must be finite and >= 0");
  if (!(window >= 0.0) || !std::isfinite(window)) throw InputError("window", "window must be finite and >= 0");
}

Agreement judge(double delta, double prediction, double mean, double stderr_, int d, double threshold,
                const AgreementOptions& options) {
  options.validate();
  if (d < 2) throw InputError("d", "d must be >= 2");
  Agreement a;
  a.difference = mean - prediction;
  a.tolerance = options.sigmas * std::max(stderr_, 0.0) + options.allowance / std::sqrt(static_cast<double>(d));
  a.agree = std::fabs(a.difference) <= a.tolerance;
  if (std::isfinite(threshold) && threshold > 0.0) {
    a.in_window = std::fabs(delta - threshold) <= options.window * threshold * std::cbrt(1.0 / static_cast<double>(d));
  }
  return a;
}

Extrapolation extrapolate_threshold(const std::vector<ThresholdAtD>& points, double alpha) {
  if (!(alpha > 0.0 && alpha <= 2.0)) throw InputError("alpha", "alpha must be in (0, 2]");
  Extrapolation e;
  e.alpha = alpha;
  e.points = static_cast<int>(points.size());
  std::set<int> dims;
  for (const auto& p : points) {
    if (p.d < 2) throw InputError("d", "every d must be >= 2");
    if (!std::isfinite(p.delta_c) || !(p.lower <= p.delta_c && p.delta_c <= p.upper)) {
      throw InputError("delta_c", "each threshold must be finite and inside its interval [lower, upper]");
    }
    dims.insert(p.d);
  }
  if (dims.size() < 2) {
    e.note = "needs empirical thresholds at two or more distinct d";
    return e;
  }
  // Weighted least squares for (δ_∞, c) in δ_c = δ_∞ + c·x, x = d^{−α}: normal equations
  // [S0 S1; S1 S2] (δ_∞, c)ᵀ = (T0, T1)ᵀ with S_j = Σ w x^j, T_j = Σ w x^j δ_c.
  double S0 = 0, S1 = 0, S2 = 0, T0 = 0, T1 = 0;
  std::vector<double> xs, ws;
  for (const auto& p : points) {
    const double x = std::pow(static_cast<double>(p.d), -alpha);
    const double sigma = std::max((p.upper - p.lower) / (2.0 * 1.959963984540054), 1e-3 * std::fabs(p.delta_c) + 1e-6);
    const double w = 1.0 / (sigma * sigma);
    S0 += w;
    S1 += w * x;
    S2 += w * x * x;
    T0 += w * p.delta_c;
    T1 += w * x * p.delta_c;
    xs.push_back(x);
    ws.push_back(w);
  }
  const double det = S0 * S2 - S1 * S1;
  e.delta_inf = (S2 * T0 - S1 * T1) / det;
  e.c = (S0 * T1 - S1 * T0) / det;
  double var_inf = S2 / det;
  double var_c = S0 / det;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double r = points[i].delta_c - e.delta_inf - e.c * xs[i];
    e.chi2 += ws[i] * r * r;
  }
  e.dof = e.points - 2;
  if (e.dof > 0 && e.chi2 / e.dof > 1.0) {
    var_inf *= e.chi2 / e.dof;
    var_c *= e.chi2 / e.dof;
    e.note = "chi2/dof > 1: standard errors scaled by sqrt(chi2/dof)";
  }
  e.delta_inf_stderr = std::sqrt(var_inf);
  e.c_stderr = std::sqrt(var_c);
  e.lower = e.delta_inf - 1.959963984540054 * e.delta_inf_stderr;
  e.upper = e.delta_inf + 1.959963984540054 * e.delta_inf_stderr;
  e.status = Status::success;
  return e;
}

}  // namespace deltacrit::compare
