#include "deltacrit/gauss/hermite.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "deltacrit/core/status.hpp"

namespace deltacrit::gauss {

namespace {
Rule1D compute_rule(int n) {
  // GSL's fixed Hermite rule integrates against exp(−a (x − b)²); a = 1/2, b = 0 gives the
  // standard-normal weight up to the factor √(2π).
  gsl_set_error_handler_off();
  std::unique_ptr<gsl_integration_fixed_workspace, decltype(&gsl_integration_fixed_free)> ws(
      gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, static_cast<std::size_t>(n), 0.0,
                                  0.5, 0.0, 0.0),
      &gsl_integration_fixed_free);
  if (!ws) throw std::runtime_error("gauss::hermite_rule: GSL could not build the rule");
  const double* nodes = gsl_integration_fixed_nodes(ws.get());
  const double* weights = gsl_integration_fixed_weights(ws.get());
  Rule1D r;
  r.x.assign(nodes, nodes + n);
  r.w.assign(weights, weights + n);
  const double norm = std::sqrt(2.0 * M_PI);
  for (auto& w : r.w) w /= norm;
  return r;
}
}  // namespace

const Rule1D& hermite_rule(int n) {
  if (n < 1 || n > 400) {
    throw InputError("n", "gauss::hermite_rule: n = " + std::to_string(n) + " is out of range (accepted: 1..400)");
  }
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<Rule1D>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<Rule1D>(compute_rule(n));
  return *slot;
}

RuleND hermite_tensor_rule(int dim, int n) {
  if (dim < 1 || dim > 4) {
    throw InputError("dim", "gauss::hermite_tensor_rule: dim = " + std::to_string(dim) + " is out of range (accepted: 1..4)");
  }
  const Rule1D& r = hermite_rule(n);
  RuleND out;
  out.dim = dim;
  std::size_t total = 1;
  for (int d = 0; d < dim; ++d) total *= static_cast<std::size_t>(n);
  out.x.resize(total * dim);
  out.w.resize(total);
  std::array<int, 4> idx{};
  for (std::size_t i = 0; i < total; ++i) {
    double w = 1.0;
    for (int d = 0; d < dim; ++d) {
      out.x[i * dim + d] = r.x[idx[d]];
      w *= r.w[idx[d]];
    }
    out.w[i] = w;
    for (int d = dim - 1; d >= 0; --d) {
      if (++idx[d] < n) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace deltacrit::gauss
