#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/core/status.hpp"
#include "se_numerics.hpp"

namespace deltacrit::alg {

using se_detail::kInf;
using se_detail::kLogSqrt2Pi;

GaussianPrior GaussianPrior::make(const Eigen::VectorXd& omega, const Eigen::MatrixXd& V, double v_floor) {
  GaussianPrior p;
  p.omega = omega;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (V + V.transpose()));
  Eigen::VectorXd ev = es.eigenvalues().cwiseMax(v_floor);
  p.V = es.eigenvectors() * ev.asDiagonal() * es.eigenvectors().transpose();
  p.V_inv = es.eigenvectors() * ev.cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
  p.log_det_2piV = ev.array().log().sum() + static_cast<double>(ev.size()) * 2.0 * kLogSqrt2Pi;
  return p;
}

namespace {
constexpr double kRayGradingPower = 6.0;
constexpr double kMinEscapeOffset = 1e-7;

// Angles θ ∈ [0, 2π) along which the level set {g = g(0)} of a k = 2 link leaves the origin:
// sign changes and touching zeros of h(θ) = g(r₀ cos θ, r₀ sin θ) − g(0) at r₀ = 3, on 4096
// equal angles (the axes included), located by bisection (sign changes) or golden-section search
// on |h| (touching zeros, accepted below 1e-9 of max |h|). Empty when h has no zero (e.g.
// z1² + z2²) or vanishes identically.
std::vector<double> escape_angles(const model::Link& link) {
  constexpr int n = 4096;
  constexpr double r0 = 3.0;
  double z0[3] = {0, 0, 0};
  const double g0 = link(z0);
  auto h = [&](double t) {
    double z[3] = {r0 * std::cos(t), r0 * std::sin(t), 0};
    return link(z) - g0;
  };
  std::vector<double> hv(n + 2);
  double scale = 0;
  for (int j = 0; j < n + 2; ++j) {
    hv[j] = h(2 * M_PI * j / n);
    if (!std::isfinite(hv[j])) return {};
    scale = std::max(scale, std::fabs(hv[j]));
  }
  if (!(scale > 0)) return {};
  const double zero = 1e-9 * scale;
  std::vector<double> out;
  for (int j = 0; j < n; ++j) {
    const double t0 = 2 * M_PI * j / n, t1 = 2 * M_PI * (j + 1) / n;
    if (std::fabs(hv[j]) <= zero) {
      if (out.empty() || t0 - out.back() > 2 * M_PI / n * 1.5) out.push_back(t0);
      continue;
    }
    if (std::fabs(hv[j + 1]) <= zero) continue;
    if ((hv[j] < 0) != (hv[j + 1] < 0)) {
      double a = t0, b = t1, ha = hv[j];
      for (int it = 0; it < 60; ++it) {
        const double m = 0.5 * (a + b), hm = h(m);
        if ((hm < 0) == (ha < 0)) {
          a = m;
          ha = hm;
        } else {
          b = m;
        }
      }
      out.push_back(0.5 * (a + b));
    } else if (j > 0 && std::fabs(hv[j]) < std::fabs(hv[j - 1]) && std::fabs(hv[j]) <= std::fabs(hv[j + 1])) {
      // Local minimum of |h| at a sample: golden-section search on [t_{j−1}, t_{j+1}].
      double a = 2 * M_PI * (j - 1) / n, b = t1;
      const double gr = 0.5 * (std::sqrt(5.0) - 1);
      for (int it = 0; it < 60; ++it) {
        const double c = b - gr * (b - a), d = a + gr * (b - a);
        if (std::fabs(h(c)) < std::fabs(h(d))) b = d;
        else a = c;
      }
      const double t = 0.5 * (a + b);
      if (std::fabs(h(t)) <= zero) out.push_back(t);
    }
  }
  // Sorted, distinct modulo 2π.
  for (double& t : out) t = std::fmod(t + 2 * M_PI, 2 * M_PI);
  std::sort(out.begin(), out.end());
  std::vector<double> uniq;
  for (double t : out)
    if (uniq.empty() || t - uniq.back() > 1e-9) uniq.push_back(t);
  if (uniq.size() > 1 && uniq.front() + 2 * M_PI - uniq.back() <= 1e-9) uniq.pop_back();
  return uniq;
}
}  // namespace

