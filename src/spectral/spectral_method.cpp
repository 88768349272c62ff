#include "deltacrit/spectral/spectral_method.hpp"

#include <boost/math/tools/roots.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/model/expression.hpp"

namespace deltacrit::spectral {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

// Root of a monotone-in-bracket function with TOMS748 to relative tolerance `rel`.
template <class F>
double root(const F& f, double a, double b, double fa, double fb, double rel, Status& status) {
  std::uintmax_t it = 300;
  auto tol = [&](double x, double y) { return std::fabs(x - y) <= rel * std::max(std::fabs(x), std::fabs(y)) + 1e-300; };
  auto br = boost::math::tools::toms748_solve(f, a, b, fa, fb, tol, it);
  if (it >= 300) status = worst(status, Status::not_converged);
  return 0.5 * (br.first + br.second);
}
}  // namespace

void SpectralMethodOptions::validate() const {
  channel.validate();
  if (!(root_tol > 0 && root_tol <= 1e-4)) throw InputError("root_tol", "root_tol must be in (0, 1e-4]");
  if (!(delta_min > 0 && delta_max > delta_min && std::isfinite(delta_max))) {
    throw InputError("delta_max", "the threshold search range needs 0 < delta_min < delta_max < inf");
  }
}

SpectralPredictor::SpectralPredictor(const model::Link& link, const model::Noise& noise, const std::string& preprocess,
                                     const SpectralMethodOptions& options)
    : k_(link.k()), preprocess_(preprocess), options_(options) {
  options_.validate();
  if (preprocess == "optimal") kind_ = Kind::optimal;
  else if (preprocess == "mm") kind_ = Kind::mm;
  else kind_ = Kind::expression;
  if (preprocess.empty()) {
    throw InputError("preprocess", "preprocess: empty (accepted: optimal, mm, or an expression in y such as 'min(y,2)')");
  }
  if (k_ >= 2) {
    if (kind_ != Kind::optimal) {
      throw InputError("preprocess", "preprocess: for k = " + std::to_string(k_) +
                                         " only 'optimal' is supported (the optimal multi-index spectral method of "
                                         "arXiv 2502.02545, whose threshold is delta_alg); got '" + preprocess + "'");
    }
    alg::AlgOptions ao;
    ao.tol = std::max(1e-6, options_.channel.tol);
    const auto res = alg::compute_delta_alg(link, noise, ao);
    delta_alg_ = res.delta_alg;
    delta_u_ = res.delta_alg;
    return;
  }
  double c = 0;  // E[E[z|y]²] over the observed labels
  if (options_.channel_law || noise.kind == model::Noise::Kind::gaussian) {
    law_ = alg::build_channel_law(link, noise, options_.channel);
    double kept = 0;
    for (const auto& n : law_.nodes) {
      if (!n.erased) kept += n.weight;
    }
    kept_ = kept;
    for (const auto& n : law_.nodes) {
      if (n.erased) continue;
      w_.push_back(n.weight / kept);
      y_.push_back(n.y);
      Z_.push_back(n.m2(0, 0));
      c += w_.back() * n.m1(0) * n.m1(0);
    }
  } else {
    build_z_law(link, noise);
    c = c_;
  }
  double fisher = 0;
  for (std::size_t j = 0; j < w_.size(); ++j) fisher += w_[j] * (Z_[j] - 1) * (Z_[j] - 1);
  delta_u_ = fisher > 0 ? 1.0 / fisher : kInf;
  // k = 1: δ_alg = 0 if E[z|y] ≠ 0 (trivial; decided by symmetry for even links, tolerance 1e-10
  // otherwise — pitfall 1), else 1/E[(Z_y − 1)²] (Mondelli–Montanari), for the user's δ.
  delta_alg_ = c > 1e-10 ? 0.0 : delta_u_ / kept_;
  if (kind_ == Kind::mm && !std::isfinite(delta_u_)) {
    throw InputError("preprocess", "preprocess: 'mm' needs E[(E[z^2|y] - 1)^2] > 0; this channel has none");
  }
  if (kind_ == Kind::expression) {
    model::Expression T(preprocess, {"y"}, "preprocess");
    T_expr_.resize(y_.size());
    for (std::size_t j = 0; j < y_.size(); ++j) {
      const double v = T(std::span<const double>(&y_[j], 1));
      if (!std::isfinite(v)) {
        throw InputError("preprocess", "preprocess: T(y) = '" + preprocess + "' is not finite at y = " + num(y_[j]) +
                                           ", a point of the support of y (the preprocessing must be finite on the "
                                           "support; trim it, e.g. min(" + preprocess + ", 10))");
      }
      T_expr_[j] = v;
    }
  }
  compute_tau(link, noise);
}

