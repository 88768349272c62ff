// k = 2, 3: the law of y = g(z), z ~ N(0, I_k), through rays z = r·u.
//
// Co-area formula in polar coordinates: for φ ∈ {1, z, zzᵀ} the level-set integrals
//   N_φ(y) = ∫_{S^{k−1}} dσ(u) Σ_{r: g(ru) = y} ρ_k(r) φ(ru) / |∂_r g(ru)|,
//   ρ_k(r) = r^{k−1} e^{−r²/2} / (2π)^{k/2},
// give p(y) = N_1(y) and E[φ(z)|y] = N_φ(y)/N_1(y). Evaluating N_φ pointwise puts a 1/|∂_r g|
// singularity wherever a ray is tangent to a level set (a fold), at angles that depend on y.
// Instead we compute the Legendre moments of N_φ on y-panels Y_p,
//   c_{p,l}[φ] = ∫_{Y_p} N_φ(y) P_l(ŷ) dy = ∫ dσ(u) ∫_0^R ρ_k(r) φ(ru) P_l(ŷ(g(ru))) 1{g(ru) ∈ Y_p} dr,
// (ŷ the affine map of Y_p onto [−1, 1]) — plain z-space integrals (pitfall 2) whose angular
// integrands have at most √-type kinks. Along a ray the r-integral runs over the sub-intervals
// between the preimages of the panel edges (Gauss–Legendre in r; no division by ∂_r g); plateaus
// of the ray are atoms with closed-form radial moments (incomplete gamma). N_φ is then rebuilt
// on each panel, N_φ(y) = Σ_l (2l + 1)/|Y_p| c_{p,l} P_l(ŷ), and evaluated at the panel's
// Gauss–Legendre nodes, which become the nodes of the law. Panel edges sit at the critical values
// of g (g(0), extremes over u of the fold values of the rays, atoms, one-sided limits at the
// origin) with geometric grading towards them (N_φ has log- or power-type singularities there),
// and at quantiles of y elsewhere (y is never truncated by mass; tail panels reach the values of g
// at |z| = R).
//
// Angular integration: k = 2 over θ ∈ [0, 2π); k = 3 nested, polar angle α ∈ [0, π] outside
// (dσ = sin α dα dβ), azimuth β inside. Each circle is cut into sectors at the angles where the
// ray structure changes (a plateau value, the order of monotone pieces, or a jump of g across a
// cone through the origin, e.g. sign(z1 z2) at θ = kπ/2), located by bisection to ~1e-13; within
// sectors composite Gauss–Legendre is refined adaptively (n nodes vs. n on each half).
//
// Error estimate: the whole law is rebuilt from the coarse angular rules and Legendre degree
// L − 3 and compared with the fine one on the reference functionals (channel.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "channel_internal.hpp"
#include "deltacrit/gauss/fibre.hpp"

#include <boost/math/tools/minima.hpp>

namespace deltacrit::alg::detail {

namespace {

constexpr double kTwoPi = 6.283185307179586476925;

// ----------------------------------------------------------------------------------------------
// Rays

struct RayStructure {
  std::vector<Segment> segments;
  std::vector<gauss::Fibre1D::Plateau> plateaus;
  std::vector<double> signature;  // piece directions (±1) and plateau markers (0, value) along r
  std::vector<double> samples;    // g(r_i u) at fixed radii (detects jumps of g across cones)
  std::vector<double> folds;      // values of g at interior extrema along the ray
  double f0 = 0;                  // g(0⁺ u)
};

// Radii at which rays are sampled to compare neighbouring rays.
constexpr std::array<double, 5> kSampleRadii = {1e-9, 0.7, 1.5, 2.5, 4.0};
// Structure beyond this radius does not define sectors (Gaussian mass beyond it < 1e-8).
constexpr double kSignatureRadius = 6.5;

struct Direction {
  double u[3] = {0, 0, 0};
};

class RayEngine {
 public:
  RayEngine(const model::Link& link, int k, double R, int grid) : g_{&link}, k_(k), R_(R), grid_(grid) {}

  long evaluations() const { return g_.evaluations; }
  int k() const { return k_; }
  double R() const { return R_; }

  double value(const Direction& d, double r) const {
    double z[3];
    for (int i = 0; i < k_; ++i) z[i] = r * d.u[i];
    return g_(z);
  }
  std::function<double(double)> along(const Direction& d) const {
    return [this, d](double r) { return value(d, r); };
  }

  RayStructure structure(const Direction& d) const {
    RayStructure st;
    auto f = along(d);
    gauss::Fibre1D fib(f, 0.0, R_, gauss::FibreOptions{grid_});
    st.plateaus = fib.plateaus();
    std::vector<Jump> jumps;
    for (const auto& p : fib.pieces()) {
      // Jumps inside monotone pieces are rare along rays: a coarser scan (a quarter of the grid).
      const int cells = std::max(8, static_cast<int>(std::ceil(0.25 * grid_ * (p.hi - p.lo) / R_)));
      split_piece(f, p.lo, p.hi, cells, st.segments, jumps);
    }
    std::sort(st.segments.begin(), st.segments.end(), [](const Segment& a, const Segment& b) { return a.lo < b.lo; });
    link_smooth_stretches(st.segments);
    // Signature: the sequence of pieces and plateaus along r (inside kSignatureRadius).
    struct Item {
      double lo;
      double code, value;
    };
    std::vector<Item> items;
    // Pieces shorter than 1e-6·R carry no mass: they are artefacts of where Brent's method stopped
    // next to a jump (e.g. the value of g exactly at the origin) and must not define sectors.
    const double min_len = 1e-6 * R_;
    for (const auto& s : st.segments) {
      if (s.lo >= kSignatureRadius || !(s.hi - s.lo > min_len)) continue;
      items.push_back({s.lo, s.f_hi > s.f_lo ? 1.0 : -1.0, 0.0});
    }
    for (const auto& p : st.plateaus) {
      if (p.lo >= kSignatureRadius || !(p.hi - p.lo > min_len)) continue;
      items.push_back({p.lo, 0.0, p.value});
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.lo < b.lo; });
    for (const auto& it : items) {
      if (it.code != 0.0 && !st.signature.empty() && st.signature.back() == it.code) continue;
      st.signature.push_back(it.code);
      if (it.code == 0.0) st.signature.push_back(it.value);
    }
    for (double r : kSampleRadii) st.samples.push_back(f(r));
    st.f0 = st.samples[0];
    for (std::size_t i = 0; i + 1 < st.segments.size(); ++i) {
      const auto& a = st.segments[i];
      const auto& b = st.segments[i + 1];
      if (a.hi == b.lo && a.shi > a.hi && (a.f_hi - a.f_lo) * (b.f_hi - b.f_lo) < 0) st.folds.push_back(a.f_hi);
    }
    return st;
  }

