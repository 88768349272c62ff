// k = 1: the law of y = g(z), z ~ N(0, 1), as a z-space rule with exact conditional moments.
//
// E_y[h(y, E[z|y], E[z²|y])] = E_z[h(g(z), m1(g(z)), m2(g(z)))]  (pitfall 2), with
// m_j(y) = Σ_r z_r^j p(z_r)/|g'(z_r)| / Σ_r p(z_r)/|g'(z_r)| over the preimages z_r of y
// (co-area formula; Mondelli & Montanari, arXiv 1708.05932, Sec. 2 use the same conditional law).
// The z-integrand is smooth between breakpoints: critical points of g, plateau ends, jumps, and
// the z where g(z) equals a critical value (there the number of preimages of y changes and
// m_j(y) has a square-root singularity in y — pitfall 3). Next to such a breakpoint z_b (a
// preimage of a critical value on another branch) m_j behaves like √|z − z_b|; the interval is
// mapped by z = z_b ± (b − a)s², whose derivative vanishes at z_b, so the integrand is smooth in s.
// Ends that are ends of the node's own monotone segment (own critical points, jumps, plateau
// ends, ±L) need no such map: there the partner preimages move smoothly. The s-intervals are
// refined adaptively (Gauss–Legendre with n nodes vs. n nodes on each half; the halves are kept).
#include <boost/math/tools/roots.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <queue>

#include "channel_internal.hpp"
#include "deltacrit/gauss/fibre.hpp"