RayDenoiser::RayDenoiser(const model::Link& link, const model::Noise& noise, const DenoiserOptions& options)
    : noise_(noise), options_(options), k_(link.k()) {
  options_.validate();
  if (noise_.kind == model::Noise::Kind::gaussian) {
    throw InputError("noise", "noise: gaussian output noise is supported by the state evolution and GAMP only for k = 1 "
                              "(the ray denoiser for k >= 2 needs a deterministic link; got '" + noise_.text() + "')");
  }
  const double R = options_.radius;
  // Directions and their surface weights.
  if (k_ == 1) {
    directions_.resize(1, 2);
    directions_ << 1.0, -1.0;
    log_sigma_ = {0.0, 0.0};
  } else if (k_ == 2) {
    const int n = options_.directions > 0 ? options_.directions : 128;
    const auto escape = options_.graded_rays ? escape_angles(link) : std::vector<double>{};
    if (escape.empty() || static_cast<int>(escape.size()) * 8 > n) {
      directions_.resize(2, n);
      for (int a = 0; a < n; ++a) {
        const double t = 2 * M_PI * (a + 0.5) / n;
        directions_(0, a) = std::cos(t);
        directions_(1, a) = std::sin(t);
        log_sigma_.push_back(std::log(2 * M_PI / n));
      }
    } else {
      std::vector<double> ts, ws;
      for (std::size_t i = 0; i < escape.size(); ++i) {
        const double ta = escape[i];
        const double tb = i + 1 < escape.size() ? escape[i + 1] : escape.front() + 2 * M_PI;
        const double len = tb - ta;
        const int m = std::max(8, static_cast<int>(std::lround(n * len / (2 * M_PI))));
        for (int j = 0; j < m; ++j) {
          const double s = (j + 0.5) / m;
          const double sp = std::pow(s, kRayGradingPower), cp = std::pow(1 - s, kRayGradingPower);
          const double dw = kRayGradingPower * std::pow(s * (1 - s), kRayGradingPower - 1) / ((sp + cp) * (sp + cp));
          const double off = len * std::min(sp, cp) / (sp + cp);
          // Rays within 1e-7 rad of an escape direction are dropped: g along them is within
          // rounding of g(0) (spurious plateaus and jumps). A dropped ray has s⁶ ≲ 1e-7/len, so its
          // weight 6s⁵·len/m is ≲ 1e-5 of an unmapped cell's.
          if (off < kMinEscapeOffset) continue;
          ts.push_back(ta + len * sp / (sp + cp));
          ws.push_back(len * dw / m);
        }
      }
      directions_.resize(2, static_cast<Eigen::Index>(ts.size()));
      for (std::size_t a = 0; a < ts.size(); ++a) {
        directions_(0, static_cast<Eigen::Index>(a)) = std::cos(ts[a]);
        directions_(1, static_cast<Eigen::Index>(a)) = std::sin(ts[a]);
        log_sigma_.push_back(std::log(ws[a]));
      }
    }
  } else {
    const int np = options_.directions > 0 ? options_.directions : 12;
    const int naz = 2 * np;
    const auto& gl = se_detail::gauss_legendre(np);
    directions_.resize(3, np * naz);
    int c = 0;
    for (int i = 0; i < np; ++i) {
      const double u = gl.x[i], s = std::sqrt(std::max(0.0, 1 - u * u));
      for (int j = 0; j < naz; ++j, ++c) {
        const double t = 2 * M_PI * (j + 0.5) / naz;
        directions_(0, c) = s * std::cos(t);
        directions_(1, c) = s * std::sin(t);
        directions_(2, c) = u;
        log_sigma_.push_back(std::log(gl.w[i] * 2 * M_PI / naz));
      }
    }
  }
  const int nr = static_cast<int>(directions_.cols());
  rays_.reserve(nr);
  y_min_ = kInf;
  y_max_ = -kInf;
  for (int a = 0; a < nr; ++a) {
    model::Link copy = link;
    Eigen::VectorXd u = directions_.col(a);
    const int k = k_;
    auto f = [copy, u, k](double r) {
      double z[3] = {0, 0, 0};
      for (int i = 0; i < k; ++i) z[i] = r * u[i];
      return copy(z);
    };
    rays_.emplace_back(f, 0.0, R, gauss::FibreOptions{options_.ray_grid});
    for (const auto& p : rays_.back().pieces()) {
      y_min_ = std::min({y_min_, p.f_lo, p.f_hi});
      y_max_ = std::max({y_max_, p.f_lo, p.f_hi});
    }
  }
  {
    double z0[3] = {0, 0, 0};
    g_origin_ = link(z0);
  }
  // Atoms: plateau values seen on enough rays (a plateau on a single ray is a measure-zero set).
  const auto& gl = se_detail::gauss_legendre(options_.radial_nodes);
  for (int a = 0; a < nr; ++a) {
    for (const auto& p : rays_[a].plateaus()) {
      auto it = std::find_if(atoms_.begin(), atoms_.end(), [&](const Atom& at) { return at.value == p.value; });
      if (it == atoms_.end()) {
        atoms_.push_back({p.value, 0.0, 0});
        it = atoms_.end() - 1;
      }
      ++it->rays;
      // Mass Σ σ ∫ ρ_k(r) dr on the plateau, with the radial rule used for the fibre nodes.
      const int panels = std::max(1, static_cast<int>(std::ceil((p.hi - p.lo) / options_.radial_panel)));
      const double h = (p.hi - p.lo) / panels;
      for (int q = 0; q < panels; ++q) {
        for (std::size_t i = 0; i < gl.x.size(); ++i) {
          const double r = p.lo + h * (q + 0.5 * (1 + gl.x[i]));
          it->probability += std::exp(log_sigma_[a] + (k_ - 1) * std::log(r) - 0.5 * r * r - k_ * kLogSqrt2Pi) * 0.5 * h * gl.w[i];
        }
      }
    }
  }
  const int min_rays = k_ == 1 ? 1 : 3;
  atoms_.erase(std::remove_if(atoms_.begin(), atoms_.end(), [&](const Atom& at) { return at.rays < min_rays; }), atoms_.end());
  if (noise_.kind == model::Noise::Kind::flip) {
    double mass = 0;
    bool ok = true;
    for (const auto& at : atoms_) {
      mass += at.probability;
      ok = ok && (at.value == 1.0 || at.value == -1.0);
    }
    if (!ok || mass < 1 - 1e-6) {
      throw InputError("noise", "noise: flip noise needs a link with values in {-1, +1}; '" + link.text() + "' is not");
    }
  }
}

