// Shared numerics of the channel law: Gaussian interval moments, Gauss–Legendre rules, accuracy
// functionals. See channel_internal.hpp.
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

#include <boost/math/tools/roots.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "channel_internal.hpp"

namespace deltacrit::alg::detail {

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

double normal_pdf(double z) { return std::isinf(z) ? 0.0 : kInvSqrt2Pi * std::exp(-0.5 * z * z); }

// Φ(b) − Φ(a) without cancellation in the tails.
double normal_mass(double a, double b) {
  if (!(b > a)) return 0.0;
  if (a >= 0) return 0.5 * (std::erfc(a * kInvSqrt2) - std::erfc(b * kInvSqrt2));
  if (b <= 0) return 0.5 * (std::erfc(-b * kInvSqrt2) - std::erfc(-a * kInvSqrt2));
  return 1.0 - 0.5 * std::erfc(-a * kInvSqrt2) - 0.5 * std::erfc(b * kInvSqrt2);
}
}  // namespace

bool locate_jump(const std::function<double(double)>& f, double lo, double hi, Jump& out) {
  double flo = f(lo), fhi = f(hi);
  const double initial = std::fabs(fhi - flo);
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    const double fm = f(mid);
    if (std::fabs(fm - flo) >= std::fabs(fhi - fm)) {
      hi = mid;
      fhi = fm;
    } else {
      lo = mid;
      flo = fm;
    }
  }
  const double gap = std::fabs(fhi - flo);
  if (!(gap > 1e-9 * (1.0 + std::fabs(flo) + std::fabs(fhi))) || !(gap > 1e-6 * initial)) return false;
  out = {0.5 * (lo + hi), flo, fhi};
  return true;
}

void split_piece(const std::function<double(double)>& f, double piece_lo, double piece_hi, int cells,
                 std::vector<Segment>& segments, std::vector<Jump>& jumps) {
  const double len = piece_hi - piece_lo;
  cells = std::max(cells, 8);
  std::vector<double> r(cells + 1), v(cells + 1);
  for (int i = 0; i <= cells; ++i) {
    r[i] = piece_lo + len * i / cells;
    v[i] = f(r[i]);
  }
  // Ends from inside the piece (the value exactly at an end may belong to a neighbouring plateau).
  const double eps = 1e-13 * std::max(1.0, std::fabs(piece_lo) + std::fabs(piece_hi));
  v[0] = f(std::min(piece_lo + eps, 0.5 * (piece_lo + piece_hi)));
  v[cells] = f(std::max(piece_hi - eps, 0.5 * (piece_lo + piece_hi)));
  std::vector<Jump> found;
  for (int i = 0; i < cells; ++i) {
    const double d = std::fabs(v[i + 1] - v[i]);
    const double left = i > 0 ? std::fabs(v[i] - v[i - 1]) : 0.0;
    const double right = i + 1 < cells ? std::fabs(v[i + 2] - v[i + 1]) : 0.0;
    if (!(d > 4.0 * std::max(left, right)) || !(d > 1e-10 * (1.0 + std::fabs(v[i])))) continue;
    Jump j;
    if (locate_jump(f, r[i], r[i + 1], j)) found.push_back(j);
  }
  double lo = piece_lo, flo = v[0];
  for (const auto& j : found) {
    segments.push_back({lo, j.at, flo, j.left, lo, j.at});
    jumps.push_back(j);
    lo = j.at;
    flo = j.right;
  }
  segments.push_back({lo, piece_hi, flo, v[cells], lo, piece_hi});
}

void link_smooth_stretches(std::vector<Segment>& segments) {
  for (auto& s : segments) {
    s.slo = s.lo;
    s.shi = s.hi;
  }
  auto joined = [](const Segment& s, const Segment& t) {
    return s.hi == t.lo && std::fabs(s.f_hi - t.f_lo) <= 1e-9 * (1.0 + std::fabs(s.f_hi));
  };
  for (std::size_t i = 0; i + 1 < segments.size(); ++i)
    if (joined(segments[i], segments[i + 1])) segments[i + 1].slo = segments[i].slo;
  for (std::size_t i = segments.size(); i-- > 1;)
    if (joined(segments[i - 1], segments[i])) segments[i - 1].shi = segments[i].shi;
}

