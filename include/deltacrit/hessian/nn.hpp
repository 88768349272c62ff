#pragma once
// δ_NN: the Hessian phase transition of a two-layer network at a phase-1 point (docs/nn.md;
// science.md "δ_NN"; the mechanism of arXiv 2602.01434 — our own derivation, the paper's body is
// not available).
//
// At the phase-1 point W₁ (W₁ ⊥ Θ_h) the Hessian of the empirical risk is the dm×dm matrix
//   H = (1/n) Σ_i D_i ⊗ x_i x_iᵀ + λ I,   D_i = ℓ'' J Jᵀ + ℓ' diag(a ⊙ σ''(u_i)),  J = a ⊙ σ'(u_i),
// whose bulk follows (R1) and whose outlier along the hard directions solves (R2) (spectral/
// stieltjes.hpp), both expectations over the phase-1 law L₁ of (y, u, z). With n/d = δ:
//   δ_BBP = inf{δ : an outlier along Θ_h exists below the bulk}   (λ_min K(ζ₋) < 0),
//   δ_NN  = inf{δ : that outlier is negative}                     (λ_min K(min(0, ζ₋)) < 0):
// K(ζ) is strictly decreasing in the Loewner order and K(−∞) ≻ 0, so an eigenvalue of H below
// ζ₀ ≤ ζ₋ along Θ_h exists iff K(ζ₀) has a negative eigenvalue; both thresholds are therefore
// roots of smooth scalar functions of δ, found by a scan and a bracketed (TOMS 748) root.
// Above δ_NN gradient descent leaves W₁ along Θ_h at rate |λ_out|: from an O(d^{-1/2}) overlap the
// escape takes t ≈ log d / (2|λ_out|) (gradient-flow time, i.e. learning rate × steps).
#include <array>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "deltacrit/core/status.hpp"
#include "deltacrit/phase1/fixed_point.hpp"
#include "deltacrit/phase1/law.hpp"
#include "deltacrit/phase1/network.hpp"
#include "deltacrit/spectral/stieltjes.hpp"