 private:
  CountingLink g_;
  int k_;
  double R_;
  int grid_;
};

Direction dir2(double theta) {
  Direction d;
  d.u[0] = std::cos(theta);
  d.u[1] = std::sin(theta);
  return d;
}
Direction dir3(double alpha, double beta) {
  Direction d;
  const double s = std::sin(alpha);
  d.u[0] = s * std::cos(beta);
  d.u[1] = s * std::sin(beta);
  d.u[2] = std::cos(alpha);
  return d;
}

// ----------------------------------------------------------------------------------------------
// Accumulators of Legendre moments and atoms

struct Layout {
  int k = 2;
  int ncomp = 6;   // 1 + k + k(k+1)/2: N_1, N_z (k), N_zz (packed upper triangle)
  int L = 12;      // Legendre degree
  int nr = 10;     // radial Gauss–Legendre nodes per sub-interval
  double max_dr = 0.5;  // longest radial sub-interval
  std::vector<double> edges;  // panel edges, increasing
  int panels() const { return edges.empty() ? 0 : static_cast<int>(edges.size()) - 1; }
  std::size_t size() const { return static_cast<std::size_t>(panels()) * (L + 1) * ncomp; }
  std::size_t index(int p, int l, int c) const { return (static_cast<std::size_t>(p) * (L + 1) + l) * ncomp + c; }
};

struct Accum {
  std::vector<double> c;
  std::vector<std::pair<double, std::array<double, 10>>> atoms;
  double dropped = 0;  // mass of rays' values outside the panels

  void reset(std::size_t n) {
    c.assign(n, 0.0);
    atoms.clear();
    dropped = 0;
  }
  std::array<double, 10>& atom(double value) {
    for (auto& a : atoms)
      if (a.first == value) return a.second;
    atoms.push_back({value, {}});
    atoms.back().second.fill(0.0);
    return atoms.back().second;
  }
  void axpy(double w, const Accum& o) {
    if (c.size() < o.c.size()) c.resize(o.c.size(), 0.0);
    for (std::size_t i = 0; i < o.c.size(); ++i) c[i] += w * o.c[i];
    for (const auto& a : o.atoms) {
      auto& t = atom(a.first);
      for (int i = 0; i < 10; ++i) t[i] += w * a.second[i];
    }
    dropped += w * o.dropped;
  }
  void subtract(const Accum& o) { axpy(-1.0, o); }
};

// Per-ray scratch: radial sums S_j[p][l] = Σ ρ r^j P_l(ŷ) (j = 0, 1, 2) of the touched panels.
struct RayScratch {
  std::vector<double> S;
  std::vector<int> touched;
  std::vector<char> is_touched;
  std::vector<double> P, pts;
};

// Adds the contribution of one ray (angular weight w) to `acc`. The radial sums are formed
// first and multiplied by u, u uᵀ once per touched panel.
void add_ray(const RayEngine& eng, const Layout& lay, const Direction& d, const RayStructure& st, double w,
             Accum& acc, RayScratch& sc) {
  const int k = lay.k;
  auto f = eng.along(d);
  double uu[6];
  {
    int q = 0;
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) uu[q++] = d.u[a] * d.u[b];
  }
  const int npair = k * (k + 1) / 2;
  auto add_moments = [&](double* dst, double m0, double m1, double m2) {
    dst[0] += w * m0;
    for (int a = 0; a < k; ++a) dst[1 + a] += w * m1 * d.u[a];
    for (int q = 0; q < npair; ++q) dst[1 + k + q] += w * m2 * uu[q];
  };
  for (const auto& p : st.plateaus) {
    const double hi = p.hi >= eng.R() ? std::numeric_limits<double>::infinity() : p.hi;
    const auto m = radial_interval_moments(k, p.lo, hi);
    add_moments(acc.atom(p.value).data(), m[0], m[1], m[2]);
  }
  const int P_count = lay.panels();
  if (P_count == 0) return;
  const int L1 = lay.L + 1;
  if (sc.is_touched.size() != static_cast<std::size_t>(P_count)) {
    sc.is_touched.assign(P_count, 0);
    sc.S.assign(static_cast<std::size_t>(P_count) * L1 * 3, 0.0);
  }
  sc.P.resize(L1);
  sc.touched.clear();
  const auto& gl = gauss_legendre(lay.nr);
  const double norm = std::pow(kTwoPi, -0.5 * k);
  const double y0 = lay.edges.front(), y1 = lay.edges.back();
  double* P = sc.P.data();
  for (const auto& s : st.segments) {
    if (!(s.hi > s.lo)) continue;
    const double lo_v = std::min(s.f_lo, s.f_hi), hi_v = std::max(s.f_lo, s.f_hi);
    sc.pts.assign({s.lo, s.hi});
    auto first = std::upper_bound(lay.edges.begin(), lay.edges.end(), lo_v);
    for (auto it = first; it != lay.edges.end() && *it < hi_v; ++it) sc.pts.push_back(root_in(f, s, *it));
    std::sort(sc.pts.begin(), sc.pts.end());
    for (std::size_t j = 0; j + 1 < sc.pts.size(); ++j) {
      const double ra = sc.pts[j], rb = sc.pts[j + 1];
      if (!(rb > ra)) continue;
      const double ymid = f(0.5 * (ra + rb));
      if (!(ymid >= y0 && ymid <= y1)) {
        const auto m = radial_interval_moments(k, ra, rb);
        acc.dropped += w * m[0];
        continue;
      }
      int p = static_cast<int>(std::upper_bound(lay.edges.begin(), lay.edges.end(), ymid) - lay.edges.begin()) - 1;
      p = std::clamp(p, 0, P_count - 1);
      if (!sc.is_touched[p]) {
        sc.is_touched[p] = 1;
        sc.touched.push_back(p);
      }
      double* S = &sc.S[static_cast<std::size_t>(p) * L1 * 3];
      const double ya = lay.edges[p], yb = lay.edges[p + 1];
      const double scale = 2.0 / (yb - ya);
      const int m = std::max(1, static_cast<int>(std::ceil((rb - ra) / lay.max_dr)));
      for (int q = 0; q < m; ++q) {
        const double a = ra + (rb - ra) * q / m, b = ra + (rb - ra) * (q + 1) / m;
        const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
        for (int i = 0; i < lay.nr; ++i) {
          const double r = mid + half * gl.x[i];
          const double rk = k == 2 ? r : r * r;  // r^{k−1}
          const double rho = gl.w[i] * half * norm * rk * std::exp(-0.5 * r * r);
          if (!(rho > 0)) continue;
          const double t = std::clamp((f(r) - ya) * scale - 1.0, -1.0, 1.0);
          P[0] = 1.0;
          if (lay.L >= 1) P[1] = t;
          for (int l = 2; l <= lay.L; ++l) P[l] = ((2.0 * l - 1.0) * t * P[l - 1] - (l - 1.0) * P[l - 2]) / l;
          const double r1 = rho * r, r2 = rho * r * r;
          for (int l = 0; l < L1; ++l) {
            S[3 * l] += rho * P[l];
            S[3 * l + 1] += r1 * P[l];
            S[3 * l + 2] += r2 * P[l];
          }
        }
      }
    }
  }
  for (int p : sc.touched) {
    double* S = &sc.S[static_cast<std::size_t>(p) * L1 * 3];
    for (int l = 0; l < L1; ++l) add_moments(&acc.c[lay.index(p, l, 0)], S[3 * l], S[3 * l + 1], S[3 * l + 2]);
    std::fill(S, S + static_cast<std::size_t>(L1) * 3, 0.0);
    sc.is_touched[p] = 0;
  }
}

