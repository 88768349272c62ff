#include "deltacrit/alg/se.hpp"

#include <boost/math/tools/minima.hpp>
#include <boost/math/tools/roots.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "deltacrit/gauss/hermite.hpp"
#include "se_numerics.hpp"

namespace deltacrit::alg {

using se_detail::kInf;

void SEOptions::validate() const {
  denoiser.validate();
  auto fail = [](const std::string& f, const std::string& m) { throw InputError(f, f + ": " + m); };
  if (panel_nodes < 4 || panel_nodes > 64) fail("panel_nodes", "must be in [4, 64]");
  if (!(panel_width > 0 && panel_width <= 2)) fail("panel_width", "must be in (0, 2]");
  if (!(grading_ratio >= 0.05 && grading_ratio <= 0.7)) fail("grading_ratio", "must be in [0.05, 0.7]");
  if (!(grading_finest >= 1e-12 && grading_finest <= 1e-2)) fail("grading_finest", "must be in [1e-12, 1e-2]");
  if (omega_nodes < 4 || omega_nodes > 64) fail("omega_nodes", "must be in [4, 64]");
  if (omega_panels < 2 || omega_panels > 64) fail("omega_panels", "must be in [2, 64]");
  if (noise_y_panels < 8 || noise_y_panels > 1000) fail("noise_y_panels", "must be in [8, 1000]");
  if (noise_y_nodes < 2 || noise_y_nodes > 64) fail("noise_y_nodes", "must be in [2, 64]");
  if (noise_omega_panels < 2 || noise_omega_panels > 64) fail("noise_omega_panels", "must be in [2, 64]");
  if (noise_omega_nodes < 4 || noise_omega_nodes > 64) fail("noise_omega_nodes", "must be in [4, 64]");
  if (!(noise_z_step >= 0.05 && noise_z_step <= 2)) fail("noise_z_step", "must be in [0.05, 2]");
  if (scan_points < 16 || scan_points > 4000) fail("scan_points", "must be in [16, 4000]");
  if (!(q_lo > 0 && q_lo <= 1e-2)) fail("q_lo", "must be in (0, 1e-2]");
  if (!(q_hi >= 0.99 && q_hi < 1)) fail("q_hi", "must be in [0.99, 1)");
  if (!(q_tol > 0 && q_tol <= 1e-4)) fail("q_tol", "must be in (0, 1e-4]");
}

void IterationOptions::validate() const {
  auto fail = [](const std::string& f, const std::string& m) { throw InputError(f, f + ": " + m); };
  if (!(seed > 0 && seed < 1)) fail("seed", "the symmetry-breaking seed must be in (0, 1)");
  if (!(damping > 0 && damping <= 1)) fail("damping", "must be in (0, 1]");
  if (max_iterations < 1 || max_iterations > 10000000) fail("max_iterations", "must be in [1, 1e7]");
  if (!(tol > 0 && tol < 1)) fail("tol", "must be in (0, 1)");
  if (!(full_tol > 0 && full_tol < 0.5)) fail("full_tol", "must be in (0, 0.5)");
}

namespace {
double normal_pdf(double z) { return std::exp(-0.5 * z * z - se_detail::kLogSqrt2Pi); }

// g_out for a continuous label without output noise: two passes over the preimages (max exponent,
// then weighted mean), no allocation. Returns 0 for an empty fibre.
inline double g_out_preimages(const ScalarDenoiser::Label& lab, double omega, double V) {
  const std::size_t n = lab.z.size();
  if (n == 1) return (lab.z[0] - omega) / V;
  double lmax = -kInf;
  for (std::size_t r = 0; r < n; ++r) {
    const double d = lab.z[r] - omega;
    lmax = std::max(lmax, lab.log_a[r] - 0.5 * d * d / V);
  }
  if (!(lmax > -kInf)) return 0.0;
  double s0 = 0, s1 = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double d = lab.z[r] - omega;
    const double w = std::exp(lab.log_a[r] - 0.5 * d * d / V - lmax);
    s0 += w;
    s1 += w * d;
  }
  return s1 / (s0 * V);
}
}  // namespace

