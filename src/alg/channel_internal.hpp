#pragma once
// Internal building blocks of build_channel_law (not installed): Gaussian integrals over
// intervals, Gauss–Legendre rules, and the per-dimension builders.
#include <array>
#include <functional>
#include <vector>

#include "deltacrit/alg/channel.hpp"

namespace deltacrit::alg::detail {

// Counts evaluations of a link (diagnostics) and hides the std::function call.
struct CountingLink {
  const model::Link* link;
  mutable long evaluations = 0;
  double operator()(const double* z) const {
    ++evaluations;
    return (*link)(z);
  }
};

// ∫_a^b φ(z) z^j dz for j = 0, 1, 2, φ the standard normal density; a may be −∞, b may be +∞.
// Computed with erfc on the side of the tail so that small masses keep their relative accuracy.
std::array<double, 3> normal_interval_moments(double a, double b);

// ∫_a^b ρ_k(r) r^j dr for j = 0, 1, 2, with ρ_k(r) = r^{k−1} e^{−r²/2} / (2π)^{k/2} (the density of
// z ~ N(0, I_k) per unit surface measure of the sphere in polar coordinates); b may be +∞.
// Closed form through the regularised upper incomplete gamma function Q(s, x):
// ∫_a^b r^m e^{−r²/2} dr = 2^{(m−1)/2} Γ((m+1)/2) [Q((m+1)/2, a²/2) − Q((m+1)/2, b²/2)].
std::array<double, 3> radial_interval_moments(int k, double a, double b);

// A strictly monotone, continuous stretch of a 1-D function (a Fibre1D piece split at the jumps
// inside it).
struct Segment {
  double lo, hi;
  double f_lo, f_hi;  // limits of f at the ends from inside
  // The smooth stretch containing the segment: f is smooth on (slo, shi) (segment ends at
  // interior extrema are smooth points; jumps, plateau ends and interval ends are not).
  // Derivative stencils may extend over the whole stretch: a central difference across a fold is
  // accurate where a one-sided one near the fold would lose digits (the slope there is small).
  double slo = 0, shi = 0;
};

struct Jump {
  double at;
  double left, right;  // limits
};

// Locates a jump of f inside [lo, hi] by bisection on the half with the larger increment.
// Returns false when the increment vanishes as the bracket shrinks (steep but continuous).
bool locate_jump(const std::function<double(double)>& f, double lo, double hi, Jump& out);

// Splits the monotone piece [lo, hi] of f at jumps detected on a sampling of `cells` cells;
// appends the segments (slo/shi left equal to lo/hi) and the jumps.
void split_piece(const std::function<double(double)>& f, double lo, double hi, int cells,
                 std::vector<Segment>& segments, std::vector<Jump>& jumps);

// Sets slo/shi: neighbouring segments that meet at a common end with a continuous value form one
// smooth stretch.
void link_smooth_stretches(std::vector<Segment>& segments);

// |f'(r)| from a 5-point difference using only points inside [lo, hi] (O(h⁴)).
double slope_in(const std::function<double(double)>& f, double r, double lo, double hi);

// Root of f = y inside a segment (y strictly between the limits), by TOMS 748. On a jump inside
// the segment it converges to the jump.
double root_in(const std::function<double(double)>& f, const Segment& s, double y);

// n-point Gauss–Legendre rule on [−1, 1] (1 ≤ n ≤ 64), cached.
struct GLRule {
  std::vector<double> x, w;
};
const GLRule& gauss_legendre(int n);

// Functionals used to measure the accuracy of a law (k ≤ 3): mass, E[m1], E[m1 m1ᵀ], E[G],
// E[G ⊗ G] (packed). Values of a rule are compared entry-wise.
struct LawFunctionals {
  std::vector<double> v;
};
LawFunctionals functionals(const std::vector<ChannelNode>& nodes, int k);
// Largest entry-wise difference: mass, E[m1], E[m1m1ᵀ], E[G] relative to 1; E[G⊗G] relative to
// its largest entry (at least `floor`).
double functional_distance(const LawFunctionals& a, const LawFunctionals& b, double floor);
// The same with the scales taken from `ref` (e.g. the total when a and b are one interval's rules).
double functional_distance_scaled(const LawFunctionals& a, const LawFunctionals& b, const LawFunctionals& ref,
                                  double floor);

// Clean (noise-free) laws.
ChannelLaw build_clean_k1(const model::Link& link, const ChannelOptions& options);
ChannelLaw build_clean_rays(const model::Link& link, const ChannelOptions& options);

// Gaussian output noise y' = g(z) + √Δ ε (flip, erase and resample act on the nodes of a clean
// law in channel.cpp).
ChannelLaw apply_gaussian_noise(const model::Link& link, double variance, const ChannelOptions& options);
ChannelLaw build_noisy_k1(const model::Link& link, double variance, const ChannelOptions& options);
ChannelLaw build_noisy_rays(const model::Link& link, double variance, const ChannelOptions& options);

// Breakpoints of the outer y'-rule of a noisy law on [lo, hi]: the critical values c and
// c ± {½, 1, 2, 4, 8}·sd.
std::vector<double> noise_breakpoints(const std::vector<double>& critical, double lo, double hi, double sd);

// Node of a law at y with rule weight w (fills weight = w·p(y), y, m1, m2); false if p(y) = 0.
using NodeFn = std::function<bool(double y, double w, ChannelNode& out)>;
struct AdaptiveLaw {
  std::vector<ChannelNode> nodes;
  double error = 0;      // summed |fine − coarse| of the functionals (relative, floor 1e-3)
  bool converged = true;
};
// Adaptive composite Gauss–Legendre over y between sorted breakpoints (pieces of at most
// max_len), n nodes vs. n on each half, refined until the summed error is below tol.
AdaptiveLaw adaptive_law(const std::vector<double>& breakpoints, int k, const NodeFn& node_at, double tol, int n,
                         double max_len, std::size_t max_intervals);

}  // namespace deltacrit::alg::detail