// ----------------------------------------------------------------------------------------------
// Sector boundaries on a circle (periodic angle) or a segment of angles

// Structure of the ray at angle φ on the current circle.
using RayAt = std::function<RayStructure(double)>;
using SampleAt = std::function<double(double, int)>;  // sample component c of the ray at angle φ

// Locates the angles in the cells (φ_i, φ_{i+1}) where the structure changes: a jump of a sample
// (bisection of that sample alone: one evaluation of g per step) or a change of the signature
// (bisection on the full structure). `periodic`: the last cell wraps around to φ_0 + 2π.
struct Boundary {
  double at;
  bool degenerate;  // rays next to it collapse onto one value (multi-scale; see sectors())
  bool operator<(const Boundary& o) const { return at < o.at; }
};

std::vector<Boundary> find_boundaries(const std::vector<double>& phi, const std::vector<RayStructure>& st,
                                      const RayAt& ray_at, const SampleAt& sample_at, bool periodic, double span,
                                      bool detect_degenerate = true) {
  std::vector<double> out;
  std::vector<double> degenerate;
  const std::size_t M = phi.size();
  const std::size_t cells = periodic ? M : M - 1;
  const std::size_t nsamp = st.empty() ? 0 : st[0].samples.size();
  auto inc = [&](std::size_t i, std::size_t c) {
    const std::size_t j = (i + 1) % M;
    return std::fabs(st[j].samples[c] - st[i].samples[c]);
  };
  for (std::size_t i = 0; i < cells; ++i) {
    const std::size_t j = (i + 1) % M;
    double a = phi[i], b = phi[j];
    if (j == 0) b += span;
    bool found = false;
    for (std::size_t c = 0; c < nsamp && !found; ++c) {
      const double d = inc(i, c);
      const double left = (periodic || i > 0) ? inc((i + cells - 1) % cells, c) : 0.0;
      const double right = (periodic || i + 1 < cells) ? inc((i + 1) % cells, c) : 0.0;
      if (!(d > 4.0 * std::max(left, right)) || !(d > 1e-8 * (1.0 + std::fabs(st[i].samples[c])))) continue;
      Jump jmp;
      if (locate_jump([&](double x) { return sample_at(x, static_cast<int>(c)); }, a, b, jmp)) {
        out.push_back(jmp.at);
        found = true;
      }
    }
    if (found || st[i].signature == st[j].signature) continue;
    // Signature change without a jump of the samples: bisection on the structure.
    const auto& sig_a = st[i].signature;
    for (int it = 0; it < 44 && b - a > 1e-13; ++it) {
      const double mid = 0.5 * (a + b);
      if (ray_at(mid).signature == sig_a) a = mid;
      else b = mid;
    }
    out.push_back(0.5 * (a + b));
  }
  // Degenerate rays: directions where g(r u) stays at its value at the origin for all r (the zero
  // set of the angular factor of z1 z2 or |z1 z2|, a kink rather than a jump when g is
  // continuous). Rays next to them are multi-scale (see sectors()), so they are boundaries too:
  // minima of the spread D(φ) = max_i |g(r_i u) − g(0⁺u)| that reach ~0, refined by Brent.
  if (nsamp > 1 && detect_degenerate) {
    auto spread_of = [&](const std::vector<double>& v) {
      double d = 0;
      for (std::size_t c = 1; c < v.size(); ++c) d = std::max(d, std::fabs(v[c] - v[0]));
      return d;
    };
    std::vector<double> D(M);
    double dmax = 0;
    for (std::size_t i = 0; i < M; ++i) {
      D[i] = spread_of(st[i].samples);
      dmax = std::max(dmax, D[i]);
    }
    for (std::size_t i = 0; i < M && dmax > 0; ++i) {
      if (!periodic && (i == 0 || i + 1 == M)) continue;
      const std::size_t ip = (i + M - 1) % M, in = (i + 1) % M;
      if (!(D[i] <= D[ip] && D[i] <= D[in]) || !(D[i] < 0.05 * dmax)) continue;
      double lo = phi[ip], hi = phi[in];
      if (ip > i) lo -= span;
      if (in < i) hi += span;
      auto spread_at = [&](double x) {
        std::vector<double> v(nsamp);
        for (std::size_t c = 0; c < nsamp; ++c) v[c] = sample_at(x, static_cast<int>(c));
        return spread_of(v);
      };
      boost::uintmax_t iters = 100;
      const auto best = boost::math::tools::brent_find_minima(spread_at, lo, hi, 52, iters);
      if (best.second <= 1e-7 * dmax) degenerate.push_back(best.first);
    }
  }
  auto wrap = [&](double x) {
    if (!periodic) return x;
    x = std::fmod(x, span);
    return x < 0 ? x + span : x;
  };
  auto dist = [&](double a, double b) {
    const double d = std::fabs(a - b);
    return periodic ? std::min(d, span - d) : d;
  };
  std::vector<Boundary> res;
  for (double x : out) {
    x = wrap(x);
    bool dup = false;
    for (const auto& b : res) dup = dup || dist(b.at, x) < 1e-12;
    if (!dup) res.push_back({x, false});
  }
  // A degenerate direction found by the spread minimisation (Brent: ~1e-8 accurate) that lies at
  // a located jump marks that boundary; otherwise it is a boundary of its own.
  for (double x : degenerate) {
    x = wrap(x);
    bool matched = false;
    for (auto& b : res) {
      if (dist(b.at, x) < 1e-6) {
        b.degenerate = true;
        matched = true;
      }
    }
    if (!matched) res.push_back({x, true});
  }
  std::sort(res.begin(), res.end());
  return res;
}

// ----------------------------------------------------------------------------------------------
// Adaptive composite Gauss–Legendre for accumulator-valued integrands

struct Val {
  Accum fine, coarse;  // value with the fine rules and with the coarse rules at every level
};
// A leaf integrand (a single ray) has no inner rule: it writes only `fine`, and adapt() uses it
// as its coarse value too.

// An integration piece: x ∈ [a, b] (dir = 0), or the parameter t ∈ [a, b] of
// x = anchor + dir·h·e^{−t} (dir = ±1), with dx = h e^{−t} dt.
struct Piece {
  double a = 0, b = 0;
  double anchor = 0, dir = 0, h = 0;
};

struct AdaptOptions {
  int n = 8;             // Gauss–Legendre nodes per (half-)interval
  double abs_tol = 1e-8; // target for the summed interval errors (max-abs accumulator distance)
  long max_nodes = 4000; // evaluation budget
};

struct AdaptResult {
  Val value;
  double error = 0;
  long nodes = 0;
  bool converged = true;
};

// ∫ F(x) dx over the union of `intervals`. F(x, w, out) adds w·F(x) to out.fine / out.coarse.
// `error(fine, coarse)` measures the difference between the two rules on an interval.
using Integrand = std::function<void(double x, double w, Val& out)>;
using ErrorMeasure = std::function<double(const Accum& fine, const Accum& coarse)>;

