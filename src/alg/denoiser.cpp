#include "deltacrit/alg/denoiser.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "deltacrit/core/status.hpp"
#include "se_numerics.hpp"

namespace deltacrit::alg {

using se_detail::kInf;
using se_detail::kLogSqrt2Pi;

void DenoiserOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& msg) { throw InputError(field, field + ": " + msg); };
  if (!(radius >= 5 && radius <= 30)) fail("radius", "must be in [5, 30] (got " + std::to_string(radius) + ")");
  if (fibre_grid < 64 || fibre_grid > 65536) fail("fibre_grid", "must be in [64, 65536]");
  if (ray_grid < 64 || ray_grid > 65536) fail("ray_grid", "must be in [64, 65536]");
  if (directions != 0 && (directions < 8 || directions > 2048)) fail("directions", "must be 0 (automatic) or in [8, 2048]");
  if (radial_nodes < 2 || radial_nodes > 64) fail("radial_nodes", "must be in [2, 64]");
  if (!(radial_panel > 0 && radial_panel <= 5)) fail("radial_panel", "must be in (0, 5]");
  if (!(noise_rel_tol > 0 && noise_rel_tol <= 1e-3)) fail("noise_rel_tol", "must be in (0, 1e-3]");
  if (!(v_floor > 0 && v_floor <= 1e-3)) fail("v_floor", "must be in (0, 1e-3]");
}

namespace {

// A posterior component: log mass, mean, variance.
struct Component {
  double l, m, v;
};

// Mixture moments by three passes (max, mean, centred variance) so that nearly-degenerate
// posteriors keep their variance (no E[z²] − E[z]² cancellation).
template <class Comps>
ScalarPosterior combine(const Comps& comps, std::size_t count, double omega, double V) {
  ScalarPosterior out;
  double lmax = -kInf;
  for (std::size_t i = 0; i < count; ++i) lmax = std::max(lmax, comps[i].l);
  if (!(lmax > -kInf)) {
    out.empty = true;
    out.mean = omega;
    out.var = V;
    out.log_evidence = -kInf;
    return out;
  }
  double s0 = 0, s1 = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double w = std::exp(comps[i].l - lmax);
    s0 += w;
    s1 += w * comps[i].m;
  }
  const double mean = s1 / s0;
  double s2 = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double w = std::exp(comps[i].l - lmax);
    const double dm = comps[i].m - mean;
    s2 += w * (comps[i].v + dm * dm);
  }
  out.mean = mean;
  out.var = s2 / s0;
  out.log_evidence = lmax + std::log(s0);
  out.g_out = (mean - omega) / V;
  out.dg_out = (out.var / V - 1.0) / V;
  return out;
}

// Small-buffer list of components (no heap allocation for ≤ 64 components).
struct ComponentList {
  std::array<Component, 64> fixed;
  std::vector<Component> overflow;
  std::size_t count = 0;
  void push(double l, double m, double v) {
    if (count < fixed.size()) {
      fixed[count++] = {l, m, v};
      return;
    }
    if (overflow.empty()) overflow.assign(fixed.begin(), fixed.end());
    overflow.push_back({l, m, v});
    ++count;
  }
  const Component& operator[](std::size_t i) const { return overflow.empty() ? fixed[i] : overflow[i]; }
};

bool same_value(double a, double b) { return a == b || std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(b)); }

double log_sum_exp(const std::vector<double>& l) {
  double m = -kInf;
  for (double v : l) m = std::max(m, v);
  if (!(m > -kInf)) return -kInf;
  double s = 0;
  for (double v : l) s += std::exp(v - m);
  return m + std::log(s);
}

double normal_mass(double lo, double hi) {
  return se_detail::gaussian_interval(lo, hi, 0.0, 1.0).log_mass;
}

}  // namespace

