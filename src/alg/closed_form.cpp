// Closed-form channel laws of classic links (see closed_form.hpp for the formulas).
#include "deltacrit/alg/closed_form.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "channel_internal.hpp"
#include "delta_alg_internal.hpp"

namespace deltacrit::alg {

namespace {

std::string strip(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> m = {
      {"z^2", "z^2"},           {"z*z", "z^2"},           {"abs(z)", "z^2"},          {"z^2-1", "z^2"},
      {"sign(z)", "sign(z)"},   {"z1*z2", "z1*z2"},       {"z2*z1", "z1*z2"},         {"abs(z1*z2)", "abs(z1*z2)"},
      {"sign(z1*z2)", "sign(z1*z2)"},                     {"z1^2+z2^2", "z1^2+z2^2"},
      {"z1^2+z2^2+z3^2", "z1^2+z2^2+z3^2"},                {"sign(z1*z2*z3)", "sign(z1*z2*z3)"},
  };
  return m;
}

// Composite Gauss–Legendre nodes on [a, b] with `panels` panels graded geometrically towards a
// (ratio 1/4 down to a + (b − a)·4^{−panels+1}) — resolves a logarithmic singularity at a.
void graded_nodes(double a, double b, int panels, int n, const std::function<void(double, double)>& add) {
  const auto& gl = detail::gauss_legendre(n);
  std::vector<double> edges{b};
  double w = b - a;
  for (int i = 1; i < panels; ++i) {
    w *= 0.25;
    edges.push_back(a + w);
  }
  edges.push_back(a);
  std::reverse(edges.begin(), edges.end());
  for (std::size_t p = 0; p + 1 < edges.size(); ++p) {
    const double lo = edges[p], hi = edges[p + 1];
    for (int i = 0; i < n; ++i) add(0.5 * (lo + hi) + 0.5 * (hi - lo) * gl.x[i], 0.5 * (hi - lo) * gl.w[i]);
  }
}

// Uniform composite Gauss–Legendre on [a, b].
void uniform_nodes(double a, double b, int panels, int n, const std::function<void(double, double)>& add) {
  const auto& gl = detail::gauss_legendre(n);
  for (int p = 0; p < panels; ++p) {
    const double lo = a + (b - a) * p / panels, hi = a + (b - a) * (p + 1) / panels;
    for (int i = 0; i < n; ++i) add(0.5 * (lo + hi) + 0.5 * (hi - lo) * gl.x[i], 0.5 * (hi - lo) * gl.w[i]);
  }
}

ChannelNode node(int k, double w, double y, bool atom) {
  ChannelNode n;
  n.weight = w;
  n.y = y;
  n.atom = atom;
  n.m1 = Vec::Zero(k);
  n.m2 = Mat::Identity(k, k);
  return n;
}

// y = z1 z2 (or |z1 z2| when `folded`): density K₀(|y|)/π, E[z1²|y] = |y|K₁/K₀.
void product_law(ChannelLaw& law, bool folded) {
  gsl_set_error_handler_off();
  auto add_side = [&](double sign, double factor) {
    auto add = [&](double t, double w) {
      // Scaled Bessel functions: K_ν(t) = e^{−t} K_ν,scaled(t) — no underflow for large t.
      const double k0 = gsl_sf_bessel_K0_scaled(t), k1 = gsl_sf_bessel_K1_scaled(t);
      const double dens = factor * std::exp(-t) * k0 / M_PI;
      auto n = node(2, w * dens, sign * t, false);
      const double a = t * k1 / k0;
      n.m2 << a, folded ? 0.0 : sign * t, folded ? 0.0 : sign * t, a;
      law.nodes.push_back(n);
    };
    graded_nodes(0.0, 1.0, 40, 20, add);  // down to 4^{−39} ≈ 3e-24: log singularity of K₀
    uniform_nodes(1.0, 60.0, 59, 20, add);
  };
  if (folded) {
    add_side(1.0, 2.0);
  } else {
    add_side(1.0, 1.0);
    add_side(-1.0, 1.0);
  }
}

// y = Σ z_i² ~ χ²_k: density y^{k/2−1} e^{−y/2} / (2^{k/2} Γ(k/2)), E[zzᵀ|y] = (y/k) I.
// Integrated in t = √y (density of |z|, smooth at 0).
void chi_square_law(ChannelLaw& law, int k) {
  const double c = 2.0 / (std::pow(2.0, 0.5 * k) * std::tgamma(0.5 * k));
  auto add = [&](double t, double w) {
    const double dens = c * std::pow(t, k - 1) * std::exp(-0.5 * t * t);  // density of t = |z|
    auto n = node(k, w * dens, t * t, false);
    n.m2 = Mat::Identity(k, k) * (t * t / k);
    law.nodes.push_back(n);
  };
  uniform_nodes(0.0, 14.0, 28, 20, add);
}

}  // namespace

std::string closed_form_name(const std::string& link_text) {
  const auto it = aliases().find(strip(link_text));
  return it == aliases().end() ? std::string() : it->second;
}

std::optional<ChannelLaw> closed_form_channel_law(const model::Link& link) {
  const std::string name = closed_form_name(link.text());
  if (name.empty()) return std::nullopt;
  ChannelLaw law;
  law.k = link.k();
  law.status = Status::success;
  law.diagnostics.method = "closed-form:" + name;
  if (name == "z^2") {
    if (law.k != 1) return std::nullopt;
    chi_square_law(law, 1);
  } else if (name == "sign(z)") {
    if (law.k != 1) return std::nullopt;
    const double m = std::sqrt(2.0 / M_PI);  // E[z | z > 0] = φ(0)/(1/2)
    for (double s : {-1.0, 1.0}) {
      auto n = node(1, 0.5, s, true);
      n.m1(0) = s * m;
      law.nodes.push_back(n);
    }
  } else if (name == "z1*z2" || name == "abs(z1*z2)") {
    if (law.k != 2) return std::nullopt;
    product_law(law, name == "abs(z1*z2)");
  } else if (name == "sign(z1*z2)") {
    if (law.k != 2) return std::nullopt;
    for (double s : {-1.0, 1.0}) {
      auto n = node(2, 0.5, s, true);
      n.m2(0, 1) = n.m2(1, 0) = 2.0 * s / M_PI;  // E[z1z2 1{z1z2 > 0}] / P(z1z2 > 0) = (E|z1| E|z2| / 2) / (1/2) = 2/π
      law.nodes.push_back(n);
    }
  } else if (name == "z1^2+z2^2" || name == "z1^2+z2^2+z3^2") {
    const int kk = name == "z1^2+z2^2" ? 2 : 3;
    if (law.k != kk) return std::nullopt;
    chi_square_law(law, kk);
  } else if (name == "sign(z1*z2*z3)") {
    if (law.k != 3) return std::nullopt;
    for (double s : {-1.0, 1.0}) law.nodes.push_back(node(3, 0.5, s, true));
  } else {
    return std::nullopt;
  }
  law.diagnostics.mass_defect = 1.0 - law.total_weight();
  law.error_estimate = std::max(1e-14, std::fabs(law.diagnostics.mass_defect));
  return law;
}

std::optional<AlgResult> closed_form_delta_alg(const model::Link& link, const model::Noise& noise) {
  if (noise.kind != model::Noise::Kind::none) return std::nullopt;
  auto law = closed_form_channel_law(link);
  if (!law) return std::nullopt;
  return detail::single_stage_result(*law, link, noise, law->diagnostics.method);
}

}  // namespace deltacrit::alg