void SpectralPredictor::build_z_law(const model::Link& link, const model::Noise& noise) {
  // Observed labels only: erased ones are dropped (δ_eff = (1 − ε)δ), as the simulator does.
  const bool erase = noise.kind == model::Noise::Kind::erase;
  kept_ = erase ? 1.0 - noise.param : 1.0;
  const model::Noise clean_or_noise = erase ? model::Noise{} : noise;
  alg::DenoiserOptions dopt;
  dopt.radius = options_.channel.radius > 0 ? options_.channel.radius : 9.5;
  dopt.fibre_grid = options_.channel.fibre_grid > 0 ? options_.channel.fibre_grid : 4096;
  alg::ScalarDenoiser den(link, clean_or_noise, dopt);
  const auto& fib = den.fibre();
  const double R = dopt.radius;
  std::vector<double> singular;
  for (double p : fib.structure_points()) singular.push_back(p);
  for (double cv : fib.critical_values()) {
    std::vector<gauss::Fibre1D::Preimage> pre;
    fib.preimages(cv, pre);
    for (const auto& p : pre) singular.push_back(p.r);
  }
  if (kind_ == Kind::expression) {
    auto T = std::make_shared<model::Expression>(preprocess_, std::vector<std::string>{"y"}, "preprocess");
    model::Link lcopy = link;
    const gauss::Fibre1D tg([T, lcopy](double z) { const double y = lcopy(&z); return (*T)(std::span<const double>(&y, 1)); },
                            -R, R, gauss::FibreOptions{dopt.fibre_grid});
    for (double p : tg.structure_points()) singular.push_back(p);
  }
  std::sort(singular.begin(), singular.end());
  const double finest = 1e-9, ratio = 0.3, coarse = 0.5;
  std::vector<double> ends{-R, R};
  for (double g : singular) {
    if (g <= -R || g >= R) continue;
    ends.push_back(g);
    for (double h = coarse; h >= finest; h *= ratio) {
      ends.push_back(g - h);
      ends.push_back(g + h);
    }
  }
  std::sort(ends.begin(), ends.end());
  std::vector<double> pts;
  for (double e : ends) {
    if (e < -R || e > R) continue;
    if (pts.empty() || e > pts.back()) pts.push_back(e);
  }
  std::vector<double> fine;
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    fine.push_back(pts[i]);
    const int m = static_cast<int>(std::ceil((pts[i + 1] - pts[i]) / coarse));
    for (int j = 1; j < m; ++j) fine.push_back(pts[i] + (pts[i + 1] - pts[i]) * j / m);
  }
  fine.push_back(pts.back());
  // Gauss–Legendre nodes (16 per panel) on the monotone pieces of g; plateaus are atoms.
  static const double x16[8] = {0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
                                0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499};
  static const double w16[8] = {0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
                                0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541};
  auto in_piece = [&](double z) {
    for (const auto& p : fib.pieces()) {
      if (z > p.lo && z < p.hi) return true;
    }
    return false;
  };
  double c = 0;
  for (std::size_t i = 0; i + 1 < fine.size(); ++i) {
    const double a = fine[i], b = fine[i + 1];
    const double mid = 0.5 * (a + b), hw = 0.5 * (b - a);
    if (!in_piece(mid)) continue;
    for (int j = 0; j < 16; ++j) {
      const double x = j < 8 ? -x16[7 - j] : x16[j - 8];
      const double wgl = j < 8 ? w16[7 - j] : w16[j - 8];
      const double z = mid + hw * x;
      const double w = wgl * hw * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
      if (!(w > 1e-300)) continue;
      const double y = den.link_value(z);
      auto lab = den.prepare(y);
      if (lab.atom) continue;
      // The node's own preimage is z itself (root finding is ill-conditioned near critical points).
      const double own = -std::log(fib.abs_slope(z));
      if (!std::isfinite(own)) continue;
      std::size_t best = lab.z.size();
      for (std::size_t r = 0; r < lab.z.size(); ++r) {
        if (std::fabs(lab.z[r] - z) < 1e-6 * std::max(1.0, std::fabs(z)) &&
            (best == lab.z.size() || std::fabs(lab.z[r] - z) < std::fabs(lab.z[best] - z))) best = r;
      }
      if (best == lab.z.size()) {
        lab.z.push_back(z);
        lab.log_a.push_back(own);
      } else {
        lab.z[best] = z;
        lab.log_a[best] = own;
      }
      const auto post = den.posterior(lab, 0.0, 1.0);
      w_.push_back(w);
      y_.push_back(y);
      Z_.push_back(post.var + post.mean * post.mean);
      c += w * post.mean * post.mean;
    }
  }
  for (const auto& atom : den.atoms()) {
    if (noise.kind == model::Noise::Kind::flip && !(atom.value == 1.0 || atom.value == -1.0)) continue;
    const auto post = den.posterior(atom.value, 0.0, 1.0);
    const double p = noise.kind == model::Noise::Kind::flip ? std::exp(post.log_evidence) : atom.probability;
    w_.push_back(p);
    y_.push_back(atom.value);
    Z_.push_back(post.var + post.mean * post.mean);
    c += p * post.mean * post.mean;
  }
  double total = 0;
  for (double w : w_) total += w;
  for (double& w : w_) w /= total;
  c_ = den.even() ? 0.0 : c / total;
}