AdaptResult adapt(const std::vector<Piece>& intervals, const Integrand& F, std::size_t acc_size,
                  const AdaptOptions& opt, const ErrorMeasure& error, bool leaf) {
  struct Iv {
    double a, b;
    Piece map;
    Accum fine, coarseC;
    double err = 0;
  };
  const auto& gl = gauss_legendre(opt.n);
  AdaptResult res;
  auto rule = [&](const Piece& map, double a, double b, Val& v) {
    const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
    for (int i = 0; i < opt.n; ++i) {
      const double t = mid + half * gl.x[i];
      if (map.dir == 0) {
        F(t, gl.w[i] * half, v);
      } else {
        const double e = map.h * std::exp(-t);
        F(map.anchor + map.dir * e, gl.w[i] * half * e, v);
      }
    }
    res.nodes += opt.n;
  };
  auto evaluate = [&](Iv& iv) {
    Val single, halves;
    single.fine.reset(acc_size);
    halves.fine.reset(acc_size);
    if (!leaf) {
      single.coarse.reset(acc_size);
      halves.coarse.reset(acc_size);
    }
    rule(iv.map, iv.a, iv.b, single);
    const double mid = 0.5 * (iv.a + iv.b);
    rule(iv.map, iv.a, mid, halves);
    rule(iv.map, mid, iv.b, halves);
    iv.err = error(halves.fine, single.fine);
    iv.fine = std::move(halves.fine);
    iv.coarseC = leaf ? std::move(single.fine) : std::move(single.coarse);
  };
  std::vector<Iv> ivs;
  for (const auto& p : intervals) {
    if (!(p.b > p.a)) continue;
    Iv iv;
    iv.a = p.a;
    iv.b = p.b;
    iv.map = p;
    evaluate(iv);
    ivs.push_back(std::move(iv));
  }
  for (;;) {
    double total = 0;
    for (const auto& iv : ivs) total += iv.err;
    res.error = total;
    if (total <= opt.abs_tol) break;
    if (res.nodes >= opt.max_nodes) {
      res.converged = false;
      break;
    }
    const double share = opt.abs_tol / static_cast<double>(ivs.size() + 1);
    std::vector<Iv> next;
    bool split = false;
    for (auto& iv : ivs) {
      if (iv.err > share && iv.b - iv.a > 1e-12 && res.nodes < opt.max_nodes) {
        split = true;
        const double mid = 0.5 * (iv.a + iv.b);
        for (int side = 0; side < 2; ++side) {
          Iv c;
          c.a = side == 0 ? iv.a : mid;
          c.b = side == 0 ? mid : iv.b;
          c.map = iv.map;
          evaluate(c);
          next.push_back(std::move(c));
        }
      } else {
        next.push_back(std::move(iv));
      }
    }
    ivs = std::move(next);
    if (!split) {
      res.converged = res.error <= opt.abs_tol;
      break;
    }
  }
  res.value.fine.reset(acc_size);
  res.value.coarse.reset(acc_size);
  for (const auto& iv : ivs) {
    res.value.fine.axpy(1.0, iv.fine);
    res.value.coarse.axpy(1.0, iv.coarseC);
  }
  return res;
}

