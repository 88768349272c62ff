#include "se_numerics.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <queue>

#include "deltacrit/core/status.hpp"

namespace deltacrit::alg::se_detail {

const GLRule& gauss_legendre(int n) {
  if (n < 1 || n > 100) throw InputError("n", "gauss_legendre: n must be in 1..100");
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<GLRule>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[n];
  if (slot) return *slot;
  gsl_set_error_handler_off();
  auto rule = std::make_unique<GLRule>();
  gsl_integration_glfixed_table* t = gsl_integration_glfixed_table_alloc(static_cast<std::size_t>(n));
  rule->x.resize(n);
  rule->w.resize(n);
  for (int i = 0; i < n; ++i) gsl_integration_glfixed_point(-1.0, 1.0, static_cast<std::size_t>(i), &rule->x[i], &rule->w[i], t);
  gsl_integration_glfixed_table_free(t);
  slot = std::move(rule);
  return *slot;
}

namespace {

// log Φc(x) = log P(N(0,1) > x).
double log_upper_tail(double x) { return gsl_sf_log_erfc(x / M_SQRT2) - M_LN2; }

// Standardised moments of N(0,1) on [a, b] with 0 ≤ a < b ≤ ∞ (upper tail side).
IntervalMoments upper_tail_standard(double a, double b) {
  IntervalMoments out;
  const double la = log_upper_tail(a);
  const double lr = std::isinf(b) ? -kInf : log_upper_tail(b) - la;  // log Φc(b)/Φc(a) < 0
  const double r = std::exp(lr);
  const double omr = -std::expm1(lr);  // 1 − r without cancellation
  out.log_mass = la + std::log(omr);
  const double Ha = gsl_sf_hazard(a);  // φ(a)/Φc(a)
  const double Hb_r = std::isinf(b) ? 0.0 : gsl_sf_hazard(b) * r;
  out.mean = (Ha - Hb_r) / omr;
  const double bHb_r = std::isinf(b) ? 0.0 : b * Hb_r;
  // E[x²] = 1 + (a φ(a) − b φ(b))/Z.
  const double e2 = 1.0 + (a * Ha - bHb_r) / omr;
  out.var = std::max(0.0, e2 - out.mean * out.mean);
  if (a > 30 && r < 1e-17) {
    // 1 + aR − R² cancels catastrophically far in the tail; its asymptotic series (from
    // R = a + 1/a − 2/a³ + 10/a⁵ − 74/a⁷ + …) has relative error < 2e-10 for a > 30.
    const double x = 1.0 / (a * a);
    out.var = x * (1 + x * (-6 + x * (50 + x * (-518 + x * 6354))));
  }
  return out;
}

// Standardised moments on a narrow interval by Gauss–Legendre (centred; relative to the largest
// density value on the interval).
IntervalMoments narrow_standard(double a, double b) {
  const auto& gl = gauss_legendre(16);
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  // Reference exponent: the point of [a, b] closest to 0.
  const double x0 = (a > 0) ? a : (b < 0 ? b : 0.0);
  const double l0 = -0.5 * x0 * x0;
  double s0 = 0, s1 = 0;
  double xs[16], ws[16];
  for (int i = 0; i < 16; ++i) {
    xs[i] = c + h * gl.x[i];
    ws[i] = gl.w[i] * h * std::exp(-0.5 * xs[i] * xs[i] - l0);
    s0 += ws[i];
    s1 += ws[i] * xs[i];
  }
  IntervalMoments out;
  out.mean = s1 / s0;
  double s2 = 0;
  for (int i = 0; i < 16; ++i) s2 += ws[i] * (xs[i] - out.mean) * (xs[i] - out.mean);
  out.var = s2 / s0;
  out.log_mass = std::log(s0) + l0 - kLogSqrt2Pi;
  return out;
}

IntervalMoments standard_interval(double a, double b) {
  if (!(b > a)) return {};
  const double scale = std::max({1.0, std::fabs(a), std::fabs(b)});
  if (std::isfinite(a) && std::isfinite(b) && (b - a) * scale < 1.0) return narrow_standard(a, b);
  if (a >= 0) return upper_tail_standard(a, b);
  if (b <= 0) {
    IntervalMoments m = upper_tail_standard(-b, -a);
    m.mean = -m.mean;
    return m;
  }
  // a < 0 < b: mass ≥ min(Φc(b), Φ(a))-ish, no tail cancellation; write it as 1 − Φc(b) − Φc(−a).
  IntervalMoments out;
  const double qa = std::isinf(a) ? 0.0 : 0.5 * std::erfc(-a / M_SQRT2);  // Φ(a)
  const double qb = std::isinf(b) ? 0.0 : 0.5 * std::erfc(b / M_SQRT2);   // Φc(b)
  const double Z = 1.0 - qa - qb;
  const double pa = std::isinf(a) ? 0.0 : std::exp(-0.5 * a * a - kLogSqrt2Pi);
  const double pb = std::isinf(b) ? 0.0 : std::exp(-0.5 * b * b - kLogSqrt2Pi);
  out.log_mass = std::log(Z);
  out.mean = (pa - pb) / Z;
  const double apa = std::isinf(a) ? 0.0 : a * pa;
  const double bpb = std::isinf(b) ? 0.0 : b * pb;
  out.var = std::max(0.0, 1.0 + (apa - bpb) / Z - out.mean * out.mean);
  return out;
}

}  // namespace

IntervalMoments gaussian_interval(double lo, double hi, double omega, double V) {
  const double s = std::sqrt(V);
  const double a = std::isinf(lo) ? lo : (lo - omega) / s;
  const double b = std::isinf(hi) ? hi : (hi - omega) / s;
  IntervalMoments m = standard_interval(a, b);
  m.mean = omega + s * m.mean;
  m.var *= V;
  return m;
}

std::vector<double> graded_panels(double a, double b, const std::vector<double>& graded, double coarse,
                                  double h0, double ratio, double finest) {
  std::vector<double> pts{a, b};
  for (double g : graded) {
    if (g < a || g > b) continue;
    pts.push_back(g);
    for (double h = h0; h >= finest; h *= ratio) {
      if (g - h > a) pts.push_back(g - h);
      if (g + h < b) pts.push_back(g + h);
    }
  }
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  std::vector<double> out;
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    out.push_back(pts[i]);
    const double w = pts[i + 1] - pts[i];
    const int m = static_cast<int>(std::ceil(w / coarse));
    for (int j = 1; j < m; ++j) out.push_back(pts[i] + w * j / m);
  }
  out.push_back(pts.back());
  return out;
}