double SpectralPredictor::T_of(double, double Z, double delta) const {
  switch (kind_) {
    case Kind::optimal: return 1.0 - 1.0 / Z;
    case Kind::mm: return (Z - 1.0) / (Z + std::sqrt(delta / delta_u_) - 1.0);
    default: return 0.0;
  }
}

std::vector<double> SpectralPredictor::T_nodes(double delta) const {
  if (kind_ == Kind::expression) return T_expr_;
  std::vector<double> t(y_.size());
  for (std::size_t j = 0; j < y_.size(); ++j) t[j] = T_of(y_[j], Z_[j], delta);
  return t;
}

void SpectralPredictor::compute_tau(const model::Link& link, const model::Noise& noise) {
  // ess sup T: the nodes of the law, a dense grid of g on |z| ≤ radius and the tail sequence
  // z = ±R·2^j (j = 1..6). An increasing tail whose increments do not shrink geometrically (ratio
  // < 0.8 over the last doublings) is declared unbounded.
  const double R = options_.channel.radius > 0 ? options_.channel.radius : 9.5;
  const double noise_pad = noise.kind == model::Noise::Kind::gaussian ? 8 * std::sqrt(noise.param) : 0.0;
  if (kind_ == Kind::expression) {
    model::Expression T(preprocess_, {"y"}, "preprocess");
    auto Ty = [&](double y) { return T(std::span<const double>(&y, 1)); };
    double tau = -kInf;
    for (double t : T_expr_) tau = std::max(tau, t);
    for (int i = -4000; i <= 4000; ++i) {
      double z = R * i / 4000.0;
      const double g = link(&z);
      for (double y : {g - noise_pad, g, g + noise_pad}) {
        const double v = Ty(y);
        if (std::isfinite(v)) tau = std::max(tau, v);
      }
    }
    for (double sgn : {1.0, -1.0}) {
      std::vector<double> tail;
      for (int j = 1; j <= 6; ++j) {
        double z = sgn * R * std::pow(2.0, j);
        const double g = link(&z);
        double best = -kInf;
        for (double y : {g - noise_pad, g, g + noise_pad}) {
          const double v = Ty(y);
          if (!std::isfinite(v)) {
            unbounded_ = true;
            unbounded_reason_ = "T(y) is not finite at y = " + num(y) + " (z = " + num(z) + ")";
            tau_expr_ = kInf;
            return;
          }
          best = std::max(best, v);
        }
        tail.push_back(best);
      }
      const std::size_t n = tail.size();
      const double d1 = tail[n - 1] - tail[n - 2], d2 = tail[n - 2] - tail[n - 3], d3 = tail[n - 3] - tail[n - 4];
      if (d1 > 0 && d2 > 0 && d3 > 0 && (d1 > 0.8 * d2 || d2 > 0.8 * d3) && tail.back() > tau) {
        unbounded_ = true;
        unbounded_reason_ = "T(y) = '" + preprocess_ + "' is unbounded above on the support of y (it grows without "
                            "limit along z -> " + std::string(sgn > 0 ? "+" : "-") + "inf: " + num(tail[n - 3]) + ", " +
                            num(tail[n - 2]) + ", " + num(tail[n - 1]) +
                            "); the top eigenvalue follows max_i T(y_i) -> inf, so there is no transition at any fixed delta";
        tau_expr_ = kInf;
        return;
      }
      // Converging tail: Aitken extrapolation of the last three values.
      double limit = tail.back();
      if (d1 > 0 && d2 > d1) {
        const double denom = d1 - d2;
        limit = tail[n - 1] - d1 * d1 / denom;
      }
      tau = std::max(tau, limit);
    }
    tau_expr_ = tau;
    return;
  }
  // optimal / mm: T is increasing in Z_y, so τ = T(sup Z_y). Z_y along the tail with a wide-range
  // denoiser: Z growing ∝ z² means sup Z = +∞.
  double zsup = 0;
  for (double z : Z_) zsup = std::max(zsup, z);
  alg::DenoiserOptions dopt;
  dopt.radius = 30;
  dopt.fibre_grid = 8192;
  alg::ScalarDenoiser den(link, noise.kind == model::Noise::Kind::erase ? model::Noise{} : noise, dopt);
  std::vector<double> tail;
  for (double z : {10.0, 15.0, 20.0, 25.0, 28.0}) {
    double best = 0;
    for (double s : {1.0, -1.0}) {
      double zz = s * z;
      const double y = link(&zz);
      const auto post = den.posterior(y, 0.0, 1.0);
      if (!post.empty) best = std::max(best, post.var + post.mean * post.mean);
    }
    tail.push_back(best);
  }
  if (tail.back() > 0.25 * 28.0 * 28.0 && tail.back() > tail[tail.size() - 2] && tail[2] > tail[1]) {
    Z_sup_ = kInf;
  } else {
    Z_sup_ = std::max(zsup, *std::max_element(tail.begin(), tail.end()));
  }
}