// Sectors between sorted boundaries, cut into integration pieces. Next to a boundary the angular
// integrand is multi-scale: a ray at angle ε from a zero set of the link's angular factor (z1 z2
// near θ = 0) or from a jump cone (z1² + sign(z1 z2 z3) near z1 = 0) spreads its mass over y at
// a scale that shrinks with ε, and the panels graded towards the critical values resolve all
// those scales. The end pieces therefore use x = anchor ± h e^{−t}, t ∈ [0, T], which turns the
// scales ε = e^{−t} into a uniform variable (as double-exponential rules do).
std::vector<Piece> sectors(const std::vector<Boundary>& b, double lo, double hi, bool periodic, double max_len,
                           double T) {
  struct Raw {
    double a, b;
    bool la, lb;  // ends at a degenerate boundary
  };
  std::vector<Raw> raw;
  if (b.empty()) {
    raw.push_back({lo, hi, false, false});
  } else if (periodic) {
    for (std::size_t i = 0; i + 1 < b.size(); ++i) raw.push_back({b[i].at, b[i + 1].at, b[i].degenerate, b[i + 1].degenerate});
    raw.push_back({b.back().at, b.front().at + (hi - lo), b.back().degenerate, b.front().degenerate});
  } else {
    double prev = lo;
    bool prev_deg = false;
    for (const auto& x : b) {
      if (x.at > prev) raw.push_back({prev, x.at, prev_deg, x.degenerate});
      prev = x.at;
      prev_deg = x.degenerate;
    }
    if (hi > prev) raw.push_back({prev, hi, prev_deg, false});
  }
  std::vector<Piece> out;
  const int tchunks = 1;  // the adaptive rule splits [0, T] where the integrand needs it
  for (const auto& r : raw) {
    const double len = r.b - r.a;
    const double h = std::min(0.2, 0.25 * len);
    double a = r.a, bb = r.b;
    for (int side = 0; side < 2; ++side) {
      if (!(side == 0 ? r.la : r.lb)) continue;
      for (int c = 0; c < tchunks; ++c) {
        Piece p;
        p.a = T * c / tchunks;
        p.b = T * (c + 1) / tchunks;
        p.anchor = side == 0 ? r.a : r.b;
        p.dir = side == 0 ? 1.0 : -1.0;
        p.h = h;
        out.push_back(p);
      }
      if (side == 0) a = r.a + h;
      else bb = r.b - h;
    }
    const int m = std::max(1, static_cast<int>(std::ceil((bb - a) / max_len)));
    for (int i = 0; i < m; ++i) {
      Piece p;
      p.a = a + (bb - a) * i / m;
      p.b = a + (bb - a) * (i + 1) / m;
      out.push_back(p);
    }
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// Panels

struct Sample {
  double y, w;
};

// Weighted y-samples of the continuous part along a ray (plateaus excluded), r on a uniform grid.
void sample_ray(const RayEngine& eng, const Direction& d, const RayStructure& st, double w_angle,
                std::vector<Sample>& out, double& ymin, double& ymax) {
  const int n = 96;
  const double dr = eng.R() / n;
  const double norm = std::pow(kTwoPi, -0.5 * eng.k());
  for (int i = 0; i <= n; ++i) {
    const double r = std::max(i * dr, 1e-9);
    bool in_plateau = false;
    for (const auto& p : st.plateaus)
      if (r >= p.lo && r <= p.hi) in_plateau = true;
    if (in_plateau) continue;
    const double y = eng.value(d, r);
    if (!std::isfinite(y)) continue;
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
    const double rho = norm * std::pow(r, eng.k() - 1) * std::exp(-0.5 * r * r) * (i == 0 || i == n ? 0.5 : 1.0) * dr;
    out.push_back({y, rho * w_angle});
  }
}

std::vector<double> make_edges(std::vector<Sample> samples, double ymin, double ymax, std::vector<double> specials,
                               double tol) {
  std::vector<double> edges;
  if (samples.empty() || !(ymax > ymin)) return edges;
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.y < b.y; });
  double total = 0;
  for (const auto& s : samples) total += s.w;
  auto quantile = [&](double level) {
    double cum = 0;
    for (const auto& s : samples) {
      cum += s.w;
      if (cum >= level * total) return s.y;
    }
    return samples.back().y;
  };
  // Bulk: 24 equal-mass panels; tails: mass levels 10^{−j/2} from both ends (y is not truncated by
  // mass — pitfall 4 — the tails only get coarser panels).
  // Coarser tolerances get fewer panels (every panel costs a root per ray that crosses it).
  const int bulk_panels = tol >= 1e-4 ? 12 : 24;
  const double decade_step = tol >= 1e-4 ? 1.0 : 0.5;
  std::vector<double> levels;
  for (int i = 1; i < bulk_panels; ++i) levels.push_back(static_cast<double>(i) / bulk_panels);
  for (double e = 1.5; e <= 16.0; e += decade_step) {
    levels.push_back(std::pow(10.0, -e));
    levels.push_back(1.0 - std::pow(10.0, -e));
  }
  std::sort(levels.begin(), levels.end());
  {
    double cum = 0;
    std::size_t li = 0;
    for (const auto& s : samples) {
      cum += s.w;
      while (li < levels.size() && cum >= levels[li] * total) {
        edges.push_back(s.y);
        ++li;
      }
    }
  }
  // Scales are local: y may span many orders of magnitude (exp(z1 z2) reaches e^40), so widths are
  // compared with the values themselves and with the spread of the bulk, never with the range.
  const double bulk = quantile(0.75) - quantile(0.25);
  const double scale = bulk > 0 ? bulk : (ymax - ymin);
  const double lo = ymin - 0.01 * std::min(scale, ymax - ymin) - 1e-12 * std::fabs(ymin);
  const double hi = ymax + 0.01 * std::min(scale, ymax - ymin) + 1e-12 * std::fabs(ymax);
  auto gap = [&](double a, double b) { return 1e-12 * std::max({std::fabs(a), std::fabs(b), scale}); };
  specials.erase(std::remove_if(specials.begin(), specials.end(), [&](double c) { return !(c > lo && c < hi); }),
                 specials.end());
  // Merge: special values are kept exactly; other edges closer than the gap to a kept one go.
  auto merge = [&](std::vector<double> cand) {
    std::vector<std::pair<double, bool>> all;
    for (double e : cand) all.push_back({e, false});
    for (double c : specials) all.push_back({c, true});
    std::sort(all.begin(), all.end());
    std::vector<std::pair<double, bool>> kept;
    for (const auto& e : all) {
      if (!kept.empty() && e.first - kept.back().first <= gap(e.first, kept.back().first)) {
        if (e.second && !kept.back().second) kept.back() = e;
        continue;
      }
      kept.push_back(e);
    }
    std::vector<double> out;
    for (const auto& e : kept) out.push_back(e.first);
    return out;
  };
  edges.push_back(lo);
  edges.push_back(hi);
  edges = merge(edges);
  // Geometric grading (ratio 1/4) towards each special value from both neighbours.
  const int levels_grading = std::clamp(static_cast<int>(std::ceil(std::log(1.0 / tol) / std::log(4.0))) + 2, 4, 24);
  std::vector<double> extra = edges;
  for (double c : specials) {
    auto it = std::lower_bound(edges.begin(), edges.end(), c);
    if (it == edges.end() || *it != c) continue;
    const double left = it == edges.begin() ? c : *(it - 1);
    const double right = (it + 1) == edges.end() ? c : *(it + 1);
    for (int j = 1; j <= levels_grading; ++j) {
      const double f = std::pow(0.25, j);
      if ((c - left) * f > gap(c, left)) extra.push_back(c - (c - left) * f);
      if ((right - c) * f > gap(c, right)) extra.push_back(c + (right - c) * f);
    }
  }
  edges = merge(extra);
  // Every panel not touching a special value c is at most 3× as wide as its distance to the
  // nearest one (ratio-4 geometric panels): N_φ is analytic on such a panel with its singularity
  // at relative distance ≥ 1/3, so the Legendre reconstruction converges geometrically. The tail
  // quantiles alone do not guarantee this (a y^{-1/2} density puts them far apart near c).
  for (int pass = 0; pass < 200; ++pass) {
    std::vector<double> add;
    for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
      const double a = edges[i], b = edges[i + 1];
      auto left = std::upper_bound(specials.begin(), specials.end(), a);
      auto right = std::lower_bound(specials.begin(), specials.end(), b);
      const double dl = left == specials.begin() ? INFINITY : a - *(left - 1);
      const double dr = right == specials.end() ? INFINITY : *right - b;
      if (dl == 0.0 || dr == 0.0 || !(std::min(dl, dr) < INFINITY)) continue;
      if (b - a <= 3.0 * std::min(dl, dr)) continue;
      const double x = dl <= dr ? *(left - 1) + 4.0 * dl : *right - 4.0 * dr;
      if (x > a + gap(a, x) && x < b - gap(b, x)) add.push_back(x);
    }
    if (add.empty()) break;
    edges.insert(edges.end(), add.begin(), add.end());
    std::sort(edges.begin(), edges.end());
  }
  return edges;
}

// Clusters values equal to 1e-12 relative; returns representatives.
std::vector<double> cluster(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  for (double x : v)
    if (out.empty() || std::fabs(x - out.back()) > 1e-12 * std::max(1.0, std::fabs(x))) out.push_back(x);
  return out;
}

// ----------------------------------------------------------------------------------------------
// Law from accumulated moments

std::vector<ChannelNode> law_nodes(const Accum& acc, const Layout& lay, int L, double& negative_mass) {
  const int k = lay.k;
  std::vector<ChannelNode> nodes;
  auto unpack = [&](const double* c, double inv, ChannelNode& n) {
    n.m1 = Vec(k);
    n.m2 = Mat(k, k);
    for (int a = 0; a < k; ++a) n.m1(a) = c[1 + a] * inv;
    int q = 1 + k;
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) {
        n.m2(a, b) = n.m2(b, a) = c[q] * inv;
        ++q;
      }
  };
  for (const auto& a : acc.atoms) {
    if (!(a.second[0] > 0)) continue;
    ChannelNode n;
    n.weight = a.second[0];
    n.y = a.first;
    n.atom = true;
    unpack(a.second.data(), 1.0 / a.second[0], n);
    nodes.push_back(n);
  }
  negative_mass = 0;
  const int ny = L + 1;
  const auto& gl = gauss_legendre(ny);
  std::vector<double> P(L + 1), N(lay.ncomp);
  for (int p = 0; p < lay.panels(); ++p) {
    const double ya = lay.edges[p], yb = lay.edges[p + 1], width = yb - ya;
    if (acc.c[lay.index(p, 0, 0)] == 0.0) continue;
    for (int q = 0; q < ny; ++q) {
      const double t = gl.x[q];
      P[0] = 1.0;
      if (L >= 1) P[1] = t;
      for (int l = 2; l <= L; ++l) P[l] = ((2.0 * l - 1.0) * t * P[l - 1] - (l - 1.0) * P[l - 2]) / l;
      std::fill(N.begin(), N.end(), 0.0);
      for (int l = 0; l <= L; ++l) {
        const double f = (2.0 * l + 1.0) / width * P[l];
        for (int c = 0; c < lay.ncomp; ++c) N[c] += f * acc.c[lay.index(p, l, c)];
      }
      const double w = gl.w[q] * 0.5 * width * N[0];
      if (!(w > 0)) {
        negative_mass += std::fabs(w);
        continue;
      }
      ChannelNode n;
      n.weight = w;
      n.y = ya + 0.5 * width * (t + 1.0);
      unpack(N.data(), 1.0 / N[0], n);
      nodes.push_back(n);
    }
  }
  return nodes;
}