int RayDenoiser::atom_index(double y) const {
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    if (y == atoms_[i].value || std::fabs(y - atoms_[i].value) <= 1e-12 * std::max(1.0, std::fabs(y))) return static_cast<int>(i);
  }
  return -1;
}

void RayDenoiser::clean_fibre(double y, Eigen::MatrixXd& z, std::vector<double>& log_v) const {
  std::vector<double> pts, lv;
  const int idx = atom_index(y);
  const int nr = rays();
  if (idx >= 0) {
    const double value = atoms_[idx].value;
    const auto& gl = se_detail::gauss_legendre(options_.radial_nodes);
    for (int a = 0; a < nr; ++a) {
      for (const auto& p : rays_[a].plateaus()) {
        if (p.value != value) continue;
        const int panels = std::max(1, static_cast<int>(std::ceil((p.hi - p.lo) / options_.radial_panel)));
        const double h = (p.hi - p.lo) / panels;
        for (int q = 0; q < panels; ++q) {
          for (std::size_t i = 0; i < gl.x.size(); ++i) {
            const double r = p.lo + h * (q + 0.5 * (1 + gl.x[i]));
            if (!(r > 0) && k_ > 1) continue;
            for (int c = 0; c < k_; ++c) pts.push_back(r * directions_(c, a));
            lv.push_back(log_sigma_[a] + (k_ > 1 ? (k_ - 1) * std::log(r) : 0.0) + std::log(0.5 * h * gl.w[i]));
          }
        }
      }
    }
  } else {
    std::vector<gauss::Fibre1D::Preimage> pre;
    for (int a = 0; a < nr; ++a) {
      pre.clear();
      rays_[a].preimages(y, pre);
      for (const auto& p : pre) {
        if (!(p.r > 0) && k_ > 1) continue;
        for (int c = 0; c < k_; ++c) pts.push_back(p.r * directions_(c, a));
        lv.push_back(log_sigma_[a] + (k_ > 1 ? (k_ - 1) * std::log(p.r) : 0.0) - std::log(p.abs_slope));
      }
    }
  }
  z = Eigen::Map<Eigen::MatrixXd>(pts.data(), k_, static_cast<Eigen::Index>(lv.size()));
  log_v = std::move(lv);
}