double SpectralPredictor::tau(double delta) const {
  if (kind_ == Kind::expression) return tau_expr_;
  if (!std::isfinite(Z_sup_)) return kind_ == Kind::optimal ? 1.0 : 1.0;
  return T_of(0.0, Z_sup_, delta);
}

SpectralPredictor::Functionals SpectralPredictor::functionals(double lambda, double delta) const {
  Functionals f;
  const auto T = T_nodes(delta);
  for (std::size_t j = 0; j < T.size(); ++j) {
    const double r = 1.0 / (lambda - T[j]);
    f.A += w_[j] * T[j] * T[j] * r * r;
    f.B += w_[j] * T[j] * (Z_[j] - 1.0) * r;
    f.C += w_[j] * T[j] * T[j] * Z_[j] * r * r;
    f.E1 += w_[j] * T[j] * r;
  }
  return f;
}

SpectralPoint SpectralPredictor::at(double delta) const {
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be a finite number > 0 (got " + num(delta) + ")");
  return at_effective(delta * kept_, delta);
}

SpectralPoint SpectralPredictor::at_effective(double d, double delta_user) const {
  SpectralPoint p;
  p.delta = delta_user;
  p.status = Status::success;
  if (k_ >= 2) {
    p.outlier = delta_user > delta_alg_;
    p.defined = false;
    p.note = "k >= 2: only the threshold of the optimal multi-index spectral method is predicted (arXiv 2502.02545)";
    return p;
  }
  if (unbounded_) {
    p.defined = true;
    p.outlier = false;
    p.bulk_edge = p.top_eigenvalue = p.lambda_bar = p.lambda_star = kInf;
    p.overlap = 0.0;
    p.note = unbounded_reason_;
    return p;
  }
  if (kind_ == Kind::mm && !(d > delta_u_)) {
    p.defined = false;
    p.outlier = false;
    p.overlap = 0.0;
    p.note = "mm preprocessing is defined for delta > delta_u = " + num(delta_u_) + " only";
    return p;
  }
  const double inv = 1.0 / d;
  const double tau_v = tau(d);
  const auto T = T_nodes(d);
  auto F = [&](double lambda) { return functionals(lambda, d); };
  // A at τ⁺ (node sum; +∞ if a node sits at τ, e.g. a plateau of T).
  double A_tau = 0;
  for (std::size_t j = 0; j < T.size(); ++j) {
    const double gap = tau_v - T[j];
    if (!(gap > 0)) {
      A_tau = kInf;
      break;
    }
    A_tau += w_[j] * T[j] * T[j] / (gap * gap);
  }
  const double scale = std::max(1.0, std::fabs(tau_v));
  double lbar = tau_v;
  if (A_tau > inv) {
    // A decreases from A(τ⁺) to 0 on (τ, ∞): bracket in s = λ − τ on a log scale.
    double s_hi = scale;
    while (F(tau_v + s_hi).A > inv) s_hi *= 2;
    double s_lo = s_hi;
    while (F(tau_v + s_lo).A <= inv && s_lo > 1e-300) s_lo *= 0.5;
    auto f = [&](double s) { return F(tau_v + s).A - inv; };
    if (s_lo == s_hi) s_hi *= 2;
    lbar = tau_v + root(f, s_lo, s_hi, f(s_lo), f(s_hi), options_.root_tol, p.status);
  }
  p.lambda_bar = lbar;
  const auto Fb = F(lbar);
  const double Eb = std::isfinite(Fb.E1) ? Fb.E1 : 0.0;
  p.bulk_edge = lbar * (inv + Eb);
  p.outlier = Fb.B > inv;
  if (!p.outlier) {
    p.lambda_star = lbar;
    p.top_eigenvalue = p.bulk_edge;
    p.overlap = 0.0;
    return p;
  }
  // Largest root of B(λ) = 1/δ on (λ̄, ∞): geometric scan of s = λ − λ̄ from a tiny step upwards.
  auto g = [&](double s) { return F(lbar + s).B - inv; };
  double s = 1e-12 * scale, last_pos = -1;
  double s_max = scale;
  while (g(s_max) > 0) s_max *= 2;
  for (; s < s_max; s *= 2) {
    if (g(s) > 0) last_pos = s;
  }
  double a = last_pos > 0 ? last_pos : 0.0;
  double b = a > 0 ? std::min(2 * a, s_max) : s_max;
  if (!(g(b) <= 0)) b = s_max;
  const double ga = a > 0 ? g(a) : Fb.B - inv;
  const double ss = root(g, a, b, ga, g(b), options_.root_tol, p.status);
  p.lambda_star = lbar + ss;
  const auto Fs = F(p.lambda_star);
  p.top_eigenvalue = p.lambda_star * (inv + Fs.E1);
  const double num_ = inv - Fs.A;
  p.overlap = num_ / (num_ + Fs.C);
  if (!(p.overlap >= 0 && p.overlap <= 1)) p.status = Status::numerical_issue;
  return p;
}

