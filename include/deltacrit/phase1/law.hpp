#pragma once
// The phase-1 law L₁ of (y, u, z) as weighted nodes, and the quadrature of the teacher's joint law
// of (z, y) it is built on (docs/nn.md).
//
// L₁ is the limiting (n, d → ∞) joint law of one sample's label y, the network pre-activations
// u = W₁ᵀx ∈ R^m at the phase-1 point W₁ and the latents z = Θ*ᵀx ∈ R^k. Everything the Hessian
// theory (R1)/(R2) needs is an expectation over L₁; nodes are either a deterministic cubature
// (init, fixed-point) or the samples of a finite-d run (empirical).
#include <memory>
#include <string>
#include <vector>

#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/phase1/network.hpp"

namespace deltacrit::phase1 {

struct Law {
  int m = 0;                       // width (dimension of u), 1..8
  int k = 0;                       // number of latents (dimension of z), 1..3
  std::vector<double> w;           // node weights, positive, Σ w = 1
  std::vector<double> y;           // labels, one per node
  std::vector<double> u;           // pre-activations, node i at u[i*m .. i*m+m)
  std::vector<double> z;           // latents, node i at z[i*k .. i*k+k)
  // Fraction of the drawn samples that enter the risk (1 − ε for erase:ε noise: erased samples
  // are dropped, so the effective sample ratio is δ·sample_fraction).
  double sample_fraction = 1.0;
  // Optional (empty, or 2 per node): node i stands for latents whose radius max_a |z_a| ranges over
  // [radius_range[2i], radius_range[2i+1]] — nodes merged by label (group_by_label), whose own z
  // keeps only the group's moments. The Hessian side's tail test of D reads it; empty: max_a |z_a|.
  std::vector<double> radius_range;
  std::string description;         // how the law was produced, for reports