ScalarDenoiser::ScalarDenoiser(const model::Link& link, const model::Noise& noise, const DenoiserOptions& options)
    : noise_(noise),
      options_(options),
      fibre_(
          [&]() {
            options.validate();
            if (link.k() != 1) {
              throw InputError("link", "link: '" + link.text() + "' has k = " + std::to_string(link.k()) +
                                           "; the scalar denoiser needs k = 1 (use the ray denoiser for k = 2, 3)");
            }
            model::Link copy = link;
            return std::function<double(double)>([copy](double z) { return copy(&z); });
          }(),
          -options.radius, options.radius, gauss::FibreOptions{options.fibre_grid}) {
  const double R = options_.radius;
  // Atoms: plateaus grouped by value; plateaus touching ±radius extend to ±∞.
  for (const auto& p : fibre_.plateaus()) {
    const double lo = p.lo <= -R + 1e-12 * R ? -kInf : p.lo;
    const double hi = p.hi >= R - 1e-12 * R ? kInf : p.hi;
    auto it = std::find_if(atoms_.begin(), atoms_.end(), [&](const Atom& a) { return a.value == p.value; });
    if (it == atoms_.end()) {
      atoms_.push_back({p.value, {}, 0.0});
      it = atoms_.end() - 1;
    }
    it->intervals.push_back({lo, hi});
  }
  for (auto& a : atoms_) {
    std::vector<double> l;
    for (const auto& iv : a.intervals) l.push_back(normal_mass(iv[0], iv[1]));
    a.probability = std::exp(log_sum_exp(l));
  }
  // Evenness on a grid (both signs evaluated with the same expression).
  even_ = true;
  for (int i = 1; i <= 400 && even_; ++i) {
    const double z = R * i / 400.0;
    const double a = fibre_(z), b = fibre_(-z);
    if (!(a == b || std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(a)))) even_ = false;
  }
  if (noise_.kind == model::Noise::Kind::gaussian) {
    const int cells = 1 << 16;
    table_h_ = 2 * R / cells;
    table_.resize(cells + 1);
    for (int i = 0; i <= cells; ++i) table_[i] = fibre_(-R + i * table_h_);
    exact_cell_.assign(cells, 0);
    for (double p : fibre_.structure_points()) {
      const int c = static_cast<int>(std::floor((p + R) / table_h_));
      for (int j = c - 2; j <= c + 2; ++j) {
        if (j >= 0 && j < cells) exact_cell_[j] = 1;
      }
    }
  }
  if (noise_.kind == model::Noise::Kind::flip) {
    double continuous_mass = 0.0;
    for (const auto& p : fibre_.pieces()) continuous_mass += std::exp(normal_mass(p.lo, p.hi));
    bool ok = continuous_mass < 1e-12;
    for (const auto& a : atoms_) ok = ok && (a.value == 1.0 || a.value == -1.0);
    if (!ok) {
      throw InputError("noise", "noise: flip:" + std::to_string(noise_.param) + " needs a link with values in {-1, +1} (e.g. sign(z)); '" +
                                    link.text() + "' is not");
    }
  }
}

int ScalarDenoiser::atom_index(double y) const {
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    if (same_value(y, atoms_[i].value)) return static_cast<int>(i);
  }
  return -1;
}

bool label_is_missing(double y, const model::Noise& noise) {
  if (std::isnan(y)) {
    if (noise.kind != model::Noise::Kind::erase) {
      throw InputError("y", "y: a missing label (NaN) is only possible with erase noise");
    }
    return true;
  }
  if (!std::isfinite(y)) throw InputError("y", "y: labels must be finite");
  return false;
}

ScalarDenoiser::Label ScalarDenoiser::prepare(double y) const {
  Label label;
  label.y = y;
  if (label_is_missing(y, noise_)) {
    label.missing = true;
    return label;
  }
  using Kind = model::Noise::Kind;
  if (noise_.kind == Kind::gaussian) {
    const double s = std::sqrt(noise_.param);
    std::vector<gauss::Fibre1D::Preimage> pre;
    fibre_.preimages(y, pre);
    for (const auto& p : pre) {
      label.z.push_back(p.r);
      label.log_a.push_back(-std::log(p.abs_slope));
    }
    for (double c : {1.0, -1.0, 3.0, -3.0}) {
      std::vector<gauss::Fibre1D::Preimage> pc;
      fibre_.preimages(y + c * s, pc);
      for (const auto& p : pc) label.breakpoints.push_back(p.r);
    }
    for (double b : fibre_.structure_points()) label.breakpoints.push_back(b);
    std::sort(label.breakpoints.begin(), label.breakpoints.end());
    return label;
  }
  if (noise_.kind == Kind::flip) {
    if (!(y == 1.0 || y == -1.0)) throw InputError("y", "y: flip noise needs labels in {-1, +1}");
    const int i = atom_index(y), j = atom_index(-y);
    label.atom = true;
    if (i >= 0) label.region = atoms_[i].intervals;
    if (j >= 0) label.region_flip = atoms_[j].intervals;
    return label;
  }
  const int idx = atom_index(y);
  if (idx >= 0) {
    label.atom = true;
    label.region = atoms_[idx].intervals;
    label.log_marginal = std::log(atoms_[idx].probability);
    return label;
  }
  std::vector<gauss::Fibre1D::Preimage> pre;
  fibre_.preimages(y, pre);
  std::vector<double> lm;
  for (const auto& p : pre) {
    label.z.push_back(p.r);
    label.log_a.push_back(-std::log(p.abs_slope));
    lm.push_back(label.log_a.back() - 0.5 * p.r * p.r - kLogSqrt2Pi);
  }
  label.log_marginal = log_sum_exp(lm);
  return label;
}