StateEvolution1D::StateEvolution1D(const model::Link& link, const model::Noise& noise, const SEOptions& options)
    : den_(link, noise, options.denoiser), options_(options) {
  options_.validate();
  const auto& gh = gauss::hermite_rule(48);
  gh_x_ = gh.x;
  gh_w_ = gh.w;
  if (noise.kind == model::Noise::Kind::gaussian) build_noise_rule();
  else build_outer_rule();
}

void StateEvolution1D::build_outer_rule() {
  const auto& fib = den_.fibre();
  const double R = options_.denoiser.radius;
  // Singular points: interior piece ends (critical points, plateau ends, jumps) and the z where g
  // equals a critical value (a new pair of preimages appears elsewhere: pitfall 3).
  std::vector<double> singular;
  for (double p : fib.structure_points()) {
    if (p > -R && p < R) singular.push_back(p);
  }
  for (double cv : fib.critical_values()) {
    std::vector<gauss::Fibre1D::Preimage> pre;
    fib.preimages(cv, pre);
    for (const auto& p : pre) singular.push_back(p.r);
  }
  std::sort(singular.begin(), singular.end());
  singular.erase(std::unique(singular.begin(), singular.end()), singular.end());

  const auto& gl = se_detail::gauss_legendre(options_.panel_nodes);
  auto add_segment = [&](double a, double b) {
    std::vector<double> graded;
    for (double s : singular) {
      if (s >= a && s <= b) graded.push_back(s);
    }
    const auto ends = se_detail::graded_panels(a, b, graded, options_.panel_width, options_.panel_width,
                                               options_.grading_ratio, options_.grading_finest);
    for (std::size_t p = 0; p + 1 < ends.size(); ++p) {
      const double c = 0.5 * (ends[p] + ends[p + 1]), hw = 0.5 * (ends[p + 1] - ends[p]);
      for (std::size_t i = 0; i < gl.x.size(); ++i) {
        const double z = c + hw * gl.x[i];
        const double w = gl.w[i] * hw * normal_pdf(z);
        if (!(w > 1e-300)) continue;
        auto label = den_.prepare(den_.link_value(z));
        if (label.atom) continue;  // measure-zero coincidence with a plateau value
        // The node's own preimage is known exactly: z itself. Root finding near a critical point
        // is ill-conditioned (|g'| → 0), so replace the computed root closest to z, or add z if
        // the solver missed it.
        const double own_log_a = -std::log(fib.abs_slope(z));
        if (!std::isfinite(own_log_a)) continue;
        std::size_t best = label.z.size();
        for (std::size_t r = 0; r < label.z.size(); ++r) {
          if (std::fabs(label.z[r] - z) < 1e-6 * std::max(1.0, std::fabs(z)) &&
              (best == label.z.size() || std::fabs(label.z[r] - z) < std::fabs(label.z[best] - z))) {
            best = r;
          }
        }
        if (best == label.z.size()) {
          label.z.push_back(z);
          label.log_a.push_back(own_log_a);
        } else {
          label.z[best] = z;
          label.log_a[best] = own_log_a;
        }
        labels_.push_back(std::move(label));
        nodes_.push_back({z, w, static_cast<int>(labels_.size()) - 1});
      }
    }
  };
  for (const auto& piece : fib.pieces()) add_segment(piece.lo, piece.hi);

  // c = E_y[E[z|y]²], h1 = E_y[(∂_ω g_out(y,0,1))²]: continuous nodes (law of y unchanged by
  // resample/erase apart from the erased mass) + atoms (probability from the evidence).
  const bool erase = den_.noise().kind == model::Noise::Kind::erase;
  const double keep = erase ? 1.0 - den_.noise().param : 1.0;
  double c = 0, h1 = 0;
  for (const auto& nd : nodes_) {
    const auto post = den_.posterior(labels_[nd.label], 0.0, 1.0);
    c += nd.weight * post.g_out * post.g_out;
    h1 += nd.weight * post.dg_out * post.dg_out;
  }
  for (const auto& atom : den_.atoms()) {
    const auto post = den_.posterior(den_.prepare(atom.value), 0.0, 1.0);
    const double p = std::exp(post.log_evidence);
    c += p * post.g_out * post.g_out;
    h1 += p * post.dg_out * post.dg_out;
  }
  c_ = keep * c;
  h1_ = keep * h1;
  trivial_ = den_.even() ? false : c_ > 1e-10;
  if (den_.even()) c_ = 0.0;
}