// Measures the effect of a change of the accumulated moments on the law: the largest change of
// the reference functionals (channel.hpp; relative to max(1e-3, |value|)) when `delta` is added
// to a reference accumulator (a cheap first estimate of the total). Interval errors are judged by
// what they do to the quantities δ_alg needs, not by raw moments: a tiny panel next to a
// critical value may carry a large relative error in its own moments without changing any
// expectation.
class Judge {
 public:
  Judge(const Layout& lay, int L, Accum reference) : lay_(lay), L_(L), ref_(std::move(reference)) {
    base_ = functionals(law_nodes(ref_, lay_, L_, base_negative_), lay_.k);
  }
  double operator()(const Accum& delta, double scale) const {
    Accum t = ref_;
    t.axpy(scale, delta);
    double neg = 0;
    return functional_distance(functionals(law_nodes(t, lay_, L_, neg), lay_.k), base_, 1e-3) +
           std::fabs(neg - base_negative_);
  }

 private:
  const Layout& lay_;
  int L_;
  Accum ref_;
  double base_negative_ = 0;
  LawFunctionals base_;
};

// ----------------------------------------------------------------------------------------------
// Critical values: extremes over the angles of the fold values of the rays.

// The fold values of the ray at angle x, branch m (by order along r); NaN if absent.
double fold_value(const std::function<RayStructure(double)>& ray_at, double x, std::size_t m) {
  const auto st = ray_at(x);
  return m < st.folds.size() ? st.folds[m] : std::numeric_limits<double>::quiet_NaN();
}

// Local extrema of fold-value branches along a sampled sequence of rays, refined by Brent's method.
void fold_extrema(const std::vector<double>& phi, const std::vector<RayStructure>& st,
                  const std::function<RayStructure(double)>& ray_at, bool periodic, double span,
                  std::vector<double>& specials) {
  const std::size_t M = phi.size();
  for (std::size_t i = 0; i < M; ++i) {
    if (!periodic && (i == 0 || i + 1 == M)) continue;
    const std::size_t ip = (i + M - 1) % M, in = (i + 1) % M;
    const auto& a = st[ip].folds;
    const auto& b = st[i].folds;
    const auto& c = st[in].folds;
    if (a.size() != b.size() || c.size() != b.size()) continue;
    for (std::size_t m = 0; m < b.size(); ++m) {
      const bool is_max = b[m] >= a[m] && b[m] >= c[m];
      const bool is_min = b[m] <= a[m] && b[m] <= c[m];
      if (!is_max && !is_min) continue;
      double lo = phi[ip], hi = phi[in];
      if (ip > i) lo -= span;
      if (in < i) hi += span;
      const double sgn = is_max ? -1.0 : 1.0;
      auto obj = [&](double x) {
        const double v = fold_value(ray_at, x, m);
        return std::isnan(v) ? sgn * b[m] : sgn * v;
      };
      boost::uintmax_t iters = 40;
      const auto best = boost::math::tools::brent_find_minima(obj, lo, hi, 40, iters);
      specials.push_back(sgn * best.second);
    }
  }
}

// ----------------------------------------------------------------------------------------------

struct Settings {
  double T;  // range of the exponential end maps of sectors
  int L, L_coarse;
  int n_angle;
  double abs_tol;
  int m_circle;  // rays sampled per circle for sector detection
};

Settings settings_for(double tol, int k) {
  Settings s;
  s.L = tol >= 1e-4 ? 10 : (tol >= 1e-7 ? 14 : 18);
  s.L_coarse = s.L - 3;
  // The finest graded panel next to a critical value has width ~ 4^{−J}; rays within e^{−T} of a
  // boundary resolve it.
  s.T = std::min(40.0, std::log(1.0 / tol) * 1.3 + 6.0);
  s.n_angle = tol >= 1e-4 ? 6 : 8;
  s.abs_tol = tol;
  s.m_circle = k == 2 ? 128 : 48;
  return s;
}


// The clean law's moments: layout, fine and coarse accumulators, and diagnostics in `law`.
struct RaysOutcome {
  ChannelLaw law;  // k, diagnostics, status (nodes not filled)
  Layout lay;
  Val total;
  Settings set;
  std::vector<double> specials;
  bool converged = true;
  bool failed = false;  // the method does not apply (see law.diagnostics.note)
};