RayDenoiser::Label RayDenoiser::prepare(double y) const {
  Label label;
  label.y = y;
  if (label_is_missing(y, noise_)) {
    label.missing = true;
    return label;
  }
  if (noise_.kind == model::Noise::Kind::flip) {
    if (!(y == 1.0 || y == -1.0)) throw InputError("y", "y: flip noise needs labels in {-1, +1}");
    label.atom = true;
    clean_fibre(y, label.z, label.log_v);
    clean_fibre(-y, label.z_flip, label.log_v_flip);
    return label;
  }
  label.atom = atom_index(y) >= 0;
  clean_fibre(y, label.z, label.log_v);
  if (noise_.kind == model::Noise::Kind::resample) {
    double m = -kInf;
    std::vector<double> l(label.log_v.size());
    for (std::size_t i = 0; i < l.size(); ++i) {
      l[i] = label.log_v[i] - 0.5 * label.z.col(static_cast<Eigen::Index>(i)).squaredNorm() - k_ * kLogSqrt2Pi;
      m = std::max(m, l[i]);
    }
    double s = 0;
    for (double v : l) s += std::exp(v - m);
    label.log_marginal = s > 0 ? m + std::log(s) : -kInf;
  }
  return label;
}

VectorPosterior RayDenoiser::posterior(const Label& label, const GaussianPrior& prior) const {
  const int k = k_;
  VectorPosterior out;
  out.mean = prior.omega;
  out.cov = prior.V;
  out.g_out = Eigen::VectorXd::Zero(k);
  out.dg_out = Eigen::MatrixXd::Zero(k, k);
  if (label.missing) return out;
  using Kind = model::Noise::Kind;
  const double eps = noise_.param;
  const double l_clean = (noise_.kind == Kind::resample || noise_.kind == Kind::flip) ? std::log1p(-eps) : 0.0;
  const double l_norm = -0.5 * prior.log_det_2piV;
  auto log_weight = [&](const Eigen::MatrixXd& z, const std::vector<double>& lv, std::size_t i) {
    Eigen::Matrix<double, Eigen::Dynamic, 1, 0, 3, 1> d = z.col(static_cast<Eigen::Index>(i)) - prior.omega;
    return lv[i] - 0.5 * d.dot(prior.V_inv * d) + l_norm;
  };
  struct Part {
    const Eigen::MatrixXd* z;
    const std::vector<double>* lv;
    double shift;
  };
  std::vector<Part> parts{{&label.z, &label.log_v, l_clean}};
  if (noise_.kind == Kind::flip) parts.push_back({&label.z_flip, &label.log_v_flip, std::log(eps)});
  const double l_prior = noise_.kind == Kind::resample ? std::log(eps) + label.log_marginal : -kInf;
  double lmax = l_prior;
  for (const auto& p : parts) {
    for (std::size_t i = 0; i < p.lv->size(); ++i) lmax = std::max(lmax, p.shift + log_weight(*p.z, *p.lv, i));
  }
  if (!(lmax > -kInf)) {
    out.empty = true;
    out.log_evidence = -kInf;
    return out;
  }
  double s0 = 0;
  Eigen::VectorXd s1 = Eigen::VectorXd::Zero(k);
  const double w_prior = l_prior > -kInf ? std::exp(l_prior - lmax) : 0.0;
  s0 += w_prior;
  s1 += w_prior * prior.omega;
  for (const auto& p : parts) {
    for (std::size_t i = 0; i < p.lv->size(); ++i) {
      const double w = std::exp(p.shift + log_weight(*p.z, *p.lv, i) - lmax);
      s0 += w;
      s1 += w * p.z->col(static_cast<Eigen::Index>(i));
    }
  }
  const Eigen::VectorXd mean = s1 / s0;
  Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(k, k);
  {
    const Eigen::VectorXd dm = prior.omega - mean;
    s2 += w_prior * (prior.V + dm * dm.transpose());
  }
  for (const auto& p : parts) {
    for (std::size_t i = 0; i < p.lv->size(); ++i) {
      const double w = std::exp(p.shift + log_weight(*p.z, *p.lv, i) - lmax);
      const Eigen::VectorXd dm = p.z->col(static_cast<Eigen::Index>(i)) - mean;
      s2 += w * dm * dm.transpose();
    }
  }
  out.mean = mean;
  out.cov = s2 / s0;
  out.log_evidence = lmax + std::log(s0);
  out.g_out = prior.V_inv * (mean - prior.omega);
  out.dg_out = prior.V_inv * out.cov * prior.V_inv - prior.V_inv;
  return out;
}

}  // namespace deltacrit::alg