double slope_in(const std::function<double(double)>& f, double r, double lo, double hi) {
  double h = 1e-3 * std::max(1.0, std::fabs(r));
  h = std::min(h, (hi - lo) / 8.0);
  if (!(h > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (r - 2 * h >= lo && r + 2 * h <= hi) {
    return std::fabs((-f(r + 2 * h) + 8 * f(r + h) - 8 * f(r - h) + f(r - 2 * h)) / (12 * h));
  }
  const double s = (r - lo < hi - r) ? h : -h;
  return std::fabs((-25 * f(r) + 48 * f(r + s) - 36 * f(r + 2 * s) + 16 * f(r + 3 * s) - 3 * f(r + 4 * s)) /
                   (12 * s));
}

double root_in(const std::function<double(double)>& f, const Segment& s, double y) {
  auto g = [&](double x) { return f(x) - y; };
  std::uintmax_t iters = 200;
  auto br = boost::math::tools::toms748_solve(g, s.lo, s.hi, s.f_lo - y, s.f_hi - y,
                                              boost::math::tools::eps_tolerance<double>(52), iters);
  return 0.5 * (br.first + br.second);
}


std::array<double, 3> normal_interval_moments(double a, double b) {
  // ∫ φ = Φ(b) − Φ(a); ∫ z φ = φ(a) − φ(b); ∫ z² φ = ∫ φ + a φ(a) − b φ(b) (integration by parts).
  const double m0 = normal_mass(a, b);
  const double pa = normal_pdf(a), pb = normal_pdf(b);
  const double apa = std::isinf(a) ? 0.0 : a * pa;
  const double bpb = std::isinf(b) ? 0.0 : b * pb;
  return {m0, pa - pb, m0 + apa - bpb};
}

std::array<double, 3> radial_interval_moments(int k, double a, double b) {
  gsl_set_error_handler_off();
  std::array<double, 3> out{};
  if (!(b > a)) return out;
  const double norm = std::pow(2.0 * M_PI, -0.5 * k);
  for (int j = 0; j < 3; ++j) {
    const int m = k - 1 + j;
    const double s = 0.5 * (m + 1);
    const double xa = 0.5 * a * a;
    const double qa = a <= 0 ? 1.0 : gsl_sf_gamma_inc_Q(s, xa);
    const double qb = std::isinf(b) ? 0.0 : gsl_sf_gamma_inc_Q(s, 0.5 * b * b);
    double diff = qa - qb;
    // Both Q close to 1 (a, b small): use P = 1 − Q to keep relative accuracy.
    if (qa > 0.5 && qb > 0.5) diff = gsl_sf_gamma_inc_P(s, 0.5 * b * b) - (a <= 0 ? 0.0 : gsl_sf_gamma_inc_P(s, xa));
    out[j] = norm * std::pow(2.0, 0.5 * (m - 1)) * std::tgamma(s) * diff;
  }
  return out;
}

const GLRule& gauss_legendre(int n) {
  if (n < 1 || n > 64) throw InputError("n", "gauss_legendre: n must be in 1..64");
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<GLRule>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[n];
  if (slot) return *slot;
  auto rule = std::make_unique<GLRule>();
  rule->x.resize(n);
  rule->w.resize(n);
  // Newton iteration on P_n from the asymptotic initial guess (Abramowitz & Stegun 22.16.6);
  // derivative P_n'(x) = n (x P_n − P_{n−1}) / (x² − 1).
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 0.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;
      for (int j = 2; j <= n; ++j) {
        const double p2 = ((2.0 * j - 1.0) * x * p1 - (j - 1.0) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) p0 = 1.0;
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (std::fabs(dx) < 1e-16) {
        // one more evaluation of dp at the converged x
        p0 = 1.0;
        p1 = x;
        for (int j = 2; j <= n; ++j) {
          const double p2 = ((2.0 * j - 1.0) * x * p1 - (j - 1.0) * p0) / j;
          p0 = p1;
          p1 = p2;
        }
        if (n == 1) p0 = 1.0;
        dp = n * (x * p1 - p0) / (x * x - 1.0);
        break;
      }
    }
    const double w = 2.0 / ((1.0 - x * x) * dp * dp);
    rule->x[i] = -x;
    rule->x[n - 1 - i] = x;
    rule->w[i] = w;
    rule->w[n - 1 - i] = w;
  }
  if (n % 2 == 1) rule->x[n / 2] = 0.0;
  slot = std::move(rule);
  return *slot;
}

LawFunctionals functionals(const std::vector<ChannelNode>& nodes, int k) {
  const int p = k * (k + 1) / 2;
  LawFunctionals out;
  out.v.assign(1 + k + 2 * p + p * (p + 1) / 2, 0.0);
  std::vector<double> gp(p);
  for (const auto& n : nodes) {
    const double w = n.weight;
    std::size_t idx = 0;
    out.v[idx++] += w;
    for (int a = 0; a < k; ++a) out.v[idx++] += w * n.m1(a);
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) out.v[idx++] += w * n.m1(a) * n.m1(b);
    int q = 0;
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) gp[q++] = n.m2(a, b) - (a == b ? 1.0 : 0.0);
    for (int i = 0; i < p; ++i) out.v[idx++] += w * gp[i];
    for (int i = 0; i < p; ++i)
      for (int j = i; j < p; ++j) out.v[idx++] += w * gp[i] * gp[j];
  }
  return out;
}

double functional_distance(const LawFunctionals& a, const LawFunctionals& b, double floor) {
  return functional_distance_scaled(a, b, b, floor);
}

double functional_distance_scaled(const LawFunctionals& a, const LawFunctionals& b, const LawFunctionals& ref,
                                  double floor) {
  // Groups: mass | E[m1] | E[m1 m1ᵀ] | E[G] | E[G ⊗ G]. The first four are measured on the scale
  // of E[z zᵀ] = I (absolute, i.e. relative to 1); E[G ⊗ G] relative to its largest entry (the
  // scale of F), floored at `floor` — so an entry that vanishes by symmetry does not demand
  // absolute accuracy far below what λ_max(F) needs.
  const std::size_t n = std::min(a.v.size(), b.v.size());
  int k = 1;
  while (k < 3 && static_cast<std::size_t>(1 + k + k * (k + 1) + (k * (k + 1) / 2) * (k * (k + 1) / 2 + 1) / 2) != n) ++k;
  const std::size_t p = static_cast<std::size_t>(k * (k + 1) / 2);
  const std::size_t start_gg = 1 + static_cast<std::size_t>(k) + 2 * p;
  double gg_scale = floor;
  for (std::size_t i = start_gg; i < n && i < ref.v.size(); ++i) gg_scale = std::max(gg_scale, std::fabs(ref.v[i]));
  double d = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = i < start_gg ? std::max(1.0, i < ref.v.size() ? std::fabs(ref.v[i]) : 0.0) : gg_scale;
    d = std::max(d, std::fabs(a.v[i] - b.v[i]) / scale);
  }
  return d;
}

}  // namespace deltacrit::alg::detail