namespace deltacrit::hessian {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Properties of L₁ that decide whether the theory applies.
struct LawDiagnostics {
  double rms_loss_d1 = 0.0;     // √E[ℓ'²]
  double rms_label = 0.0;       // √E[y²]
  bool interpolating = false;   // rms_loss_d1 ≤ interpolation_tol·max(1, rms_label): ℓ' ≈ 0 on the
                                // law, so D = ℓ''JJᵀ ⪰ 0 and no negative outlier (square loss)
  double hard_gradient = 0.0;   // ‖E[z_h Fᵀ]‖_F: gradient of the risk along Θ_h at W₁; must vanish
                                // for W₁ to be stationary along the hard directions
  double hard_gradient_se = 0.0;    // √(Σ w_i² ‖z_h,i F_iᵀ‖²): its sampling error for an empirical law
                                    // (w = 1/n; negligible for quadrature laws). The warning needs
                                    // hard_gradient > max(hard_gradient_tol·max(1, rms ℓ'), 4·se)
  double hard_second_moment = 0.0;  // max |E[z_h z_hᵀ] − I| entry (quadrature/sampling check)
  double d_min = 0.0, d_max = 0.0;  // extreme eigenvalues of D over the nodes
  double negative_mass = 0.0;   // weight of nodes whose D has a negative eigenvalue
  double max_stored_D_diff = -1.0;  // empirical laws with stored D_i: max |D_recomputed − D_file|
                                    // (large: the network options differ from the run); −1 if n/a
  // Lower tail of D along the latents (Mondelli–Montanari's boundedness condition, arXiv
  // 1708.05932: a spectral matrix (1/n) Σ T_i x_i x_iᵀ has a finite edge only if T is bounded; here
  // T = D and the relevant edge is the lower one). tail_d_min[r] = min λ_min(D_i) over the nodes
  // with max_a |z_a| ≤ tail_radius·2^{r−2} (r = 0, 1, 2: a quarter, half and all of the latent
  // range the law covers). D is declared unbounded below when this minimum keeps falling without a
  // geometric slowdown (last decrease > 0.8 × the previous one and > 1e-6·max(1, |D|)): then the
  // limiting bulk has no lower edge, no outlier separates from it at any δ, and the finite edge of a
  // quadrature law is an artefact of its truncation. The test sees only what the law's latent range
  // shows: a link that stays bounded but keeps changing beyond |z| ≈ range/2 is flagged too.
  std::array<double, 3> tail_d_min{0.0, 0.0, 0.0};
  double tail_radius = 0.0;
  bool unbounded_below = false;
  std::string unbounded_reason;  // sentence explaining the flag (empty when not flagged)
  double d_spread = 0.0;        // √E‖D − E[D]‖²_F / ‖E[D]‖_F: ≈ 0 when the Hessian does not see (y, u)
};

// The weight law (D_i, z_h,i, w_i) of (R1)/(R2) built from L₁. `hard` are 0-based latent indices.
spectral::WeightLaw weight_law(const phase1::Law& law, const phase1::Network& net, const std::vector<int>& hard,
                               double interpolation_tol = 1e-6, LawDiagnostics* diagnostics = nullptr);

// A phase-1 law at sample ratio δ. Laws that do not depend on δ (init, empirical) return the same
// law every time; the fixed-point law is re-solved per δ.
struct LawAt {
  phase1::Law law;
  Status status = Status::success;
  std::string message;          // stage and reason when status ≠ success
  std::string branch;           // phase-1 branch description (fixed point), may be empty
  bool depends_on_delta = false;
  bool stationary = false;      // W₁ is claimed to be a local minimum (fixed point): check ζ₋ > 0
  // The law satisfies the stationary-point equations on its own nodes (fixed point: false when the
  // continuation of the solution to the law's rule did not converge; the law is then that of the
  // iteration rule's solution, off by the quadrature error). Always true for init and empirical.
  bool consistent = true;
  // Fixed point: the quadrature error q of the law's rule in (M, Q, Γ) (max norm, the difference of
  // T on that rule and on the next coarser one) where the solve estimated it — the law's rule had
  // no fixed point to the tolerance (resolution-limited or stalled within q) or the polish failed;
  // 0 otherwise, and for init and empirical laws.
  double quadrature_error = 0.0;
  // Fixed point: 1 + the largest |entry| of (M, Q, Γ) at the solution, the scale of the
  // tolerances of the fixed-point solver (FixedPointOptions::tol); 1 otherwise.
  double parameter_scale = 1.0;
};
using LawProvider = std::function<LawAt(double delta)>;

// A δ-independent law (init, empirical).
LawProvider constant_law(phase1::Law law, std::string branch = {});
// The stationary-point law re-solved at each δ. At the first δ every start runs and the
// lowest-risk solution is taken; later δ continue that branch from the solutions already found
// (the nearest in log δ and phase1::continuation_predictor through the two or three nearest;
// phase1::solve_fixed_point)
// and fall back to all starts when the continuation fails. The branch string reports how the
// solution was found, whether it was unique among the starts, and the mass of nodes with a
// non-convex prox.
LawProvider fixed_point_law(phase1::TeacherNodes teacher, phase1::Network net, phase1::FixedPointOptions options);

struct NNOptions {
  double ridge = 0.0;                 // λ ≥ 0: ridge of the risk, adds λI to H
  std::vector<int> hard;              // 0-based hard latent indices (1..3 of them)
  double interpolation_tol = 1e-6;    // see LawDiagnostics::interpolating
  double hard_gradient_tol = 1e-3;    // above: warn that W₁ is not stationary along Θ_h
  spectral::StieltjesOptions stieltjes;
  // δ-independent laws (init, empirical): start each δ's bulk-edge continuation from the previous
  // evaluation's edge when the two δ are within a factor e^{0.5} (spectral::StieltjesSolver::
  // outliers' edge hint); off, and always for the fixed-point law: every δ from ζ → −∞. Values
  // agree to the solver's root tolerance either way.
  bool edge_warm_start = true;
  // Threshold search: geometric scan of δ in [delta_min, delta_max], then TOMS 748 in log δ.
  double delta_min = 0.05;            // > 0
  double delta_max = 1000.0;          // > delta_min
  int scan_per_decade = 6;            // 1..100
  double delta_rel_tol = 1e-6;        // relative width of the final bracket, (0, 0.1)
  // Scan the whole range instead of stopping at δ_NN, to find where the negative outlier
  // disappears again (Thresholds::nn_end); for init laws the outlier can turn positive at large δ,
  // as the Hessian tends to its population value.
  bool scan_to_max = false;
  // Opt-in check of each threshold's resolution (docs/nn.md "Resolution of δ_BBP and δ_NN"): after
  // the root δ* is found, the event is evaluated at δ*(1 ± r_j), r_j = threshold_check·j/
  // threshold_check_points (j = 1..points), and these points join the resolution. 0 = off (the
  // resolution then uses only the points the scan and the root search evaluated anyway). A
  // physical re-entrance of the event within δ*(1 ± threshold_check) is counted as disagreement,
  // so keep it below the distance to any other crossing.
  double threshold_check = 0.0;       // R in [0, 0.5]
  int threshold_check_points = 4;     // per side, 1..20 (2·points extra evaluations per threshold)
  void validate() const;              // throws InputError naming the field
};

struct PointResult {
  double delta = 0.0;                 // n/d as the user gave it
  double delta_effective = 0.0;       // δ × sample_fraction (erased samples dropped)
  double bulk_edge = 0.0;             // lower edge ζ₋ of H's bulk
  std::array<double, 2> bulk_edge_bracket{0.0, 0.0};
  bool outlier = false;
  double lambda_out = std::numeric_limits<double>::quiet_NaN();  // NaN when no outlier
  double overlap = std::numeric_limits<double>::quiet_NaN();     // squared overlap with Θ_h ⊗ R^m
  double escape_time_per_log_d = std::numeric_limits<double>::quiet_NaN();  // 1/(2|λ_out|) if λ_out < 0,
                                                                            // +inf if λ_out ≥ 0
  // Escape of the normalised overlap: W − W₁ grows along the outlier at rate |λ_out| and along the
  // bulk at rate max(0, −ζ₋), so the θ_h-overlap of the direction of W − W₁ grows at rate
  // r = min(ζ₋, 0) − λ_out; from an O(d^{-1/2}) start it is O(1) after log d/(2r). Equals the
  // previous one when the bulk is non-negative (phase-1 minimum); differs at a saddle (init).
  double escape_time_relative_per_log_d = std::numeric_limits<double>::quiet_NaN();
  double k_min_at_edge = 0.0;         // λ_min K(ζ₋): < 0 iff outlier (zero at δ_BBP)
  double k_min_at_zero = 0.0;         // λ_min K(min(0, ζ₋)): < 0 iff negative outlier (zero at δ_NN)
  int outliers = 0;                   // number of outliers along Θ_h below the bulk
  LawDiagnostics law;
  std::string branch;                 // phase-1 branch (fixed point)
  // Fixed-point laws only: the stationary point is a local minimum in the non-hard directions iff
  // the Hessian bulk lies above 0 (ζ₋ > 0). Otherwise the leave-one-out (replica-symmetric)
  // solution is unstable — it is not the point gradient descent reaches and its law is unreliable
  // (docs/nn.md); reported in `message`.
  bool phase1_unstable = false;
  // Fixed-point laws only: LawAt::consistent (false: a warning in `message`).
  bool phase1_law_consistent = true;
  // Fixed-point laws only: LawAt::quadrature_error (0: not estimated, or an exact law), and that
  // error relative to LawAt::parameter_scale; from kResolutionWarning (1 %) on, `message` warns
  // that the point's bulk edge, outlier and stability verdict carry an error of that order.
  double phase1_quadrature_error = 0.0;
  double phase1_quadrature_error_relative = 0.0;
  // D is unbounded below on L₁ (LawDiagnostics::unbounded_below): no transition in the limit.
  // bulk_edge is then −inf, there is no outlier and k_min_* are +inf; `message` gives the reason.
  bool no_transition = false;
  Status status = Status::not_computed;
  std::string message;                // failing stage ("phase1", "bulk edge", "outlier") and reason
};

// One evaluated δ of a threshold's event, classified as "holds" (event true: the side above the
// crossing) or not.
struct CrossingSample {
  double delta = 0.0;
  bool holds = false;
};

// How well evaluated points determine a single crossing at `root` of an event that does not hold
// below the crossing and holds above it. A sample disagrees with that crossing if it lies below
// root and holds, or above root and does not hold. With lo/hi the smallest/largest of root and the
// disagreeing δ:
//   resolution = max(root − lo, hi − root) / root     (relative half-width; 0 when none disagrees)
//   span       = [lo, hi]                             (= [root, root] when none disagrees)
// If the root lies between L = min{δ : holds} and U = max{δ : not holds} (true of a root found by
// bracketing among these samples), span = [L, U]: the δ over which the samples say the event's sign
// is not decided by δ alone, and every δ in it is a crossing of some single-crossing fit.
// monotone = no sample disagrees (then every non-holding sample lies below every holding one).
// sign_changes counts changes of `holds` between neighbours in δ order (1 for a clean crossing).
struct CrossingResolution {
  double resolution = 0.0;
  std::array<double, 2> span{0.0, 0.0};
  bool monotone = true;
  int disagreeing = 0;
  int sign_changes = 0;
  int samples = 0;
};
// root > 0 and finite; samples with non-finite or non-positive δ are InputError ("samples").
CrossingResolution crossing_resolution(std::vector<CrossingSample> samples, double root);

// Scatter of an event's values about a smooth local fit, in δ units: the samples (δ_i, v_i) with
// |x_i| ≤ half_width, x_i = δ_i/root − 1, are fitted by least squares with v ≈ a + b x + c x²
// (the quadratic absorbs the curvature of a smooth event);
//   jitter = s / |b|,   s = √(Σ residual² / (n − 3)),
// the relative shift of δ equivalent to one standard deviation of the scatter (a smooth event
// gives only its cubic Taylor remainder, ≲ half_width³·|v‴/v'|). NaN (not estimated) when fewer
// than 6 samples lie in the window, fewer than 4 distinct x (closer than 1e-3·half_width count
// as one), or fewer than 2 distinct x on either side with |x| ≥ kJitterSpread·half_width: a fit to
// the root search's points, which cluster at the root and on one side, measured the softplus m = 2
// event's scatter 11× too small (docs/nn.md, "Resolution of δ_BBP and δ_NN"); +inf when b = 0.
inline constexpr double kJitterSpread = 0.2;
struct EventSampleValue {
  double delta = 0.0;
  double value = 0.0;
};
struct EventJitter {
  double jitter = std::numeric_limits<double>::quiet_NaN();
  double slope = std::numeric_limits<double>::quiet_NaN();  // b: dv/d(δ/root) at root
  double rms = std::numeric_limits<double>::quiet_NaN();    // s
  int samples = 0;                                          // n in the window
};
// root > 0 finite, half_width in (0, 1); non-finite samples are InputError ("samples").
EventJitter event_jitter(const std::vector<EventSampleValue>& samples, double root, double half_width);

// The event values thresholds() computed at one δ (scan, root search, threshold check).
struct EventSample {
  double delta = 0.0;
  double k_min_at_edge = 0.0;         // φ(δ): BBP event holds iff < 0
  double k_min_at_zero = 0.0;         // ψ(δ): NN event holds iff < 0
  double law_quadrature_error = 0.0;  // PointResult::phase1_quadrature_error at δ
};

// Half-width (relative) of the window of event_jitter around a threshold, and the jitter above
// which the threshold carries a warning: 1e-3 (0.1% in δ) is above the quadratic fit's remainder
// of the smooth events measured (1e-7 … 1.3e-4, docs/nn.md) and at the level where the third digit
// of a threshold is no longer determined.
inline constexpr double kJitterHalfWidth = 0.05;
inline constexpr double kJitterWarning = 1e-3;
// PointResult::phase1_quadrature_error_relative from which a point's message warns.
inline constexpr double kResolutionWarning = 1e-2;

struct Threshold {
  double value = kInf;                // +inf: not reached in [delta_min, delta_max]; δ_min if already
                                      // reached at the bottom of the range (then below_range)
  std::array<double, 2> bracket{kInf, kInf};
  bool below_range = false;           // the event already holds at delta_min
  bool reentrant = false;             // the event was lost again at a larger scanned δ
  int evaluations = 0;                // δ-points evaluated for this threshold (scan + root + check)
  // Resolution (crossing_resolution) of a crossing found by the scan and the root search: over every
  // δ that thresholds() evaluated successfully (for any threshold) within the scan bracket
  // [δ_j, δ_{j+1}] and, with NNOptions::threshold_check = R > 0, within value·(1 ± R). 0 with
  // monotone = true when these points agree with a single crossing at `value` (the bracket then
  // gives the precision); otherwise the event is not monotone there, the bracket does not measure
  // the uncertainty, `resolution` does (as a lower bound: more points can only widen it) and
  // `message` carries a warning. Not computed (0, monotone) when value is +inf or below_range.
  double resolution = 0.0;
  std::array<double, 2> resolution_span{kInf, kInf};  // CrossingResolution::span
  bool monotone = true;
  int resolution_samples = 0;         // evaluated points inside the window
  int check_points = 0;               // of them, evaluated by the threshold check (successful ones)
  // event_jitter of the event's values over the evaluated δ within value·(1 ± 0.05): the value of
  // the event scatters about a smooth curve by this relative δ-equivalent (NaN: too few points).
  // Sign-consistent samples can hide a noisy event (docs/nn.md): `message` warns when it exceeds
  // kJitterWarning.
  double jitter = std::numeric_limits<double>::quiet_NaN();
  int jitter_samples = 0;
  Status status = Status::not_computed;
  std::string message;
};

struct Thresholds {
  Threshold bbp, nn;
  Threshold nn_end;                   // scan_to_max: first δ > δ_NN where no negative outlier is left
                                      // (+inf: none up to delta_max; not computed otherwise)
  bool interpolating = false;         // the square-loss caveat held at the scanned points
  // D was unbounded below on the law at every scanned point: the limiting Hessian bulk has no lower
  // edge, so there is no transition at any δ; bbp/nn are +inf with status success and
  // `no_transition_reason` says why (a number from the truncated quadrature would be an artefact).
  bool no_transition = false;
  std::string no_transition_reason;
  std::vector<PointResult> scan;      // the scanned points
  std::vector<EventSample> samples;   // every successfully evaluated δ, in evaluation order
  Status status = Status::not_computed;
  std::string message;
};

class Analyzer {
 public:
  // Validates options (InputError) against the network width; `provider` supplies L₁(δ).
  Analyzer(phase1::Network net, NNOptions options, LawProvider provider);

  // Bulk edge, outlier, overlap and escape time at one δ.
  PointResult point(double delta);
  // δ_BBP and δ_NN (scan + bracketed root).
  Thresholds thresholds();

  const NNOptions& options() const { return options_; }

 private:
  PointResult evaluate(double delta);
  phase1::Network net_;
  NNOptions options_;
  LawProvider provider_;
  // Cache of the weight law for δ-independent providers.
  std::optional<spectral::WeightLaw> cached_law_;
  LawDiagnostics cached_diag_;
  double cached_fraction_ = 1.0;
  std::string cached_branch_;
  bool cache_valid_ = false;
  // The last evaluation's bulk edge (a fold) and its δ, for NNOptions::edge_warm_start.
  std::optional<spectral::EdgeResult> edge_hint_;
  double edge_hint_delta_ = 0.0;
};

}  // namespace deltacrit::hessian