ScalarPosterior ScalarDenoiser::posterior(const Label& label, double omega, double V) const {
  V = std::max(V, options_.v_floor);
  if (label.missing) {
    ScalarPosterior out;
    out.mean = omega;
    out.var = V;
    return out;
  }
  using Kind = model::Noise::Kind;
  if (noise_.kind == Kind::gaussian) return gaussian_noise_posterior(label, omega, V);
  const double eps = noise_.param;
  const double l_clean = (noise_.kind == Kind::resample || noise_.kind == Kind::flip) ? std::log1p(-eps) : 0.0;
  ComponentList comps;
  if (label.atom) {
    for (const auto& iv : label.region) {
      const auto m = se_detail::gaussian_interval(iv[0], iv[1], omega, V);
      comps.push(l_clean + m.log_mass, m.mean, m.var);
    }
    if (noise_.kind == Kind::flip) {
      const double l_flip = std::log(eps);
      for (const auto& iv : label.region_flip) {
        const auto m = se_detail::gaussian_interval(iv[0], iv[1], omega, V);
        comps.push(l_flip + m.log_mass, m.mean, m.var);
      }
    }
  } else {
    const double lnorm = -0.5 * std::log(V) - kLogSqrt2Pi;
    for (std::size_t r = 0; r < label.z.size(); ++r) {
      const double d = label.z[r] - omega;
      comps.push(l_clean + label.log_a[r] - 0.5 * d * d / V + lnorm, label.z[r], 0.0);
    }
  }
  if (noise_.kind == Kind::resample) comps.push(std::log(eps) + label.log_marginal, omega, V);
  return combine(comps, comps.count, omega, V);
}

double ScalarDenoiser::link_fast(double z) const {
  const double R = options_.radius;
  const double t = (z + R) / table_h_;
  const int cells = static_cast<int>(exact_cell_.size());
  const int c = static_cast<int>(std::floor(t));
  if (c < 1 || c >= cells - 1 || exact_cell_[c]) return fibre_(z);
  // 4-point Lagrange on nodes c−1, c, c+1, c+2 at u = t − c ∈ [0, 1).
  const double u = t - c;
  const double f0 = table_[c - 1], f1 = table_[c], f2 = table_[c + 1], f3 = table_[c + 2];
  return f1 + 0.5 * u * (f2 - f0 + u * (2 * f0 - 5 * f1 + 4 * f2 - f3 + u * (3 * (f1 - f2) + f3 - f0)));
}

ScalarPosterior ScalarDenoiser::gaussian_noise_posterior(const Label& label, double omega, double V) const {
  const double delta_noise = noise_.param;
  const double s = std::sqrt(V);
  const double y = label.y;
  auto log_f = [&](double z) {
    const double d = z - omega;
    const double e = y - link_fast(z);
    return -0.5 * d * d / V - 0.5 * e * e / delta_noise;
  };
  double lo = omega - 12 * s, hi = omega + 12 * s;
  for (double z : label.z) {
    if (std::fabs(z - omega) < 40 * s) {
      lo = std::min(lo, z - 1e-3 * s);
      hi = std::max(hi, z + 1e-3 * s);
    }
  }
  std::vector<double> pts{lo, hi, omega};
  for (double b : label.breakpoints) {
    if (b > lo && b < hi) pts.push_back(b);
  }
  double shift = -kInf;
  for (double p : pts) shift = std::max(shift, log_f(p));
  for (double z : label.z) {
    if (z > lo && z < hi) shift = std::max(shift, log_f(z));
  }
  const double rel = options_.noise_rel_tol;
  // One pass for the mass and the first two moments centred at ω; a second pass centred at the
  // mean only when the posterior is narrow compared with its offset from ω (cancellation).
  std::function<std::array<double, 3>(double)> f1 = [&](double z) {
    const double w = std::exp(log_f(z) - shift);
    const double d = z - omega;
    return std::array<double, 3>{w, w * d, w * d * d};
  };
  for (double z : label.z) {
    if (z > lo && z < hi) pts.push_back(z);
  }
  auto r1 = se_detail::integrate_vec<3>(f1, pts, 0.0, rel, 400);
  ScalarPosterior out;
  if (!(r1.value[0] > 0)) {
    out.empty = true;
    out.mean = omega;
    out.var = V;
    out.log_evidence = -kInf;
    return out;
  }
  const double dm = r1.value[1] / r1.value[0];
  const double mean = omega + dm;
  double var = r1.value[2] / r1.value[0] - dm * dm;
  if (!(var > 1e-6 * dm * dm)) {
    std::function<std::array<double, 3>(double)> f2 = [&](double z) {
      const double w = std::exp(log_f(z) - shift);
      const double d = z - mean;
      return std::array<double, 3>{w, w * d * d, 0.0};
    };
    auto r2 = se_detail::integrate_vec<3>(f2, pts, 0.0, rel, 400);
    var = r2.value[1] / r2.value[0];
  }
  out.mean = mean;
  out.var = var;
  out.log_evidence = shift + std::log(r1.value[0]) - 0.5 * std::log(V) - 0.5 * std::log(delta_noise) - 2 * kLogSqrt2Pi;
  out.g_out = (mean - omega) / V;
  out.dg_out = (out.var / V - 1.0) / V;
  return out;
}

}  // namespace deltacrit::alg
