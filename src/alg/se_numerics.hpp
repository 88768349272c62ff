#pragma once
// Internal numerics of the state-evolution module (not installed): Gauss–Legendre rules, log-sum-exp,
// moments of a Gaussian restricted to an interval, graded panels, and a vector-valued adaptive
// Gauss–Kronrod rule. GSL stays inside src/ (architecture rule).
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace deltacrit::alg::se_detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log √(2π)

// n-point Gauss–Legendre rule on [−1, 1] (1 ≤ n ≤ 100), computed once per n (GSL glfixed tables).
struct GLRule {
  std::vector<double> x, w;
};
const GLRule& gauss_legendre(int n);

// Running log-sum-exp accumulator with weighted first and second moments of a scalar:
// Σ e^{l_i}, Σ e^{l_i} x_i, Σ e^{l_i} x_i², kept relative to the largest l seen.
struct LogMoments {
  double lmax = -kInf;
  double s0 = 0.0, s1 = 0.0, s2 = 0.0;
  void add(double l, double x) { add(l, x, x * x); }
  // Adds a component of log mass l with mean m and second moment e2 = E[x²].
  void add(double l, double m, double e2) {
    if (!(l > -kInf)) return;
    if (l > lmax) {
      const double f = std::exp(lmax - l);
      s0 *= f;
      s1 *= f;
      s2 *= f;
      lmax = l;
    }
    const double w = std::exp(l - lmax);
    s0 += w;
    s1 += w * m;
    s2 += w * e2;
  }
  double log_mass() const { return s0 > 0 ? lmax + std::log(s0) : -kInf; }
};

// Law of x ~ N(ω, V) restricted to [lo, hi] (ends may be ±∞): log P(lo ≤ x ≤ hi), mean, variance.
// Tails use the log-erfc and the hazard function φ/Φc so that far intervals keep their relative
// accuracy; intervals that are narrow on the scale of the density use a 16-point Gauss–Legendre rule
// (centred moments, no cancellation).
struct IntervalMoments {
  double log_mass = -kInf;
  double mean = 0.0;
  double var = 0.0;
};
IntervalMoments gaussian_interval(double lo, double hi, double omega, double V);

// Panel ends for a composite rule on [a, b] that is geometrically graded towards the points in
// `graded` (inside [a, b], including the ends): panels of width h0·ρ^j, j = 0, 1, ... down to
// `finest`, plus uniform panels of width ≤ `coarse` elsewhere. Sorted, unique, a and b included.
std::vector<double> graded_panels(double a, double b, const std::vector<double>& graded, double coarse,
                                  double h0, double ratio, double finest);

// Adaptive Gauss–Kronrod (7/15) integration of a vector-valued f on [a, b] with breakpoints:
// subdivides the interval with the largest error until Σ errors of component 0 ≤
// max(abs_tol, rel_tol·|I_0|) (components 1.. are integrated on the same subdivision). Returns
// false if `max_intervals` was reached.
template <std::size_t N>
struct VecQuad {
  std::array<double, N> value{};
  double error = 0.0;
  int evaluations = 0;
  bool converged = false;
};
template <std::size_t N>
VecQuad<N> integrate_vec(const std::function<std::array<double, N>(double)>& f, std::vector<double> points,
                         double abs_tol, double rel_tol, int max_intervals);

}  // namespace deltacrit::alg::se_detail