  std::size_t size() const { return w.size(); }
  // Throws InputError naming `parameter` when sizes disagree, a weight is negative or
  // non-finite, the weights do not sum to 1 within 1e-9, or a value is not finite.
  void validate(const std::string& parameter = "law") const;
};

// Deterministic quadrature of the teacher: options of the z-rule and of the label noise.
struct TeacherQuadOptions {
  // k = 1: composite Gauss–Legendre on [−z_max, z_max] against the Gaussian density, with panel
  // ends at the structure points of the link (kinks, plateau ends: pitfalls 3 and 5) and panels
  // at most `panel_width` wide, `panel_points` nodes each. Accurate to ~1e-12 for links smooth
  // between structure points.
  double z_max = 9.0;              // Gaussian mass beyond is 2e-19
  double panel_width = 1.0;        // > 0
  int panel_points = 12;           // 2..40
  // k ≥ 2: tensor Gauss–Hermite with this many nodes per axis (0: automatic — the composite rule
  // below for k = 2, 20 nodes per axis for k = 3). Converges algebraically only for links that
  // are not smooth (sign(z1 z2): δ_NN off by 3% with 48 nodes, error ∝ 1/points; docs/nn.md).
  int hermite_points = 0;
  // k = 2 with hermite_points = 0: tensor product of 1-D composite Gauss–Legendre rules on
  // [−k2_z_max, k2_z_max], panels at most k2_panel_width wide with k2_panel_points nodes, and
  // panel ends at the structure points of the link's axis slices z_a ↦ g(z) (jumps, kinks and
  // plateau ends that lie on lines z_a = c, e.g. sign(z1 z2), min(z1², 4)). Such links are then
  // integrated to near round-off; a discontinuity that is not axis-aligned still converges
  // algebraically. Node count ≈ (2 k2_z_max k2_panel_points / k2_panel_width)².
  double k2_z_max = 8.0;           // Gaussian mass beyond on one axis 1.2e-15; in [4, 12]
  double k2_panel_width = 2.0;     // in (0, k2_z_max]
  int k2_panel_points = 10;        // 2..40 (10: E[z²] to 1e-13)
  // k = 2 composite: also a coarser copy of the rule with this many nodes per panel
  // (TeacherNodes::coarse, for the fixed point's cold starts), where it is below k2_panel_points;
  // 0: none. 0 or 2..40.
  int k2_coarse_panel_points = 6;
  int noise_points = 24;           // Gauss–Hermite nodes for gaussian:VAR output noise, 2..200
  void validate() const;           // throws InputError naming the field
};

// Weighted nodes (z, y) of the joint law of latents and label, y = g(z) followed by `noise`.
// erase:ε keeps the law of the kept samples and sets sample_fraction = 1 − ε; flip:ε maps
// y → −y with probability ε; resample:ε mixes in an independent draw of y from its marginal.
struct TeacherNodes {
  int k = 0;
  std::vector<double> w, z, y;
  double sample_fraction = 1.0;
  std::vector<double> radius_range;  // as Law::radius_range (set by group_by_label)
  // The same teacher on a coarser rule (TeacherQuadOptions::k2_coarse_panel_points; null
  // otherwise): the fixed point's cold starts run on it first (FixedPointOptions::
  // coarse_teacher_cold_starts). It gives starting points only; a consumer that changes the nodes
  // above may keep it as it is.
  std::shared_ptr<const TeacherNodes> coarse;
  std::size_t size() const { return w.size(); }
};
TeacherNodes teacher_nodes(const model::Link& link, const model::Noise& noise,
                           const TeacherQuadOptions& options = {});

// The teacher's nodes merged by label, for laws in which z enters only through its first and second
// moments given y — the init law, where u is independent of (z, y), so that (R1)/(R2) see z only
// through E[z | y] and E[z zᵀ | y] (and the Hessian side's diagnostics through E[z_h F] and
// E[z_h z_hᵀ]). Nodes with equal y (exactly) form a group of weight W, mean μ and covariance
// C = Σ_a λ_a v_a v_aᵀ; it is written as the 2k nodes μ ± √(k λ_a) v_a of weight W/(2k), which
// have the group's weight, mean and second moment exactly, and the range of its members' radii
// max_a |z_a| (radius_range: the tail test of D). Done only where it shrinks the teacher
// (labels taking few values: sign(z1 z2) has 2 groups, 8 nodes instead of 6400; min(z², 4)'s
// plateau and ± pairs, 216 → 50);
// otherwise the teacher is returned unchanged. Higher moments of z given y are not kept, so a
// consumer that needs them (the fixed-point law, whose u depends on z) must not use this.
TeacherNodes group_by_label(const TeacherNodes& teacher);

// Nodes for E[φ(ξ)], ξ ~ N(0, I_dim): u at the init point, the Gaussian part of h at the fixed
// point.
struct GaussianRuleOptions {
  // dim = 1: composite Gauss–Legendre on [−x_max, x_max], panels at most `panel_width` wide with
  // `panel_points` nodes each. Its uniform resolution in ξ resolves the law of D(y, u(ξ)) near its
  // extremes, which decide the bulk edge; Gauss–Hermite nodes are sparse there and make the edge
  // converge erratically in the number of nodes (measured in docs/nn.md).
  double x_max = 8.0;              // Gaussian mass beyond is 1e-15; in [4, 40]
  double panel_width = 0.5;        // in (0, x_max]
  int panel_points = 8;            // 2..40
  // Optional graded panels: the panel ends on [0, ∞), increasing from 0, mirrored to the negative
  // side; when given they replace x_max and panel_width (each axis then has 2·(size − 1)
  // panels of panel_points nodes).
  std::vector<double> panel_ends;
  // Otherwise: tensor Gauss–Hermite with this many nodes per
  // axis (0: default_u_points(dim)); points^dim nodes.
  int hermite_points = 0;          // 0..64
  // Use the composite rule (tensor product of the 1-D composite rule) when dim ≤ composite_max_dim;
  // 0 disables it. Its size grows as (2 x_max panel_points / panel_width)^dim.
  int composite_max_dim = 1;       // 0..8
  void validate() const;           // throws InputError naming the field
};
// Default Gauss–Hermite nodes per axis for an m-dimensional Gaussian: 41, 33, 11, 7, 5, 3, 3, 3 for
// m = 1..8 — odd, so that u = 0 (where D is extremal for the small- and moderate-scale laws) is a
// node. The bulk edge and δ_BBP converge slowly in the number of nodes, from one side for odd and
// from the other for even counts (docs/nn.md): the pair brackets the limit, and
// `deltacrit nn --check-quadrature` reports the difference as an error estimate.
int default_u_points(int m);
// Gauss–Hermite points per axis of init_law's automatic u rule (m beyond the composite rule, init
// scale > 0.05, hermite_points = 0): default_u_points(m) lowered two at a time (odd), to 3 at the least,
// until the law (teacher_nodes × points^m nodes) has at most 5e5 nodes; teacher_nodes counts the
// nodes of group_by_label(teacher). For k = 2 teachers with continuous labels that is far below the
// default (7 for m = 2 and the 6400 nodes of z1 z2; docs/nn.md, Known limits).
int automatic_init_u_points(int m, std::size_t teacher_nodes);
// The rule in `dim` (1..8) dimensions scaled by `scale` (ξ ~ N(0, scale² I)): nodes row by row.
void gaussian_rule(int dim, double scale, const GaussianRuleOptions& options, std::vector<double>& x,
                   std::vector<double>& w);

// Options of the initialisation law.
struct InitLawOptions {
  // Rule for u ~ N(0, S² I_m). When S ≤ 0.05 and m ≥ 2 and hermite_points = 0, 3 Gauss–Hermite
  // nodes per axis are used (D varies by O(S) over the law of u). Otherwise, with hermite_points = 0
  // and m > composite_max_dim: for m = 2 the tensor product of the graded composite rule with the
  // panel ends auto_2d_panel_ends (u_rule.panel_points nodes each) when the law fits the cap of 4e6
  // nodes; else the Gauss–Hermite size is lowered from default_u_points(m) until the law has
  // ≤ 5e5 nodes. Explicit sizes are capped at 4e6 nodes in total with the (grouped) teacher nodes.
  GaussianRuleOptions u_rule;
  // The automatic m = 2 rule's panel ends in ξ = u/S (empty: never use it). Panels 0.5 wide on
  // [−2, 2], where D's extremes that set the bulk edge lie for the activations measured, and wider
  // outside: with 8 nodes per panel (112 per axis) δ_NN of min(z², 4), m = 2, random:1 is within
  // 1e-7 of the converged value for tanh, log cosh, softplus, quadratic, erf, he:2, where panels 1
  // wide everywhere (128 per axis) were 4e-4 off for tanh and Gauss–Hermite with 33 points per
  // axis 5 % (docs/nn.md, Known limits).
  std::vector<double> auto_2d_panel_ends = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 8.0};
  // Use the automatic m = 2 rule even where it exceeds the cap (then init_law fails, naming the
  // cap) instead of falling back to Gauss–Hermite: for `--check-quadrature`'s refined rule.
  bool require_auto_2d = false;
  void validate() const;
};
// How init_law chooses its u rule.
struct InitURule {
  enum class Choice {
    fixed,           // options.u_rule as given (hermite_points set, m ≤ composite_max_dim, or S = 0)
    small_scale,     // S ≤ 0.05, m ≥ 2: 3 Gauss–Hermite points per axis
    composite_2d,    // m = 2: the automatic tensor composite rule
    hermite_budget,  // Gauss–Hermite, automatic_init_u_points(m, teacher_nodes) per axis
  };
  GaussianRuleOptions rule;  // the rule init_law uses
  Choice choice = Choice::fixed;
  std::size_t u_nodes = 0;   // its size
};
// The u rule of init_law for m = width, init scale S > 0 and `options`, where teacher_nodes is
// group_by_label(teacher).size().
InitURule init_u_rule(int width, double scale, const InitLawOptions& options, std::size_t teacher_nodes);

// L₁ at the initialisation point (option (a) of science.md). Each w_j is uniform on the sphere of
// radius S and independent of the data, so as d → ∞, u = Wᵀx ~ N(0, S² I_m) independently of
// (z, y): ⟨w_j, w_l⟩ = O(S²/√d) and Θ*ᵀw_j = O(S/√d) vanish. This is exact in the limit for both
// small:S and random:S (the two differ only in S); small:0 is the S → 0 limit u ≡ 0.
// The law is built on group_by_label(teacher): node counts and the automatic u rule's budget are
// in grouped teacher nodes.
Law init_law(const TeacherNodes& teacher, int width, const InitSpec& init,
             const InitLawOptions& options = {});

}  // namespace deltacrit::phase1