RaysOutcome compute_rays(const model::Link& link, const ChannelOptions& options) {
  RaysOutcome out;
  const int k = link.k();
  ChannelLaw& law = out.law;
  law.k = k;
  law.diagnostics.method = "rays+legendre";
  const double R = options.radius > 0 ? options.radius : 9.0;
  const int grid = options.fibre_grid > 0 ? options.fibre_grid : (options.tol >= 1e-4 ? 160 : 256);
  RayEngine eng(link, k, R, grid);
  const Settings set = settings_for(options.tol, k);
  Layout& lay = out.lay;
  lay.k = k;
  lay.ncomp = 1 + k + k * (k + 1) / 2;
  lay.L = set.L;
  lay.nr = options.tol >= 1e-4 ? 8 : 10;
  out.set = set;

  std::vector<Sample> samples;
  double ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
  const double g0 = eng.value(Direction{}, 0.0);
  std::vector<double> specials;
  std::vector<double> plateau_values, f0_values;
  struct Probe {
    Direction d;
    RayStructure st;
    double w;
  };
  std::vector<Probe> probes;  // structure-sampling rays, reused for the reference accumulator
  // One-sided limits g(0⁺u) are critical values only where g jumps at the origin
  // (z1² + sign(z1 z2 z3)); for continuous g they differ from g(0) by ~1e-9·|∇g|.
  auto note_structure = [&](const RayStructure& st) {
    for (const auto& p : st.plateaus) plateau_values.push_back(p.value);
    if (std::fabs(st.f0 - g0) > 1e-6 * (1.0 + std::fabs(g0))) f0_values.push_back(st.f0);
  };

  // Angular structure. k = 2: boundaries on the circle. k = 3: boundaries in α of the circles'
  // fingerprints (rays at fixed β), then per α-node boundaries in β (computed on the fly).
  const int M = set.m_circle;
  const double offset = 0.0123456789;  // keeps sample rays off symmetry axes
  std::vector<Piece> outer;  // k = 2: θ-sectors; k = 3: α-sectors
  std::vector<Boundary> outer_bounds;
  if (k == 2) {
    std::vector<double> phi(M);
    std::vector<RayStructure> st(M);
    for (int i = 0; i < M; ++i) {
      phi[i] = kTwoPi * (i + offset) / M;
      st[i] = eng.structure(dir2(phi[i]));
      note_structure(st[i]);
      sample_ray(eng, dir2(phi[i]), st[i], kTwoPi / M, samples, ymin, ymax);
      probes.push_back({dir2(phi[i]), st[i], kTwoPi / M});
    }
    auto ray_at = [&](double x) { return eng.structure(dir2(x)); };
    auto sample_at = [&](double x, int c) { return eng.value(dir2(x), kSampleRadii[c]); };
    outer_bounds = find_boundaries(phi, st, ray_at, sample_at, true, kTwoPi);
    fold_extrema(phi, st, ray_at, true, kTwoPi, specials);
    outer = sectors(outer_bounds, 0.0, kTwoPi, true, M_PI / 4, set.T);
  } else {
    const int Ma = 32, Mb = 16;
    std::vector<double> alpha(Ma);
    std::vector<RayStructure> fp(Ma);  // circle fingerprints as pseudo ray structures
    auto circle_fp = [&](double a, bool record) {
      RayStructure out;
      for (int j = 0; j < Mb; ++j) {
        const double b = kTwoPi * (j + offset) / Mb;
        const auto st = eng.structure(dir3(a, b));
        if (record) {
          note_structure(st);
          const double w = std::sin(a) * (M_PI / Ma) * (kTwoPi / Mb);
          sample_ray(eng, dir3(a, b), st, w, samples, ymin, ymax);
          probes.push_back({dir3(a, b), st, w});
        }
        out.signature.insert(out.signature.end(), st.signature.begin(), st.signature.end());
        out.signature.push_back(1e300);
        out.samples.insert(out.samples.end(), st.samples.begin(), st.samples.end());
      }
      return out;
    };
    for (int i = 0; i < Ma; ++i) {
      alpha[i] = M_PI * (i + 0.5) / Ma;
      fp[i] = circle_fp(alpha[i], true);
    }
    auto fp_at = [&](double a) { return circle_fp(a, false); };
    auto sample_at = [&](double a, int c) {
      const int j = c / static_cast<int>(kSampleRadii.size()), r = c % static_cast<int>(kSampleRadii.size());
      return eng.value(dir3(a, kTwoPi * (j + offset) / Mb), kSampleRadii[r]);
    };
    // Circle fingerprints concatenate several rays: the per-ray degeneracy test does not apply.
    outer_bounds = find_boundaries(alpha, fp, fp_at, sample_at, false, M_PI, false);
    // Fold extrema: along β on each sampled circle, then along α of the per-circle extremes.
    for (int i = 0; i < Ma; i += 2) {
      std::vector<double> beta(2 * Mb);
      std::vector<RayStructure> st(2 * Mb);
      for (int j = 0; j < 2 * Mb; ++j) {
        beta[j] = kTwoPi * (j + offset) / (2 * Mb);
        st[j] = eng.structure(dir3(alpha[i], beta[j]));
      }
      fold_extrema(beta, st, [&](double b) { return eng.structure(dir3(alpha[i], b)); }, true, kTwoPi, specials);
    }
    outer = sectors(outer_bounds, 0.0, M_PI, false, M_PI / 4, set.T);
  }

  // Atoms and one-sided limits at the origin are special values; too many distinct plateau
  // values means g is constant along rays with a value varying with the direction — a
  // continuous law this method cannot represent.
  const auto atoms = cluster(plateau_values);
  const auto f0s = cluster(f0_values);
  specials.insert(specials.end(), atoms.begin(), atoms.end());
  if (f0s.size() <= 8) {
    specials.insert(specials.end(), f0s.begin(), f0s.end());
  } else {
    specials.push_back(f0s.front());
    specials.push_back(f0s.back());
  }
  // g(0) first so that clustering keeps its exact value.
  specials = cluster(specials);
  specials.erase(std::remove_if(specials.begin(), specials.end(),
                                [&](double v) { return std::fabs(v - g0) <= 1e-12 * std::max(1.0, std::fabs(g0)); }),
                 specials.end());
  specials.push_back(g0);
  std::sort(specials.begin(), specials.end());
  if (atoms.size() > 64) {
    law.status = Status::numerical_issue;
    law.diagnostics.note =
        "the link is constant along rays with a value that varies continuously with the direction "
        "(e.g. z1/|z|); the ray method cannot represent this law";
    law.diagnostics.link_evaluations = eng.evaluations();
    out.failed = true;
    return out;
  }
  lay.edges = make_edges(samples, ymin, ymax, specials, options.tol);
  law.diagnostics.critical_values = specials;
  law.diagnostics.panels = lay.panels();
  law.diagnostics.sectors = static_cast<int>(outer_bounds.size());

  // Angular integration.
  const std::size_t acc_size = lay.size();
  Accum reference;
  reference.reset(acc_size);
  {
    RayScratch sc;
    for (const auto& pr : probes) add_ray(eng, lay, pr.d, pr.st, pr.w, reference, sc);
  }
  const Judge judge(lay, set.L, std::move(reference));
  auto measure = [&](double scale) {
    return [&judge, scale](const Accum& fine, const Accum& coarse) {
      Accum d = fine;
      d.subtract(coarse);
      return judge(d, scale);
    };
  };
  long rays = 0;
  bool converged = true;
  double angular_error = 0;
  AdaptOptions ao;
  ao.n = set.n_angle;
  Val& total = out.total;
  if (k == 2) {
    ao.abs_tol = set.abs_tol;
    ao.max_nodes = 20000;
    RayScratch sc;
    auto F = [&](double theta, double w, Val& out) {
      const Direction d = dir2(theta);
      add_ray(eng, lay, d, eng.structure(d), w, out.fine, sc);
      ++rays;
    };
    auto res = adapt(outer, F, acc_size, ao, measure(1.0), true);
    total = std::move(res.value);
    converged = res.converged;
    angular_error = res.error;
  } else {
    AdaptOptions inner = ao;
    inner.max_nodes = 3000;
    ao.abs_tol = set.abs_tol;
    ao.max_nodes = 600;
    const int Mb = set.m_circle;
    RayScratch sc3;
    auto F = [&](double alpha, double w, Val& out) {
      const double sa = std::sin(alpha);
      std::vector<double> beta(Mb);
      std::vector<RayStructure> st(Mb);
      for (int j = 0; j < Mb; ++j) {
        beta[j] = kTwoPi * (j + offset) / Mb;
        st[j] = eng.structure(dir3(alpha, beta[j]));
      }
      auto ray_at = [&](double b) { return eng.structure(dir3(alpha, b)); };
      auto sample_at = [&](double b, int c) { return eng.value(dir3(alpha, b), kSampleRadii[c]); };
      const auto bounds = find_boundaries(beta, st, ray_at, sample_at, true, kTwoPi);
      auto G = [&](double b, double wb, Val& o) {
        const Direction d = dir3(alpha, b);
        add_ray(eng, lay, d, eng.structure(d), wb, o.fine, sc3);
        ++rays;
      };
      // The circle's share of the error budget follows its share of the outer rule's weight.
      AdaptOptions io = inner;
      io.abs_tol = set.abs_tol * w / M_PI;
      auto r = adapt(sectors(bounds, 0.0, kTwoPi, true, M_PI / 2, set.T), G, acc_size, io, measure(w * sa), true);
      if (!r.converged) converged = false;
      out.fine.axpy(w * sa, r.value.fine);
      out.coarse.axpy(w * sa, r.value.coarse);
    };
    auto res = adapt(outer, F, acc_size, ao, measure(1.0), false);
    total = std::move(res.value);
    converged = converged && res.converged;
    angular_error = res.error;
  }
  law.diagnostics.rays = static_cast<int>(rays);
  law.diagnostics.integration_error = angular_error;
  law.diagnostics.atoms = static_cast<int>(total.fine.atoms.size());
  law.diagnostics.truncated_mass = total.fine.dropped;
  law.diagnostics.link_evaluations = eng.evaluations();
  if (!converged) law.diagnostics.note = "angular integration budget exhausted before the tolerance was met";
  out.converged = converged;
  out.specials = specials;
  return out;
}

