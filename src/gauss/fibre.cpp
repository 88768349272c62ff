#include "deltacrit/gauss/fibre.hpp"

#include <boost/math/tools/minima.hpp>
#include <boost/math/tools/roots.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "deltacrit/core/status.hpp"

namespace deltacrit::gauss {

namespace {

// Largest r in [lo, hi] with pred(r) true, given pred(lo) true and pred(hi) false (bisection to
// the last representable bit; used for plateau ends, where pred is "f(r) == value").
template <class Pred>
double bisect_boundary(const Pred& pred, double lo, double hi) {
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (pred(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

// Derivative of f at r using only points inside [lo, hi]: central 5-point difference when the
// stencil fits, else the one-sided 5-point formula (both O(h⁴)).
double derivative_in(const std::function<double(double)>& f, double r, double lo, double hi) {
  const double scale = std::max(1.0, std::fabs(r));
  double h = 1e-3 * scale;
  const double width = hi - lo;
  if (width > 0) h = std::min(h, width / 8.0);
  if (!(h > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (r - 2 * h >= lo && r + 2 * h <= hi) {
    return (-f(r + 2 * h) + 8 * f(r + h) - 8 * f(r - h) + f(r - 2 * h)) / (12 * h);
  }
  const double s = (r - lo < hi - r) ? 1.0 : -1.0;  // step into the piece
  const double hs = s * h;
  return (-25 * f(r) + 48 * f(r + hs) - 36 * f(r + 2 * hs) + 16 * f(r + 3 * hs) - 3 * f(r + 4 * hs)) / (12 * hs);
}

}  // namespace

Fibre1D::Fibre1D(std::function<double(double)> f, double a, double b, const FibreOptions& options)
    : f_(std::move(f)), a_(a), b_(b) {
  if (!(std::isfinite(a) && std::isfinite(b) && a < b)) {
    throw InputError("interval", "Fibre1D: need finite a < b");
  }
  if (options.grid < 16) throw InputError("grid", "Fibre1D: grid must be >= 16");
  const int n = options.grid;
  const double h = (b - a) / n;
  std::vector<double> r(n + 1), v(n + 1);
  for (int i = 0; i <= n; ++i) {
    r[i] = (i == n) ? b : a + i * h;
    v[i] = f_(r[i]);
    if (!std::isfinite(v[i])) {
      // A grid point on a measure-zero singularity: move it a little.
      const double nudged = r[i] + (i == n ? -1e-7 : 1e-7) * h;
      v[i] = f_(nudged);
      r[i] = nudged;
    }
  }

  // 1. Plateaus: runs of grid points with bitwise-equal values. A one-cell run is accepted only if
  //    f is also equal at three interior points (a smooth extremum can give equal neighbours).
  std::vector<char> in_plateau_cell(n, 0);
  for (int i = 0; i < n;) {
    int j = i;
    while (j < n && v[j + 1] == v[i]) ++j;
    if (j > i) {
      bool accept = true;
      if (j == i + 1) {
        for (double t : {0.25, 0.5, 0.75}) {
          if (f_(r[i] + t * (r[i + 1] - r[i])) != v[i]) accept = false;
        }
      }
      if (accept) {
        const double value = v[i];
        auto equal = [&](double x) { return f_(x) == value; };
        const double lo = i > 0 ? -bisect_boundary([&](double x) { return equal(-x); }, -r[i], -r[i - 1]) : a;
        const double hi = j < n ? bisect_boundary(equal, r[j], r[j + 1]) : b;
        plateaus_.push_back({lo, hi, value});
        for (int c = i; c < j; ++c) in_plateau_cell[c] = 1;
      }
      i = j;
    } else {
      ++i;
    }
  }

  // 2. Monotone pieces in the cells outside plateaus: split where the sign of the increments
  //    changes, at a critical point refined by Brent's method on ±f over the two adjacent cells.
  auto plateau_end_at = [&](int grid_index, bool left_side) {
    // Refined plateau boundary adjacent to grid point `grid_index` (the plateau is on the left
    // of the piece if left_side).
    for (const auto& p : plateaus_) {
      if (left_side && p.hi >= r[grid_index] - h && p.hi <= r[grid_index] + h) return p.hi;
      if (!left_side && p.lo >= r[grid_index] - h && p.lo <= r[grid_index] + h) return p.lo;
    }
    return r[grid_index];
  };
  int c = 0;
  while (c < n) {
    if (in_plateau_cell[c]) {
      ++c;
      continue;
    }
    int e = c;
    while (e < n && !in_plateau_cell[e]) ++e;  // cells [c, e) form a non-plateau segment
    double seg_lo = (c > 0 && in_plateau_cell[c - 1]) ? plateau_end_at(c, true) : r[c];
    const double seg_hi = (e < n) ? plateau_end_at(e, false) : r[e];
    int prev_sign = 0;
    double piece_lo = seg_lo;
    for (int cell = c; cell < e; ++cell) {
      const double diff = v[cell + 1] - v[cell];
      const int sign = diff > 0 ? 1 : (diff < 0 ? -1 : 0);
      if (sign == 0) continue;
      if (prev_sign != 0 && sign != prev_sign) {
        // Extremum near grid point `cell`: maximise (prev_sign > 0) or minimise f on [r_{cell−1}, r_{cell+1}].
        const double lo = std::max(r[cell - 1], piece_lo), hi = r[cell + 1];
        const double s = prev_sign > 0 ? -1.0 : 1.0;
        auto g = [&](double x) { return s * f_(x); };
        auto best = boost::math::tools::brent_find_minima(g, lo, hi, 50);
        double crit = best.first;
        if (!(crit > piece_lo)) crit = r[cell];
        pieces_.push_back({piece_lo, crit, f_(piece_lo), f_(crit)});
        piece_lo = crit;
      }
      prev_sign = sign;
    }
    if (seg_hi > piece_lo) pieces_.push_back({piece_lo, seg_hi, f_(piece_lo), f_(seg_hi)});
    c = e;
  }
}

double Fibre1D::abs_slope(double r) const {
  for (const auto& p : pieces_) {
    if (r >= p.lo && r <= p.hi) return std::fabs(derivative_in(f_, r, p.lo, p.hi));
  }
  return std::fabs(derivative_in(f_, r, a_, b_));
}

void Fibre1D::preimages(double y, std::vector<Preimage>& out) const {
  for (const auto& p : pieces_) {
    const double lo_v = std::min(p.f_lo, p.f_hi), hi_v = std::max(p.f_lo, p.f_hi);
    if (!(y > lo_v && y < hi_v)) continue;
    auto g = [&](double x) { return f_(x) - y; };
    std::uintmax_t max_iter = 200;
    const double glo = p.f_lo - y, ghi = p.f_hi - y;
    auto bracket = boost::math::tools::toms748_solve(g, p.lo, p.hi, glo, ghi,
                                                     boost::math::tools::eps_tolerance<double>(52), max_iter);
    const double root = 0.5 * (bracket.first + bracket.second);
    // A bracket that closed on a jump of f is not a preimage.
    const double gap = std::fabs(f_(bracket.second) - f_(bracket.first));
    if (gap > 1e-8 * (1.0 + std::fabs(y))) continue;
    const double slope = std::fabs(derivative_in(f_, root, p.lo, p.hi));
    if (!(slope > 0) || !std::isfinite(slope)) continue;
    out.push_back({root, slope});
  }
}

std::vector<double> Fibre1D::structure_points() const {
  std::vector<double> pts;
  for (const auto& p : pieces_) {
    pts.push_back(p.lo);
    pts.push_back(p.hi);
  }
  for (const auto& p : plateaus_) {
    pts.push_back(p.lo);
    pts.push_back(p.hi);
  }
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  return pts;
}

std::vector<double> Fibre1D::critical_values() const {
  std::vector<double> vals;
  for (const auto& p : pieces_) {
    vals.push_back(p.f_lo);
    vals.push_back(p.f_hi);
  }
  for (const auto& p : plateaus_) vals.push_back(p.value);
  std::sort(vals.begin(), vals.end());
  vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
  return vals;
}

}  // namespace deltacrit::gauss