namespace {
// Kronrod 15-point abscissae/weights and the embedded Gauss 7-point weights (QUADPACK qk15).
constexpr double kXgk[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                            0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                            0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                            0.207784955007898467600689403773245, 0.000000000000000000000000000000000};
constexpr double kWgk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                            0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                            0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                            0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
constexpr double kWg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                           0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

template <std::size_t N>
struct Segment {
  double a, b;
  std::array<double, N> value;
  double error;
  bool operator<(const Segment& o) const { return error < o.error; }
};

template <std::size_t N>
Segment<N> gk15(const std::function<std::array<double, N>(double)>& f, double a, double b) {
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  std::array<double, N> k{}, g{};
  const auto fc = f(c);
  for (std::size_t n = 0; n < N; ++n) {
    k[n] = kWgk[7] * fc[n];
    g[n] = kWg[3] * fc[n];
  }
  for (int j = 0; j < 7; ++j) {
    const auto f1 = f(c - h * kXgk[j]);
    const auto f2 = f(c + h * kXgk[j]);
    for (std::size_t n = 0; n < N; ++n) {
      k[n] += kWgk[j] * (f1[n] + f2[n]);
      if (j % 2 == 1) g[n] += kWg[j / 2] * (f1[n] + f2[n]);
    }
  }
  Segment<N> s{a, b, {}, 0.0};
  for (std::size_t n = 0; n < N; ++n) s.value[n] = k[n] * h;
  s.error = std::fabs((k[0] - g[0]) * h);
  return s;
}
}  // namespace

template <std::size_t N>
VecQuad<N> integrate_vec(const std::function<std::array<double, N>(double)>& f, std::vector<double> points,
                         double abs_tol, double rel_tol, int max_intervals) {
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  VecQuad<N> out;
  std::priority_queue<Segment<N>> queue;
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    if (points[i + 1] > points[i]) {
      queue.push(gk15<N>(f, points[i], points[i + 1]));
      out.evaluations += 15;
    }
  }
  auto totals = [&](std::array<double, N>& v, double& err) {
    v.fill(0.0);
    err = 0.0;
    auto copy = queue;
    while (!copy.empty()) {
      for (std::size_t n = 0; n < N; ++n) v[n] += copy.top().value[n];
      err += copy.top().error;
      copy.pop();
    }
  };
  std::array<double, N> v{};
  double err = 0.0;
  // Running sums are recomputed only every few bisections (the queue is small).
  totals(v, err);
  while (static_cast<int>(queue.size()) < max_intervals) {
    if (err <= std::max(abs_tol, rel_tol * std::fabs(v[0]))) {
      out.converged = true;
      break;
    }
    const Segment<N> worst = queue.top();
    queue.pop();
    const double mid = 0.5 * (worst.a + worst.b);
    if (!(mid > worst.a && mid < worst.b)) {
      queue.push(worst);
      break;
    }
    auto l = gk15<N>(f, worst.a, mid);
    auto r = gk15<N>(f, mid, worst.b);
    out.evaluations += 30;
    for (std::size_t n = 0; n < N; ++n) v[n] += l.value[n] + r.value[n] - worst.value[n];
    err += l.error + r.error - worst.error;
    queue.push(l);
    queue.push(r);
  }
  totals(v, err);
  if (!out.converged) out.converged = err <= std::max(abs_tol, rel_tol * std::fabs(v[0]));
  out.value = v;
  out.error = err;
  return out;
}

template VecQuad<3> integrate_vec<3>(const std::function<std::array<double, 3>(double)>&, std::vector<double>, double,
                                     double, int);

}  // namespace deltacrit::alg::se_detail