void StateEvolution1D::build_noise_rule() {
  // Gaussian output noise: y-space rule over the law of y = g(z) + √Δ ε (smooth). Panel ends: the
  // images g(z) of a z-grid of step `noise_z_step` on |z| ≤ 8.5 (panels follow the mass of y), atoms and
  // critical values ± c√Δ, and the range ends ± 10√Δ; panels wider than the 1/noise_y_panels of
  // the range are split.
  const auto& fib = den_.fibre();
  const double s = std::sqrt(den_.noise().param);
  std::vector<double> ends;
  double lo = kInf, hi = -kInf;
  for (double z = -8.5; z <= 8.5 + 1e-12; z += options_.noise_z_step) {
    const double v = den_.link_value(z);
    ends.push_back(v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::vector<double> special = fib.critical_values();
  for (const auto& a : den_.atoms()) special.push_back(a.value);
  for (double v : special) {
    if (v < lo - 1 || v > hi + 1) continue;
    for (double c : {0.0, 1.0, -1.0, 2.0, -2.0, 4.0, -4.0}) ends.push_back(v + c * s);
  }
  lo -= 10 * s;
  hi += 10 * s;
  ends.push_back(lo);
  ends.push_back(hi);
  std::sort(ends.begin(), ends.end());
  std::vector<double> merged;
  for (double e : ends) {
    if (e < lo || e > hi) continue;
    if (merged.empty() || e - merged.back() > 1e-3 * s) merged.push_back(e);
  }
  const double max_width = (hi - lo) / options_.noise_y_panels;
  const auto& gl = se_detail::gauss_legendre(options_.noise_y_nodes);
  for (std::size_t p = 0; p + 1 < merged.size(); ++p) {
    const double w = merged[p + 1] - merged[p];
    const int m = std::max(1, static_cast<int>(std::ceil(w / max_width)));
    for (int j = 0; j < m; ++j) {
      const double a = merged[p] + w * j / m, b = merged[p] + w * (j + 1) / m;
      for (std::size_t i = 0; i < gl.x.size(); ++i) {
        y_nodes_.push_back(0.5 * (a + b) + 0.5 * (b - a) * gl.x[i]);
        y_weights_.push_back(0.5 * (b - a) * gl.w[i]);
      }
    }
  }
  for (double y : y_nodes_) labels_.push_back(den_.prepare(y));
  double c = 0, h1 = 0;
  for (std::size_t j = 0; j < y_nodes_.size(); ++j) {
    const auto post = den_.posterior(labels_[j], 0.0, 1.0);
    const double p = std::exp(post.log_evidence) * y_weights_[j];
    c += p * post.g_out * post.g_out;
    h1 += p * post.dg_out * post.dg_out;
  }
  c_ = c;
  h1_ = h1;
  trivial_ = den_.even() ? false : c_ > 1e-10;
  if (den_.even()) c_ = 0.0;
}

double StateEvolution1D::h(double q) const {
  if (!(q >= 0 && q < 1)) throw InputError("q", "q must be in [0, 1)");
  ++evaluations_;
  if (q == 0) return c_;
  return den_.noise().kind == model::Noise::Kind::gaussian ? h_gaussian(q) : h_deterministic(q);
}

namespace {
// E_{ω ~ N(μ, σ²)}[F(ω)] for F smooth except near the crossing points of the preimage weights,
// ω_rs = (z_r + z_s)/2 + V log(a_s/a_r)/(z_r − z_s), where g_out switches between preimages over a
// width V/|z_r − z_s| (a step when V is small: Gauss–Hermite alone loses digits there). Composite
// Gauss–Legendre in ξ = (ω − μ)/σ ∈ [−8.5, 8.5] on `panels` base panels, graded geometrically
// (ratio 3) towards every crossing inside the range, down to its width.
template <class F>
double inner_average_impl(const ScalarDenoiser::Label& lab, double mu, double sigma, double V, int panels, int nodes,
                          const F& f) {
  constexpr double kXi = 8.5;
  double pts[512];
  int n = 0;
  for (int j = 0; j <= panels; ++j) pts[n++] = -kXi + 2 * kXi * j / panels;
  const std::size_t np = lab.z.size();
  for (std::size_t r = 0; r < np && n < 400; ++r) {
    for (std::size_t s = r + 1; s < np && n < 400; ++s) {
      const double dz = lab.z[r] - lab.z[s];
      if (dz == 0) continue;
      const double w = 0.5 * (lab.z[r] + lab.z[s]) + V * (lab.log_a[s] - lab.log_a[r]) / dz;
      const double xi = (w - mu) / sigma;
      if (!(xi > -kXi && xi < kXi)) continue;
      // Irrelevant if another preimage dominates both at the crossing (by e^{30}).
      const double lr = lab.log_a[r] - 0.5 * (lab.z[r] - w) * (lab.z[r] - w) / V;
      bool dominated = false;
      for (std::size_t o = 0; o < np && !dominated; ++o) {
        if (o == r || o == s) continue;
        dominated = lab.log_a[o] - 0.5 * (lab.z[o] - w) * (lab.z[o] - w) / V > lr + 30.0;
      }
      if (dominated) continue;
      const double t = V / (std::fabs(dz) * sigma);
      pts[n++] = xi;
      for (double h = t; h < 2.0 && n < 500; h *= 3.0) {
        if (xi - h > -kXi) pts[n++] = xi - h;
        if (xi + h < kXi) pts[n++] = xi + h;
      }
    }
  }
  std::sort(pts, pts + n);
  const auto& gl = se_detail::gauss_legendre(nodes);
  double total = 0;
  for (int p = 0; p + 1 < n; ++p) {
    const double a = pts[p], b = pts[p + 1];
    if (!(b > a)) continue;
    const double c = 0.5 * (a + b), hw = 0.5 * (b - a);
    double s = 0;
    for (std::size_t i = 0; i < gl.x.size(); ++i) {
      const double xi = c + hw * gl.x[i];
      s += gl.w[i] * std::exp(-0.5 * xi * xi) * f(mu + sigma * xi);
    }
    total += s * hw;
  }
  return total / std::sqrt(2 * M_PI);
}
}  // namespace

template <class F>
double StateEvolution1D::inner_average(const ScalarDenoiser::Label& lab, double mu, double sigma, double V, const F& f) const {
  if (den_.noise().kind == model::Noise::Kind::gaussian) {
    return inner_average_impl(lab, mu, sigma, V, options_.noise_omega_panels, options_.noise_omega_nodes, f);
  }
  return inner_average_impl(lab, mu, sigma, V, options_.omega_panels, options_.omega_nodes, f);
}

double StateEvolution1D::h_deterministic(double q) const {
  using Kind = model::Noise::Kind;
  const auto kind = den_.noise().kind;
  const double eps = den_.noise().param;
  const double V = 1.0 - q;
  const double s_corr = std::sqrt(q * V);  // ω | z ~ N(qz, q(1 − q))
  const double s_ind = std::sqrt(q);       // ω ~ N(0, q) independent of a resampled label
  const std::size_t m = gh_x_.size();
  double total = 0.0;
  // Continuous part, z-space.
  if (kind == Kind::none || kind == Kind::erase) {
    for (const auto& nd : nodes_) {
      const auto& lab = labels_[nd.label];
      if (lab.z.size() == 1) {
        // One preimage: g_out = (z − ω)/V exactly, E_{ω|z}[g²] = z² + q/V.
        total += nd.weight * (nd.z * nd.z + q / V);
        continue;
      }
      const double mu = q * nd.z;
      const double inner = inner_average(lab, mu, s_corr, V, [&](double omega) {
        const double g = g_out_preimages(lab, omega, V);
        return g * g;
      });
      total += nd.weight * inner;
    }
  } else if (kind == Kind::resample) {
    for (const auto& nd : nodes_) {
      const auto& lab = labels_[nd.label];
      const double inner_c = inner_average(lab, q * nd.z, s_corr, V, [&](double omega) {
        const double g = den_.posterior(lab, omega, V).g_out;
        return g * g;
      });
      const double inner_i = inner_average(lab, 0.0, s_ind, V, [&](double omega) {
        const double g = den_.posterior(lab, omega, V).g_out;
        return g * g;
      });
      total += nd.weight * ((1 - eps) * inner_c + eps * inner_i);
    }
  }
  (void)m;
  // Atoms: ∫ N(ω; 0, q) P(y = c | ω, V) g_out(c, ω, V)² dω, adaptive in ξ = ω/√q with breakpoints
  // at the plateau ends ± {0, 1, 3}√V (features of width √V as q → 1).
  for (const auto& atom : den_.atoms()) {
    const auto lab = den_.prepare(atom.value);
    std::vector<double> pts{-12.0, 12.0};
    auto add_ends = [&](const std::vector<std::array<double, 2>>& region) {
      for (const auto& iv : region) {
        for (double e : {iv[0], iv[1]}) {
          if (!std::isfinite(e)) continue;
          for (double c : {0.0, 1.0, -1.0, 3.0, -3.0}) {
            const double xi = (e + c * std::sqrt(V)) / s_ind;
            if (xi > -12 && xi < 12) pts.push_back(xi);
          }
        }
      }
    };
    add_ends(lab.region);
    add_ends(lab.region_flip);
    std::function<std::array<double, 3>(double)> f = [&](double xi) {
      const auto post = den_.posterior(lab, s_ind * xi, V);
      const double w = normal_pdf(xi) * std::exp(post.log_evidence);
      return std::array<double, 3>{w * post.g_out * post.g_out, 0.0, 0.0};
    };
    total += se_detail::integrate_vec<3>(f, pts, 1e-300, 1e-13, 2000).value[0];
  }
  if (kind == Kind::erase) total *= 1.0 - eps;
  return total;
}

double StateEvolution1D::h_gaussian(double q) const {
  const double V = 1.0 - q;
  const double s_ind = std::sqrt(q);
  double total = 0;
  // ω ~ N(0, q) independent of the y-node; the ω-average is graded towards the switching points of
  // the clean preimages of y (the noisy posterior switches there too, smoothed by Δ).
  for (std::size_t j = 0; j < y_nodes_.size(); ++j) {
    const double inner = inner_average(labels_[j], 0.0, s_ind, V, [&](double omega) {
      const auto post = den_.posterior(labels_[j], omega, V);
      return std::exp(post.log_evidence) * post.g_out * post.g_out;
    });
    total += y_weights_[j] * inner;
  }
  return total;
}

double StateEvolution1D::psi(double q) const {
  if (!(q > 0 && q < 1)) throw InputError("q", "psi: q must be in (0, 1)");
  return q / ((1 - q) * h(q));
}

const std::vector<PsiSample>& StateEvolution1D::scan() const {
  if (scanned_) return scan_;
  const int n = options_.scan_points;
  scan_.clear();
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / (n - 1);
    const double sn = std::sin(0.5 * M_PI * t);
    const double q = options_.q_lo + (options_.q_hi - options_.q_lo) * sn * sn;
    const double hq = h(q);
    scan_.push_back({q, hq, q / ((1 - q) * hq)});
  }
  maxima_ = find_maxima();
  scanned_ = true;
  return scan_;
}

std::vector<Spinodal> StateEvolution1D::find_maxima() const {
  // Values on the scan with ψ(0⁺) = δ_alg prepended (a decreasing start means a jump at δ_alg).
  std::vector<double> qs{0.0}, ps{delta_alg()};
  for (const auto& s : scan_) {
    qs.push_back(s.q);
    ps.push_back(s.psi);
  }
  std::vector<Spinodal> out;
  double record = -kInf;
  const std::size_t n = qs.size();
  for (std::size_t i = 0; i < n; ++i) {
    const bool left_ok = i == 0 || ps[i] > ps[i - 1];
    const bool right_ok = i + 1 < n && ps[i] >= ps[i + 1];
    if (!(left_ok && right_ok)) continue;
    double qm = qs[i], pm = ps[i];
    if (i > 0) {
      // Refine the maximum of ψ on [q_{i−1}, q_{i+1}] (Brent).
      auto neg = [&](double q) { return -psi(q); };
      auto best = boost::math::tools::brent_find_minima(neg, qs[i - 1], qs[i + 1], 40);
      if (-best.second > pm) {
        qm = best.first;
        pm = -best.second;
      }
    }
    if (!(pm > record)) continue;
    record = pm;
    Spinodal sp;
    sp.exists = true;
    sp.delta = pm;
    sp.q = qm;
    // The overlap just above the jump: the first q > qm where ψ climbs back to pm.
    sp.q_after = 1.0;
    for (std::size_t j = i + 1; j < n; ++j) {
      if (ps[j] >= pm) {
        auto f = [&](double q) { return psi(q) - pm; };
        std::uintmax_t it = 100;
        auto br = boost::math::tools::toms748_solve(f, qs[j - 1], qs[j], boost::math::tools::eps_tolerance<double>(40), it);
        sp.q_after = 0.5 * (br.first + br.second);
        break;
      }
    }
    out.push_back(sp);
  }
  return out;
}

std::vector<Spinodal> StateEvolution1D::jumps() const {
  scan();
  return maxima_;
}

Spinodal StateEvolution1D::spinodal() const {
  scan();
  // The GAMP full-recovery threshold: the largest record maximum (after it q* only grows
  // continuously or is 1). With no interior maximum the transition is continuous.
  Spinodal best;
  for (const auto& m : maxima_) {
    if (m.q > 0 && (!best.exists || m.delta > best.delta)) best = m;
  }
  return best;
}

OverlapPoint StateEvolution1D::overlap(double delta) const {
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be a finite number > 0");
  OverlapPoint out;
  out.delta = delta;
  const long before = evaluations_;
  if (!trivial_ && delta <= delta_alg()) {
    out.overlap = 0.0;
    out.bracket = {0.0, 0.0};
    out.branch = "uninformative";
    out.status = Status::success;
    return out;
  }
  scan();
  // Augmented scan: (0, ψ(0⁺)), grid points and refined maxima, in q order.
  std::vector<std::pair<double, double>> pts{{0.0, delta_alg()}};
  for (const auto& s : scan_) pts.push_back({s.q, s.psi});
  for (const auto& m : maxima_) {
    if (m.q > 0) pts.push_back({m.q, m.delta});
  }
  std::sort(pts.begin(), pts.end());
  std::size_t i = 0;
  while (i < pts.size() && pts[i].second < delta) ++i;
  if (i == pts.size()) {
    out.overlap = 1.0;
    out.bracket = {pts.back().first, 1.0};
    out.branch = "full";
    out.status = Status::success;
    out.evaluations = static_cast<int>(evaluations_ - before);
    return out;
  }
  if (i == 0 || pts[i].second == delta) {
    out.overlap = pts[i].first;
    out.bracket = {pts[i].first, pts[i].first};
  } else {
    auto f = [&](double q) { return (q == 0.0 ? delta_alg() : psi(q)) - delta; };
    std::uintmax_t it = 200;
    auto tol = [&](double x, double y) { return std::fabs(x - y) <= options_.q_tol; };
    auto br = boost::math::tools::toms748_solve(f, pts[i - 1].first, pts[i].first, pts[i - 1].second - delta,
                                                pts[i].second - delta, tol, it);
    out.overlap = 0.5 * (br.first + br.second);
    out.bracket = {br.first, br.second};
    if (it >= 200) out.status = Status::not_converged;
  }
  out.branch = "partial";
  if (out.status == Status::not_computed) out.status = Status::success;
  out.evaluations = static_cast<int>(evaluations_ - before);
  return out;
}

IterationResult StateEvolution1D::iterate(double delta, const IterationOptions& options) const {
  options.validate();
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be a finite number > 0");
  IterationResult out;
  out.seed = options.seed;
  double q = options.seed;
  auto update = [&](double x) {
    const double dh = delta * h(std::min(x, options_.q_hi));
    return dh / (1 + dh);
  };
  out.status = Status::not_converged;
  for (int t = 0; t < options.max_iterations; ++t) {
    const double next = (1 - options.damping) * q + options.damping * update(q);
    out.iterations = t + 1;
    const double step = std::fabs(next - q);
    q = next;
    out.trace.push_back(q);
    if (step < options.tol) {
      out.status = Status::success;
      break;
    }
    if (1.0 - q < options.full_tol) {
      out.status = Status::success;
      out.full = true;
      break;
    }
  }
  out.overlap = Eigen::MatrixXd::Constant(1, 1, q);
  out.residual = std::fabs(update(q) - q);
  return out;
}

}  // namespace deltacrit::alg