// N_c(y) of panel p from the Legendre moments (c = 0: density; 1..k: N_z; then N_zz packed).
void panel_values(const Accum& acc, const Layout& lay, int L, int p, double y, double* N) {
  const double ya = lay.edges[p], yb = lay.edges[p + 1], width = yb - ya;
  const double t = std::clamp(2.0 * (y - ya) / width - 1.0, -1.0, 1.0);
  double p0 = 1.0, p1 = t;
  for (int c = 0; c < lay.ncomp; ++c) N[c] = 0.0;
  for (int l = 0; l <= L; ++l) {
    double Pl;
    if (l == 0) {
      Pl = 1.0;
    } else if (l == 1) {
      Pl = t;
    } else {
      Pl = ((2.0 * l - 1.0) * t * p1 - (l - 1.0) * p0) / l;
      p0 = p1;
      p1 = Pl;
    }
    const double f = (2.0 * l + 1.0) / width * Pl;
    for (int c = 0; c < lay.ncomp; ++c) N[c] += f * acc.c[lay.index(p, l, c)];
  }
}

}  // namespace

ChannelLaw build_clean_rays(const model::Link& link, const ChannelOptions& options) {
  RaysOutcome r = compute_rays(link, options);
  ChannelLaw law = std::move(r.law);
  if (r.failed) return law;
  const int k = law.k;
  double neg_fine = 0, neg_coarse = 0;
  law.nodes = law_nodes(r.total.fine, r.lay, r.set.L, neg_fine);
  const auto coarse_nodes = law_nodes(r.total.coarse, r.lay, r.set.L_coarse, neg_coarse);
  const double est = functional_distance(functionals(law.nodes, k), functionals(coarse_nodes, k), 1e-3);
  law.error_estimate = std::max({est, neg_fine, r.total.fine.dropped});
  law.status = r.converged ? Status::success : Status::not_converged;
  if (law.error_estimate > options.tol) law.status = Status::not_converged;
  return law;
}

ChannelLaw build_noisy_rays(const model::Link& link, double variance, const ChannelOptions& options) {
  // Convolution of the clean law (piecewise-polynomial N_φ on the panels, plus atoms) with N(0, Δ):
  // inner integrals over y ∈ [y' − 8√Δ, y' + 8√Δ] panel by panel with Gauss–Legendre (chunks of at
  // most √Δ), outer adaptive rule over y' (channel_noise.cpp). The clean error enters by
  // repeating the construction at the same nodes with the coarse moments.
  RaysOutcome r = compute_rays(link, options);
  ChannelLaw law = std::move(r.law);
  if (r.failed) return law;
  const int k = law.k;
  const Layout& lay = r.lay;
  const double sd = std::sqrt(variance);
  const double inv_norm = 1.0 / std::sqrt(2.0 * M_PI * variance);
  const auto& gl = gauss_legendre(12);
  std::vector<double> N(lay.ncomp), S(lay.ncomp);
  auto node_from = [&](const Accum& acc, int L, double y, double w, ChannelNode& node) {
    std::fill(S.begin(), S.end(), 0.0);
    for (const auto& a : acc.atoms) {
      const double d = y - a.first;
      const double kv = inv_norm * std::exp(-0.5 * d * d / variance);
      for (int c = 0; c < lay.ncomp; ++c) S[c] += a.second[c] * kv;
    }
    if (lay.panels() > 0) {
      const double lo = y - 8 * sd, hi = y + 8 * sd;
      int p = static_cast<int>(std::upper_bound(lay.edges.begin(), lay.edges.end(), lo) - lay.edges.begin()) - 1;
      for (p = std::max(p, 0); p < lay.panels() && lay.edges[p] < hi; ++p) {
        const double a = std::max(lo, lay.edges[p]), b = std::min(hi, lay.edges[p + 1]);
        if (!(b > a)) continue;
        const int m = std::max(1, static_cast<int>(std::ceil((b - a) / sd)));
        for (int q = 0; q < m; ++q) {
          const double u0 = a + (b - a) * q / m, u1 = a + (b - a) * (q + 1) / m;
          const double half = 0.5 * (u1 - u0), mid = 0.5 * (u1 + u0);
          for (int i = 0; i < 12; ++i) {
            const double yy = mid + half * gl.x[i];
            const double d = y - yy;
            const double kv = gl.w[i] * half * inv_norm * std::exp(-0.5 * d * d / variance);
            panel_values(acc, lay, L, p, yy, N.data());
            for (int c = 0; c < lay.ncomp; ++c) S[c] += kv * N[c];
          }
        }
      }
    }
    if (!(S[0] > 0) || !std::isfinite(S[0])) return false;
    node.weight = w * S[0];
    node.y = y;
    node.m1 = Vec(k);
    node.m2 = Mat(k, k);
    for (int a = 0; a < k; ++a) node.m1(a) = S[1 + a] / S[0];
    int q = 1 + k;
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) {
        node.m2(a, b) = node.m2(b, a) = S[q] / S[0];
        ++q;
      }
    return true;
  };
  std::vector<double> crit = r.specials;
  for (const auto& a : r.total.fine.atoms) crit.push_back(a.first);
  double ylo = std::numeric_limits<double>::infinity(), yhi = -ylo;
  for (double c : crit) {
    ylo = std::min(ylo, c);
    yhi = std::max(yhi, c);
  }
  if (lay.panels() > 0) {
    ylo = std::min(ylo, lay.edges.front());
    yhi = std::max(yhi, lay.edges.back());
  }
  ylo -= 10 * sd;
  yhi += 10 * sd;
  const auto bp = noise_breakpoints(crit, ylo, yhi, sd);
  auto fine_at = [&](double y, double w, ChannelNode& node) { return node_from(r.total.fine, r.set.L, y, w, node); };
  const int n = options.tol >= 1e-5 ? 8 : 10;
  auto res = adaptive_law(bp, k, fine_at, options.tol, n, std::max(2 * sd, (yhi - ylo) / 32), 4000);
  // Coarse clean moments at the same nodes: recover each node's rule weight from its density.
  std::vector<ChannelNode> coarse;
  for (const auto& node : res.nodes) {
    ChannelNode fresh, c;
    if (!node_from(r.total.fine, r.set.L, node.y, 1.0, fresh)) continue;
    const double w = node.weight / fresh.weight;
    if (node_from(r.total.coarse, r.set.L_coarse, node.y, w, c)) coarse.push_back(c);
  }
  const double clean_err = functional_distance(functionals(res.nodes, k), functionals(coarse, k), 1e-3);
  law.nodes = std::move(res.nodes);
  law.error_estimate = res.error + clean_err;
  law.status = (r.converged && res.converged) ? Status::success : Status::not_converged;
  if (law.error_estimate > options.tol) law.status = Status::not_converged;
  if (!res.converged) law.diagnostics.note = "interval budget exhausted before the tolerance was met";
  law.diagnostics.critical_values = crit;
  return law;
}

}  // namespace deltacrit::alg::detail