namespace deltacrit::alg::detail {

namespace {

constexpr double kInvSqrt2Pi = 0.39894228040143267794;

struct K1Context {
  std::function<double(double)> f;
  std::vector<Segment> segments;
  std::vector<double> density;  // scratch
};

// Node at z (inside segment `own`), weight w_z (quadrature weight times φ(z)).
ChannelNode make_node(const K1Context& ctx, double z, std::size_t own, double w) {
  ChannelNode node;
  node.weight = w;
  node.y = ctx.f(z);
  double n0 = 0, n1 = 0, n2 = 0;
  for (std::size_t i = 0; i < ctx.segments.size(); ++i) {
    const auto& s = ctx.segments[i];
    double r;
    if (i == own) {
      r = z;
    } else {
      const double lo_v = std::min(s.f_lo, s.f_hi), hi_v = std::max(s.f_lo, s.f_hi);
      if (!(node.y > lo_v && node.y < hi_v)) continue;
      r = root_in(ctx.f, s, node.y);
    }
    const double slope = slope_in(ctx.f, r, s.slo, s.shi);
    if (!(slope > 0) || !std::isfinite(slope)) continue;
    const double d = kInvSqrt2Pi * std::exp(-0.5 * r * r) / slope;
    n0 += d;
    n1 += d * r;
    n2 += d * r * r;
  }
  node.m1 = Vec::Zero(1);
  node.m2 = Mat::Zero(1, 1);
  if (n0 > 0 && std::isfinite(n0)) {
    node.m1(0) = n1 / n0;
    node.m2(0, 0) = n2 / n0;
  } else {
    node.m1(0) = z;
    node.m2(0, 0) = z * z;
  }
  return node;
}

struct Interval {
  std::size_t segment;
  double a, b;    // breakpoint interval in z
  bool sing_a = false, sing_b = false;  // √-type behaviour of the integrand at a / b
  double s0, s1;  // sub-interval of the map parameter s ∈ [0, 1]
  std::vector<ChannelNode> fine;  // nodes of the two halves
  LawFunctionals coarse_f, fine_f;
  double error = 0;  // weighted distance between coarse and fine
};

// z(s) on [a, b]: q(s) = s (smooth ends), s² (singular at a), 1 − (1 − s)² (singular at b),
// 3s² − 2s³ (both).
double map_q(const Interval& iv, double s) {
  if (iv.sing_a && iv.sing_b) return s * s * (3.0 - 2.0 * s);
  if (iv.sing_a) return s * s;
  if (iv.sing_b) return 1.0 - (1.0 - s) * (1.0 - s);
  return s;
}
double map_dq(const Interval& iv, double s) {
  if (iv.sing_a && iv.sing_b) return 6.0 * s * (1.0 - s);
  if (iv.sing_a) return 2.0 * s;
  if (iv.sing_b) return 2.0 * (1.0 - s);
  return 1.0;
}
double map_z(const Interval& iv, double s) { return iv.a + (iv.b - iv.a) * map_q(iv, s); }
double map_dz(const Interval& iv, double s) { return (iv.b - iv.a) * map_dq(iv, s); }

std::vector<ChannelNode> rule_nodes(const K1Context& ctx, const Interval& iv, double s0, double s1, int n) {
  const auto& gl = gauss_legendre(n);
  std::vector<ChannelNode> out;
  out.reserve(n);
  const double half = 0.5 * (s1 - s0), mid = 0.5 * (s1 + s0);
  for (int i = 0; i < n; ++i) {
    const double s = mid + half * gl.x[i];
    const double z = map_z(iv, s);
    const double w = gl.w[i] * half * map_dz(iv, s) * kInvSqrt2Pi * std::exp(-0.5 * z * z);
    if (!(w > 0)) continue;
    out.push_back(make_node(ctx, z, iv.segment, w));
  }
  return out;
}

void evaluate_fine(const K1Context& ctx, Interval& iv, int n) {
  const double mid = 0.5 * (iv.s0 + iv.s1);
  iv.fine = rule_nodes(ctx, iv, iv.s0, mid, n);
  auto right = rule_nodes(ctx, iv, mid, iv.s1, n);
  iv.fine.insert(iv.fine.end(), right.begin(), right.end());
  iv.fine_f = functionals(iv.fine, 1);
}

// Structure of g on [−L, L]: monotone continuous segments, atoms (plateaus merged by value) and
// the critical values (segment limits and atoms; values equal to 1e-12 relative merged).
struct K1Setup {
  K1Context ctx;
  std::vector<std::pair<double, std::array<double, 3>>> atoms;  // value → ∫ φ z^j over the plateaus
  std::vector<double> critical;
  double L = 9.5;
};

bool close_values(double u, double v) { return std::fabs(u - v) <= 1e-12 * std::max(1.0, std::fabs(u) + std::fabs(v)); }

K1Setup setup_k1(const CountingLink& g, const ChannelOptions& options) {
  K1Setup su;
  su.L = options.radius > 0 ? options.radius : 9.5;
  const double L = su.L;
  const int grid = options.fibre_grid > 0 ? options.fibre_grid : 2048;
  K1Context& ctx = su.ctx;
  ctx.f = [&g](double z) { return g(&z); };

  gauss::Fibre1D fib(ctx.f, -L, L, gauss::FibreOptions{grid});

  // Atoms: plateaus, merged by value; plateaus touching ±L extend to ±∞ (mass beyond L < 1e-20).
  auto& atoms = su.atoms;
  for (const auto& p : fib.plateaus()) {
    const double lo = p.lo <= -L ? -std::numeric_limits<double>::infinity() : p.lo;
    const double hi = p.hi >= L ? std::numeric_limits<double>::infinity() : p.hi;
    const auto m = normal_interval_moments(lo, hi);
    auto it = std::find_if(atoms.begin(), atoms.end(), [&](const auto& a) { return a.first == p.value; });
    if (it == atoms.end()) {
      atoms.push_back({p.value, m});
    } else {
      for (int j = 0; j < 3; ++j) it->second[j] += m[j];
    }
  }

  // Continuous segments (pieces split at jumps) and breakpoints.
  std::vector<Jump> jumps;
  for (const auto& p : fib.pieces()) {
    const int cells = static_cast<int>(std::ceil(grid * (p.hi - p.lo) / (2 * L)));
    split_piece(ctx.f, p.lo, p.hi, std::max(cells, 8), ctx.segments, jumps);
  }
  link_smooth_stretches(ctx.segments);
  auto& critical = su.critical;
  for (const auto& s : ctx.segments) {
    critical.push_back(s.f_lo);
    critical.push_back(s.f_hi);
  }
  for (const auto& a : atoms) critical.push_back(a.first);
  // Critical values that agree to 1e-12 (relative) are one value: extrema located by Brent's
  // method carry an O(eps) error in the value, and a preimage of c ± 1e-16 next to a fold would
  // create an interval of width 1e-8 on which y is constant to rounding.
  std::sort(critical.begin(), critical.end());
  critical.erase(std::unique(critical.begin(), critical.end(), close_values), critical.end());
  return su;
}

}  // namespace

ChannelLaw build_clean_k1(const model::Link& link, const ChannelOptions& options) {
  ChannelLaw law;
  law.k = 1;
  law.diagnostics.method = "z-space";
  CountingLink g{&link};
  K1Setup su = setup_k1(g, options);
  const double L = su.L;
  K1Context& ctx = su.ctx;
  const auto& atoms = su.atoms;
  const auto& critical = su.critical;
  auto close = close_values;

  std::vector<Interval> intervals;
  for (std::size_t i = 0; i < ctx.segments.size(); ++i) {
    const auto& s = ctx.segments[i];
    if (!(s.hi > s.lo)) continue;
    // Breakpoints of this segment: its ends (smooth) and the preimages of critical values
    // (singular: another branch of the preimage set appears or ends there).
    std::vector<std::pair<double, bool>> pts{{s.lo, false}, {s.hi, false}};
    const double lo_v = std::min(s.f_lo, s.f_hi), hi_v = std::max(s.f_lo, s.f_hi);
    for (double c : critical) {
      if (c > lo_v && c < hi_v && !close(c, lo_v) && !close(c, hi_v)) pts.push_back({root_in(ctx.f, s, c), true});
    }
    std::sort(pts.begin(), pts.end());
    const double min_gap = 1e-13 * std::max(1.0, std::fabs(s.lo) + std::fabs(s.hi));
    std::vector<std::pair<double, bool>> uniq;
    for (const auto& p : pts) {
      if (!uniq.empty() && p.first - uniq.back().first <= min_gap) {
        uniq.back().second = uniq.back().second && p.second;  // a segment end wins
        continue;
      }
      uniq.push_back(p);
    }
    uniq.front().second = false;
    uniq.back().second = false;
    for (std::size_t j = 0; j + 1 < uniq.size(); ++j) {
      const double a = uniq[j].first, b = uniq[j + 1].first;
      // Initial s-subdivision: about one unit of z per sub-interval.
      const int m = std::max(1, static_cast<int>(std::ceil((b - a) / 1.0)));
      for (int q = 0; q < m; ++q) {
        Interval iv;
        iv.segment = i;
        iv.a = a;
        iv.b = b;
        iv.sing_a = uniq[j].second;
        iv.sing_b = uniq[j + 1].second;
        iv.s0 = static_cast<double>(q) / m;
        iv.s1 = static_cast<double>(q + 1) / m;
        intervals.push_back(std::move(iv));
      }
    }
  }
  law.diagnostics.panels = static_cast<int>(intervals.size());

  // Gauss–Legendre order from the tolerance: n nodes per half-interval.
  const int n = options.tol >= 1e-5 ? 6 : (options.tol >= 1e-9 ? 8 : 10);
  for (auto& iv : intervals) {
    iv.coarse_f = functionals(rule_nodes(ctx, iv, iv.s0, iv.s1, n), 1);
    evaluate_fine(ctx, iv, n);
  }

  std::vector<ChannelNode> atom_nodes;
  for (const auto& a : atoms) {
    if (!(a.second[0] > 0)) continue;
    ChannelNode node;
    node.weight = a.second[0];
    node.y = a.first;
    node.atom = true;
    node.m1 = Vec::Constant(1, a.second[1] / a.second[0]);
    node.m2 = Mat::Constant(1, 1, a.second[2] / a.second[0]);
    atom_nodes.push_back(node);
  }

  // Global adaptive refinement: split the interval with the largest error until the summed
  // error of every functional is below tol relative to max(|value|, floor).
  const double floor = 1e-3;
  auto totals = [&]() {
    LawFunctionals t = functionals(atom_nodes, 1);
    for (const auto& iv : intervals)
      for (std::size_t i = 0; i < t.v.size(); ++i) t.v[i] += iv.fine_f.v[i];
    return t;
  };
  auto interval_error = [&](const Interval& iv, const LawFunctionals& t) {
    return functional_distance_scaled(iv.fine_f, iv.coarse_f, t, floor);
  };
  const std::size_t max_intervals = 4000;
  Status status = Status::success;
  double total_error = 0;
  for (int round = 0;; ++round) {
    const auto t = totals();
    total_error = 0;
    for (auto& iv : intervals) {
      iv.error = interval_error(iv, t);
      total_error += iv.error;
    }
    if (total_error <= options.tol) break;
    if (intervals.size() >= max_intervals) {
      status = Status::not_converged;
      law.diagnostics.note = "interval budget exhausted before the tolerance was met";
      break;
    }
    // Split every interval whose error exceeds its fair share (batch refinement).
    const double share = options.tol / static_cast<double>(intervals.size());
    std::vector<Interval> next;
    next.reserve(intervals.size() * 2);
    bool split_any = false;
    for (auto& iv : intervals) {
      if (iv.error > share && (iv.s1 - iv.s0) > 1e-12) {
        split_any = true;
        const double mid = 0.5 * (iv.s0 + iv.s1);
        const std::size_t half_n = iv.fine.size() / 2;
        for (int side = 0; side < 2; ++side) {
          Interval child;
          child.segment = iv.segment;
          child.a = iv.a;
          child.b = iv.b;
          child.sing_a = iv.sing_a;
          child.sing_b = iv.sing_b;
          child.s0 = side == 0 ? iv.s0 : mid;
          child.s1 = side == 0 ? mid : iv.s1;
          std::vector<ChannelNode> coarse(iv.fine.begin() + (side == 0 ? 0 : half_n),
                                          side == 0 ? iv.fine.begin() + half_n : iv.fine.end());
          child.coarse_f = functionals(coarse, 1);
          evaluate_fine(ctx, child, n);
          next.push_back(std::move(child));
        }
      } else {
        next.push_back(std::move(iv));
      }
    }
    intervals = std::move(next);
    if (!split_any) break;
  }

  law.nodes = std::move(atom_nodes);
  law.diagnostics.atoms = static_cast<int>(law.nodes.size());
  for (auto& iv : intervals)
    for (auto& node : iv.fine) law.nodes.push_back(std::move(node));
  law.error_estimate = total_error;
  law.status = status;
  if (status == Status::success && total_error > options.tol) law.status = Status::not_converged;
  law.diagnostics.panels = static_cast<int>(intervals.size());
  law.diagnostics.truncated_mass = std::erfc(L / std::sqrt(2.0));
  law.diagnostics.critical_values = critical;
  law.diagnostics.link_evaluations = g.evaluations;
  return law;
}

ChannelLaw build_noisy_k1(const model::Link& link, double variance, const ChannelOptions& options) {
  // y' = g(z) + √Δ ε. For each outer node y' the inner integrals
  //   N'_j(y') = ∫ φ(z) z^j φ_Δ(y' − g(z)) dz + Σ_atoms ∫_plateau φ z^j · φ_Δ(y' − c)
  // run over the z where |g(z) − y'| ≤ 8√Δ, split at the preimages of y' + m√Δ,
  // m ∈ {0, ±1, ±2, ±4, ±8}, on each monotone segment (pitfall 6), with Gauss–Legendre.
  ChannelLaw law;
  law.k = 1;
  law.diagnostics.method = "z-space";
  CountingLink g{&link};
  K1Setup su = setup_k1(g, options);
  const K1Context& ctx = su.ctx;
  const double sd = std::sqrt(variance);
  const double inv_norm = 1.0 / std::sqrt(2.0 * M_PI * variance);
  const auto& gl = gauss_legendre(10);
  static constexpr std::array<double, 9> kMult = {-8, -4, -2, -1, 0, 1, 2, 4, 8};
  auto kernel = [&](double d) { return inv_norm * std::exp(-0.5 * d * d / variance); };
  std::vector<double> pts;
  auto node_at = [&](double y, double w, ChannelNode& node) {
    double n0 = 0, n1 = 0, n2 = 0;
    for (const auto& a : su.atoms) {
      const double kv = kernel(y - a.first);
      n0 += a.second[0] * kv;
      n1 += a.second[1] * kv;
      n2 += a.second[2] * kv;
    }
    for (const auto& s : ctx.segments) {
      if (!(s.hi > s.lo)) continue;
      const double lo_v = std::min(s.f_lo, s.f_hi), hi_v = std::max(s.f_lo, s.f_hi);
      if (y + 8 * sd <= lo_v || y - 8 * sd >= hi_v) continue;
      pts.clear();
      for (double m : kMult) {
        const double v = y + m * sd;
        if (v > lo_v && v < hi_v) pts.push_back(root_in(ctx.f, s, v));
      }
      // The window reaches past the segment ends: integrate up to them.
      if (y - 8 * sd < lo_v || y + 8 * sd > hi_v) {
        const bool inc = s.f_hi > s.f_lo;
        if ((inc && y - 8 * sd < lo_v) || (!inc && y + 8 * sd > hi_v)) pts.push_back(s.lo);
        if ((inc && y + 8 * sd > hi_v) || (!inc && y - 8 * sd < lo_v)) pts.push_back(s.hi);
      }
      std::sort(pts.begin(), pts.end());
      for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
        const double a = pts[i], b = pts[i + 1];
        const int m = std::max(1, static_cast<int>(std::ceil((b - a) / 0.5)));
        for (int q = 0; q < m; ++q) {
          const double lo = a + (b - a) * q / m, hi = a + (b - a) * (q + 1) / m;
          const double half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
          for (int j = 0; j < 10; ++j) {
            const double z = mid + half * gl.x[j];
            const double d = gl.w[j] * half * kInvSqrt2Pi * std::exp(-0.5 * z * z) * kernel(y - ctx.f(z));
            n0 += d;
            n1 += d * z;
            n2 += d * z * z;
          }
        }
      }
    }
    if (!(n0 > 0) || !std::isfinite(n0)) return false;
    node.weight = w * n0;
    node.y = y;
    node.m1 = Vec::Constant(1, n1 / n0);
    node.m2 = Mat::Constant(1, 1, n2 / n0);
    return true;
  };
  double ylo = std::numeric_limits<double>::infinity(), yhi = -ylo;
  for (double c : su.critical) {
    ylo = std::min(ylo, c);
    yhi = std::max(yhi, c);
  }
  ylo -= 10 * sd;
  yhi += 10 * sd;
  const auto bp = noise_breakpoints(su.critical, ylo, yhi, sd);
  const int n = options.tol >= 1e-5 ? 6 : 8;
  auto res = adaptive_law(bp, 1, node_at, options.tol, n, std::max(2 * sd, (yhi - ylo) / 32), 4000);
  law.nodes = std::move(res.nodes);
  law.error_estimate = res.error;
  law.status = res.converged ? Status::success : Status::not_converged;
  if (!res.converged) law.diagnostics.note = "interval budget exhausted before the tolerance was met";
  law.diagnostics.critical_values = su.critical;
  law.diagnostics.panels = static_cast<int>(law.nodes.size() / (2 * n));
  law.diagnostics.truncated_mass = std::erfc(su.L / std::sqrt(2.0));
  law.diagnostics.link_evaluations = g.evaluations;
  return law;
}

}  // namespace deltacrit::alg::detail