SpectralThreshold SpectralPredictor::threshold() const {
  SpectralThreshold t;
  t.status = Status::success;
  if (k_ >= 2) {
    t.exists = std::isfinite(delta_alg_);
    t.delta = delta_alg_;
    t.bracket = {delta_alg_, delta_alg_};
    t.reason = "optimal multi-index spectral method (arXiv 2502.02545): threshold = delta_alg = 1/lambda_max(F)";
    if (!t.exists) t.reason += "; no easy direction (hard link): no transition";
    return t;
  }
  if (unbounded_) {
    t.exists = false;
    t.delta = kInf;
    t.reason = unbounded_reason_;
    return t;
  }
  // Outlier indicator on a log grid of δ (user δ), then bisection on the sign of B(λ̄) − 1/δ.
  auto has = [&](double delta) { return at(delta).outlier; };
  const int n = 81;
  const double l0 = std::log(options_.delta_min), l1 = std::log(options_.delta_max);
  double prev = options_.delta_min;
  if (has(prev)) {
    t.exists = true;
    t.delta = prev;
    t.bracket = {0.0, prev};
    t.reason = "an outlier exists already at delta_min = " + num(prev) + " (trivial direction)";
    return t;
  }
  for (int i = 1; i < n; ++i) {
    const double d = std::exp(l0 + (l1 - l0) * i / (n - 1));
    if (has(d)) {
      double a = prev, b = d;
      for (int it = 0; it < 200 && (b - a) > options_.root_tol * b; ++it) {
        const double m = 0.5 * (a + b);
        (has(m) ? b : a) = m;
      }
      t.exists = true;
      t.delta = 0.5 * (a + b);
      t.bracket = {a, b};
      t.reason = "smallest delta with B(lambda_bar) > 1/delta (bisection)";
      return t;
    }
    prev = d;
  }
  t.exists = false;
  t.delta = kInf;
  t.reason = "no outlier for delta <= " + num(options_.delta_max);
  return t;
}

}  // namespace deltacrit::spectral
