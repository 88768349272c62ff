#pragma once
// Phase-1 law from the stationary-point (leave-one-out) equations — option (b) of science.md; our
// own derivation (the body of arXiv 2602.01434 is not available), standard for ridge-regularised
// M-estimation (cf. El Karoui arXiv 1311.2445; Celentano & Montanari arXiv 2112.07572 for the
// dynamical version). At a stationary point W₁ of R̂(W) = (1/n) Σ ℓ(y_i, f(W x_i)) + (λ/2)‖W‖_F²
// that is a local minimum with a positive-definite Hessian, the law of (y, u, z) is
//   u = prox(h) : u = h − Γ F(y, u),      h | z ~ N(Mᵀz, Q − MᵀM),
//   λ Q = −E[u Fᵀ],   λ M = −E[z Fᵀ],   δ Γ = (λ I + E[D (I + Γ D)^{-1}])^{-1},
// with M = Θ*ᵀW₁ (k×m), Q = W₁ᵀW₁ (m×m), Γ = S(0)/δ where S is the solution of (R1) at ζ = 0 (so
// that δΓ = S(0) is an identity the tests check). The rows of M of the hard latents are held at 0
// (W₁ ⊥ Θ_h). The prox is the global minimiser of ½(u − h)ᵀΓ^{-1}(u − h) + ℓ(y, f(u)) (damped
// Newton from several starts, fixed_point.cpp). Needs ridge λ > 0.
//
// For non-convex ℓ∘f several fixed points can exist: the solver starts from several points,
// reports every distinct solution with its risk and stability, and takes the one of lowest
// regularised risk (the branch). Stability of the minimum in the non-hard directions is checked by
// the caller (the Hessian bulk edge must be > 0).
#include <string>
#include <utility>
#include <vector>

#include "deltacrit/core/status.hpp"
#include "deltacrit/phase1/law.hpp"
#include "deltacrit/phase1/network.hpp"

namespace deltacrit::phase1 {

struct FixedPointOptions {
  double ridge = 0.05;          // λ > 0 (required: the equations λQ = −E[uFᵀ] need it)
  std::vector<int> hard;        // 0-based indices of hard latents (rows of M held at 0)
  int xi_points = 0;            // Gauss–Hermite nodes per axis for the Gaussian part of h in
                                // the iteration (0: default_iteration_points(m))
  // Rule for the Gaussian part of h in the returned law (composite for m = 1, which resolves the
  // extremes of D for the bulk edge; see GaussianRuleOptions). The law is evaluated once at the
  // converged (M, Q, Γ); its moments agree with the iteration's to the Gauss–Hermite accuracy.
  GaussianRuleOptions law_rule;
  double tol = 1e-10;           // convergence: max-norm change of (M, Q, Γ) relative to 1 + ‖·‖
  int max_iter = 2000;          // iterations per start
  // A start is abandoned (not_converged) when its best residual has not halved over the last
  // stall_window iterations and halving once per window could not reach tol within max_iter;
  // 0 disables the test.
  int stall_window = 100;
  // When no start converges on the automatic iteration rule (xi_points = 0), retry with up to this
  // many finer rules (points per axis + e·max(1, points/4), e = 1, 2, …; each from the failed
  // start with the lowest residual): the discretised map is discontinuous where a node's prox switches
  // minimum, and a finer rule shrinks the jumps (fixed_point.cpp). 0..4.
  int escalations = 2;
  // After convergence on the iteration rule, continue the iteration on the law's rule (law_rule)
  // from that solution, so that the returned law satisfies the equations on its own nodes
  // (FixedPointResult::law_consistent). Off: the law is evaluated at the iteration rule's solution.
  bool polish_on_law_rule = true;
  // Budget of the polish: at most this many iterations, and it is abandoned when its best residual
  // has not halved over 20 iterations (the polish starts within the quadrature error of the
  // solution; a stalled polish is a discretised map that jumps, fixed_point.cpp). 1..100000.
  int polish_max_iter = 100;
  double damping = 0.5;         // step of the damped iteration X ← X + damping (T(X) − X), in (0, 1]
  int anderson = 5;             // Anderson acceleration depth (0: plain damped iteration)
  // After this many damped/Anderson steps without convergence, switch to Newton on T(X) − X with a
  // finite-difference Jacobian (free coordinates + 1 applications of T per step; back to Anderson
  // if a Newton step fails to decrease the residual). 0: never. Each application of T counts
  // against max_iter. Off by default: where Anderson stalls (softplus m = 2 near δ ≈ 1.6–2.3) the
  // discretised T is discontinuous (a node's Newton-from-h prox jumps between local minima) and
  // has no fixed point to 1e-10, so Newton does not help there either (docs/nn.md, Numerics).
  int newton_after = 0;
  int prox_max_iter = 60;       // Newton iterations per node
  double prox_tol = 1e-12;      // Newton stopping rule on ‖u − h + ΓF‖∞
  // The prox in the returned law is the global minimiser of its objective (several Newton starts);
  // the iteration uses Newton from u = h only unless prox_global_iteration (3–5× slower). The mass
  // of nodes where the two differ is reported (FixedPointResult::nonglobal_mass).
  bool prox_global_iteration = false;
  // The global prox skips its extra starts at nodes where its objective is certifiably convex on
  // the sublevel set of the Newton-from-h point (then that point is the global minimiser; the bound
  // uses sup|σ''|, sup|σ'|, sup|σ| and |ℓ'|, fixed_point.cpp). Off: every start always runs.
  bool prox_convexity_certificate = true;
  // Where that bound fails, the certificate also tries one per neuron on a box around h that holds
  // the sublevel set (the ranges of σ and σ'' there; fixed_point.cpp, convex_on_box):
  // softplus m = 2 at δ = 1.8 certified 35 % → 89 % of the mass (docs/nn.md, Numerics). The law
  // is the same either way. Off: the global-suprema bound only.
  bool prox_interval_certificate = true;
  // A start of the global prox other than Newton from h stops once it comes within 1e-3 (1 + ‖u‖∞)
  // of the best minimiser found so far, where that one's Newton converged (it would end there; fixed_point.cpp,
  // kKnownMinimiserDistance). Off: every start runs to its own end.
  bool prox_stop_at_known_minimiser = true;
  // Principal-axis rule for nearly coincident neurons (m ≥ 2, tensor Gauss–Hermite law rule): where
  // the second-largest eigenvalue λ₂ of Q − MᵀM is below principal_axis_ratio times the largest λ₁
  // (at the warm start of a continuation, else at the solution on the iteration rule), the law's
  // rule for the Gaussian part of h is a 1-D Gauss–Hermite rule along the principal axis (41 nodes)
  // times a small rule scaled by the square root of the rest of the covariance — the 4 sign vectors
  // (±1, ±1) for m = 2, the 2m nodes ±√m e_i for m ≥ 3 (exact mean, covariance and third moments;
  // fourth moments off by O(λ₂²)) — instead of the tensor rule (33² for m = 2, 7⁴ for m = 4): 164
  // nodes for m = 2, 328 for m = 4, all of them resolving the one direction that matters.
  // Measured (docs/nn.md, Numerics): tanh m = 4, fixed:1/4,…, min(z², 4) has λ₂/λ₁ ≤ 3e-3 at every δ
  // (the four neurons nearly coincide) and the 7⁴ rule puts 7 nodes along the principal axis. The
  // iteration rule (cold starts) stays the tensor rule. 0 disables; in [0, 0.1].
  double principal_axis_ratio = 1e-2;
  // m = 2 with equal second-layer weights (the default fixed:1/2,1/2), Gauss–Hermite rules: the rule
  // for the Gaussian part of h is split along the plane h₁ − h₂ = const through the mean — a
  // Gauss–Hermite rule along (1, 1)/√2 times a half-range Gauss rule on each side along
  // (1, −1)/√2 (p − ⌊p/4⌋ × 2⌊p/3⌋ nodes for p points per axis: 550 for the law's rule) — instead
  // of the rotated p² tensor rule. The prox jumps between the two swapped minimisers across
  // h₁ = h₂ where its minimiser is off the diagonal; at a symmetric point that plane is the split,
  // and the rule keeps T's symmetry (fixed_point.cpp, split_symmetric_rule; docs/nn.md, Numerics).
  // Off: the rotated tensor rule. Other widths and weights are not affected.
  bool split_symmetric_rule = true;
  // m = 1 with the composite law rule (GaussianRuleOptions::composite_max_dim ≥ 1, the default):
  // every map of the solve uses the global prox, on composite Gauss–Legendre rules in ξ (the
  // iteration's: 8 panels of x_max/4 with 12 nodes each, 96 nodes, or xi_points/8 each when set;
  // the law's: law_rule) whose panels are cut
  // at the points where the global prox jumps. For m = 1 the global minimiser u*(h) of
  // ½(u − h)²/Γ + ℓ(y, f(u)) is nondecreasing in h and jumps only at Maxwell points h_c, where the
  // convex envelope of G(u) = u²/2 + Γℓ(y, f(u)) has a linear piece (a bitangent touching G at
  // a < b, G'(a) = G'(b) = h_c); between them it is smooth. Each teacher group's jumps are found
  // from G alone (the lower convex hull of G sampled over the range that holds u*, every local
  // minimum of H' = 1 + ΓD between the samples refined so that a non-convex piece is cut from its
  // birth, and Newton on the Maxwell condition for each bitangent), and each panel is integrated in
  // u, as two pieces where it holds a jump (Gauss–Legendre nodes with the density of h times H'),
  // so that T is continuous in (M, Q, Γ) — smooth except for a √ onset where a label group's
  // non-convex piece is born — where the local-prox map jumps: the law is a fixed point of the
  // global equations on its own rule, and the continuation runs Broyden on the iteration rule first
  // at every δ (fixed_point.cpp, accumulate_split; docs/nn.md, Numerics, sessions 15 and 16). On by
  // default since session 16. Off: the iteration uses Newton from h on the Gauss–Hermite rule
  // (prox_global_iteration aside) and the rules are not cut (their discretised map jumps where a
  // node's prox switches minimum). Other widths are not affected.
  bool split_at_prox_jumps = true;
  std::vector<double> start_scales = {0.3, 1.0, 2.0};  // starts Q₀ = s² I (learned rows of M₀ =
                                                       // s/√2 on the diagonal, and 0)
  // With a warm start that converges, also run the cold starts (to re-check uniqueness at every
  // δ). Off by default: a δ-scan checks uniqueness at its first δ and whenever the warm start fails.
  bool cold_starts_with_warm = false;
  // Without a warm start and with the automatic iteration rule (xi_points = 0), the cold starts run
  // first on a coarse rule (coarse_iteration_points(m) nodes per axis: 16 for m = 1, 6² for m = 2;
  // no coarse stage for m ≥ 3), where starts that reach an earlier start's solution stop; only the
  // distinct coarse solutions (and the starts that did not converge there) are continued on the
  // iteration rule. Uniqueness is then judged on the coarse rule first: two starts that reach one
  // solution there count as one. Measured at δ = 0.05 (first point of a scan), tanh m = 2,
  // fixed:0.5,0.5, z1 + z2², latent 2 hard: 30.6 → 12.4 s, same solution (docs/nn.md, Numerics).
  // Off by default: over 378 cold solves (k = 1, m ≤ 2, seven activations, three links, δ = 0.3,
  // 1, 3) it ended on another branch in a few of them, and in one reported a unique solution where
  // the starts on the iteration rule found two (docs/nn.md, Known limits).
  bool coarse_cold_starts = false;
  // Without a warm start, where the teacher carries a coarser rule (TeacherNodes::coarse: k = 2,
  // 6 instead of 10 nodes per panel, 2304 instead of 6400 nodes), the cold starts run on it first,
  // with the same h rule and the coarse stage's budget and merging (above); the distinct solutions
  // there go on to the iteration rule on the full teacher (where a start neither converges nor
  // merges on the coarse teacher, the stage is abandoned and every start runs on the full teacher
  // from its own start), where they arrive within the coarse rule's quadrature
  // error of its fixed point (Q moved by 6e-4–4e-3 relative at δ = 0.05 for the k = 2 links
  // measured). Uniqueness is then judged on the coarse teacher first. Measured (session 19,
  // docs/nn.md, Numerics): the first δ of tanh m = 2, z1 + z2², 18.4 → 7.7 s.
  bool coarse_teacher_cold_starts = true;
  // With a warm start (and polish_on_law_rule), the solution is first continued directly on the
  // law's rule: Broyden's method from the predictor, then from the warm start (with the warm
  // start's Jacobian estimate; skipped where the predictor's run ended within the law rule's
  // quadrature error), then the Anderson iteration from the best of them, each with at most this
  // many applications of T (the Anderson stage is abandoned when its best residual has not halved
  // over 10 iterations); only when all fail does the solver fall back to the
  // iteration rule, the cold starts and the polish. A continued solution is a fixed point on the
  // law's rule like a polished one (law_consistent), found without the detour to the coarser rule
  // and back (fixed_point.cpp). 0: no direct continuation.
  int continuation_max_iter = 60;
  // Where the nearby solution's law was certified convex on all its mass (FixedPointBranch::
  // law_convex_certified: every node's prox has a single minimum, so T on the law's rule is smooth
  // there) and the iteration rule has at most a third of the law rule's h nodes, the continuation
  // first runs Broyden on the iteration rule (at most continuation_max_iter / 3 applications, from
  // the predictor, else the warm start) and starts the law rule's Broyden from its solution, which
  // lies within the two rules' quadrature difference of the law rule's fixed point. The returned
  // point is a fixed point on the law's rule to `tol` as without it (law_consistent). Measured
  // along `nn --find` for tanh(z1) + min(z2², 4), m = 1, k = 2, ridge 0.2, at δ ≥ 10.8: 7–8
  // applications of T per δ on the 256-node composite rule (the law's own one included) → 1–7 on
  // the 40-node Gauss–Hermite rule and 1 on the law's, which tests the point and writes the law
  // where the law's global map certifies every node (5 at δ = 10.8 and 4 at δ = 1000, where it
  // did not and the law rule's Broyden ran; docs/nn.md, Numerics, session 12).
  bool continuation_iteration_rule_first = true;
  // Pairs (teacher node, Gaussian node of h) whose joint weight is below this floor are left out
  // of T and of the returned law, and the rest renormalised to mass 1. Tensor and product rules
  // put most of their nodes in the corners of their box, where the Gaussian mass is negligible:
  // at 1e-14 the floor leaves out 60 % of the law's nodes for tanh(z1) + min(z2², 4), m = 1, k = 2
  // (mass 4e-10) and 75 % for min(z², 4), m = 2 (33² h nodes; mass 3e-11) — a ball of radius ≈ 8
  // instead of the box. Measured effect on `nn --find` (docs/nn.md, Numerics): δ_BBP, δ_NN moved
  // by ≤ 1e-10 relative between floors 1e-18 and 1e-14 (log cosh m = 1, softplus m = 2) and 2e-9
  // between 1e-16 and 1e-14 (the k = 2 case above); 0 keeps every node. In [0, 1e-10].
  double node_weight_floor = 1e-14;
  // Threads of one application of T (its teacher groups are cut into a fixed set of chunks and
  // reduced in order: the result is bit-identical for any value). 1..64.
  int threads = 1;
  void validate(int k, int m) const;  // throws InputError naming the field
};

// Default Gauss–Hermite nodes per axis for h in the iteration: 40, 16, 6, 4, 3, 3, 3, 3 for
// m = 1..8 (the iteration needs smooth moments only; the law uses FixedPointOptions::law_rule).
int default_iteration_points(int m);
// Nodes per axis of the coarse rule of the cold starts (FixedPointOptions::coarse_cold_starts):
// 16 for m = 1, 6 for m = 2, 0 (no coarse stage) for m ≥ 3.
int coarse_iteration_points(int m);
// The split rule of m = 2 with equal second-layer weights (FixedPointOptions::split_symmetric_rule)
// that stands for a tensor rule of p points per axis: {p − ⌊p/4⌋ Gauss–Hermite nodes along
// (1, 1)/√2, ⌊p/3⌋ half-range Gauss nodes on each side along (1, −1)/√2} (p ≥ 1).
std::pair<int, int> split_rule_points(int p);
// The h rule of p points per axis in words: "p^m h nodes", or with `split` (m = 2)
// "n_s x 2*n_t h nodes (split along h1 = h2)", or with `cut_at_jumps` (m = 1,
// FixedPointOptions::split_at_prox_jumps; p is then the node count) "p composite h nodes (cut where
// the prox jumps)".
std::string h_rule_text(int p, int m, bool split, bool cut_at_jumps = false);

struct FixedPointBranch {
  std::vector<double> M;        // k×m row-major (hard rows 0)
  std::vector<double> Q;        // m×m
  std::vector<double> Gamma;    // m×m
  double risk = 0.0;            // E[ℓ(y, f(u))] + (λ/2) tr Q
  double train_loss = 0.0;      // E[ℓ(y, f(u))]
  double residual = 0.0;        // max-norm of T(X) − X at the solution
  int iterations = 0;
  int start = 0;                // index of the first start that reached it
  Status status = Status::not_computed;
  // Nodes whose prox Hessian Γ^{-1} + D was not positive definite at the returned u, as a
  // fraction of the weight (0 for convex ℓ∘f).
  double nonconvex_mass = 0.0;
  double prox_failures = 0.0;   // weight of nodes where Newton did not reach prox_tol
  // FixedPointResult::law_quadrature_error at this solution when it was accepted as
  // resolution-limited (0 otherwise). Carried to the next δ of a continuation, where the
  // continuation stops as soon as its residual is below a tenth of it (then re-checked there).
  double quadrature_error = 0.0;
  // Broyden estimate of the Jacobian of T(X) − X over the free coordinates of (M, Q, Γ) at the
  // solution (n×n column-major), carried to the next δ of a continuation; empty when the solution
  // was not found by the continuation.
  std::vector<double> jacobian;
  // The global prox was certified convex (prox_convexity_certificate) on all of the returned law's
  // mass, to `tol`: 1 − pruned_mass − convex_certified_mass ≤ tol (FixedPointResult). Set on the
  // chosen branch; carried to the next δ of a continuation (continuation_iteration_rule_first).
  bool law_convex_certified = false;
};

struct FixedPointResult {
  Law law;                      // L₁ of the chosen branch
  std::vector<FixedPointBranch> branches;  // distinct converged solutions (and failures), chosen first
  int chosen = -1;              // index into branches (0 when any start converged)
  bool unique = true;           // all converged starts agree (modulo neuron sign/permutation)
  bool uniqueness_checked = false;  // false when only the warm start was run
  // Starts stopped early because they reached a solution found by an earlier start (within ten
  // times their residual, once it was below 1e-6 (1 + ‖X‖∞)); they count as agreeing with it.
  int merged_starts = 0;
  // The solution was continued directly on the law's rule from the predictor (1) or the warm
  // start (2); 0: found on the iteration rule (and then polished).
  int continued_from = 0;
  int iteration_points = 0;     // Gauss–Hermite nodes per axis of the rule the solution was found on
                                // (split_at_jumps: the composite rule's node count)
                                // (0 when it was continued on the law's rule)
  bool escalated = false;
  // False when no start converged on the iteration rule and the solution is the polish, on the
  // law's rule, of the start with the lowest residual there (that rule jumps too; fixed_point.cpp).
  bool iteration_converged = true;       // the automatic rule failed and a finer one (escalations) succeeded
  // The solution was continued to convergence on the law's rule (polish_on_law_rule): the law's
  // moments satisfy the equations to `tol`, or — law_resolution_limited — to a tenth of the
  // quadrature error of T on that rule. False when neither holds (then the law is evaluated at
  // the point of lowest residual on the law's rule that the polish reached, which is the iteration
  // rule's solution when the polish made no progress; law_residual says how far off it is) or
  // when the polish was not run.
  bool law_consistent = false;
  // Where the law's rule has no fixed point to `tol` — the discretised T jumps where a node's prox
  // switches between local minima (tanh m = 4, the k = 2 rules; docs/nn.md, Numerics) — a point
  // is accepted when its residual on the law's rule is at most a tenth of law_quadrature_error,
  // ‖T_L(X) − T_L'(X)‖∞ with L' the law's rule with one node fewer per axis (per panel for the
  // composite rule): the equations then hold on the law's nodes ten times more accurately than
  // the law's rule resolves them, and both errors move X by the same (I − ∂T)^{-1}.
  bool law_resolution_limited = false;
  // The continuation stalled on the law's rule at a residual above a tenth of the rule's quadrature
  // error but within it, and was accepted there without the cold starts and the polish (which do
  // no better on the same rule, fixed_point.cpp); law_consistent is false and the law carries the
  // residual and the quadrature error as a warning.
  bool law_within_quadrature_error = false;
  double law_residual = 0.0;          // ‖T(X) − X‖∞ on the law's rule at the returned point (when run)
  double law_quadrature_error = 0.0;  // ‖T_L(X) − T_L'(X)‖∞ (0: not computed; only when tol is missed)
  int polish_iterations = 0;
  // Applications of T on the iteration rule before the continuation on the law's rule
  // (continuation_iteration_rule_first; 0 when that stage did not run or did not converge).
  int iteration_rule_first_applications = 0;
  // Distinct solutions the cold starts reached on the coarse rule (coarse_cold_starts; 0 when that
  // stage did not run or was abandoned because none of them converged on the iteration rule).
  int coarse_start_solutions = 0;
  // Nodes of the coarse teacher the cold starts ran on first (coarse_teacher_cold_starts; 0: the
  // full teacher).
  std::size_t coarse_teacher_nodes = 0;
  bool coarse_h_rule = false;  // and on the coarse h rule (coarse_cold_starts)
  int map_applications = 0;          // applications of T in this solve, on every rule (a memoised
                                      // repeat at the same point does not count; the law's is one)
  // Weight of law nodes whose global prox differs from Newton-from-h (> 0: the iteration's
  // equations used local minimisers there; rerun with prox_global_iteration).
  double nonglobal_mass = 0.0;
  // Weight of law nodes where the global prox was certified by convexity and ran one Newton start
  // (prox_convexity_certificate).
  double convex_certified_mass = 0.0;
  // Mass of the (teacher node × Gaussian node) pairs below FixedPointOptions::node_weight_floor,
  // left out of the returned law (whose weights are renormalised to 1).
  double pruned_mass = 0.0;
  // λ₂/λ₁ of Q − MᵀM at the returned point (1 for m = 1), and whether the law's rule was the
  // principal-axis rule (FixedPointOptions::principal_axis_ratio).
  double covariance_ratio = 1.0;
  bool principal_axis_rule = false;
  // m = 2 with equal second-layer weights and split_symmetric_rule: the Gauss–Hermite h rules were
  // split along h₁ = h₂ (split_rule_points), not p² tensor rules — the iteration's always, the
  // law's unless it is composite (GaussianRuleOptions::composite_max_dim ≥ 2) or the principal-axis
  // rule.
  bool split_rule = false;
  // m = 1 with split_at_prox_jumps: the rules were composite and cut at the global prox's jumps;
  // iteration_points is then the iteration rule's node count.
  bool split_at_jumps = false;
  // Teacher groups × rule panels that were cut at a jump of the prox, at the returned law (0 when
  // not split_at_jumps).
  std::size_t split_panels = 0;
  Status status = Status::not_computed;
  std::string message;          // which stage failed, when status ≠ success
};

// Solves the stationary-point equations at sample ratio δ (> 0) for the teacher given as nodes.
// `warm` (optional, the solution at a nearby δ) and `predictor` (optional, e.g. the secant
// extrapolation of the solutions at two nearby δ; ignored when not admissible) are tried first;
// the cold starts follow when they fail or options.cold_starts_with_warm is set.
FixedPointResult solve_fixed_point(const TeacherNodes& teacher, const Network& net, double delta,
                                   const FixedPointOptions& options,
                                   const FixedPointBranch* warm = nullptr,
                                   const FixedPointBranch* predictor = nullptr);

// One application of the stationary-point map T at `at`'s (M, Q, Γ), on the law's rule
// (options.law_rule) with the global prox — the map of the law's last application in
// solve_fixed_point (cut at the prox's jumps where options.split_at_prox_jumps applies, m = 1).
// Returns T(X)'s M, Q, Γ, with residual = ‖T(X) − X‖∞ and the train loss, risk, non-convex mass
// and prox failures at X (as solve_fixed_point records a point); status numerical_issue where Γ of
// T(X) is not defined. For tests and diagnostics (continuity of T in its arguments).
FixedPointBranch apply_stationary_map(const TeacherNodes& teacher, const Network& net, double delta,
                                      const FixedPointOptions& options, const FixedPointBranch& at);

// Predictor of a continuation in δ: the polynomial in t = 1/δ through the (M, R, Γ) of two or three
// solutions (`points`: pairs (δ_i, solution), distinct δ_i > 0), evaluated at δ — the secant (two
// points) or the parabola (three) — with R = (Q − MᵀM)^{1/2} the symmetric positive semidefinite
// root (negative eigenvalues of Q − MᵀM, round-off, taken as 0); the predicted Q is MᵀM + R².
// In 1/δ because the solution is smooth there at both ends of the
// scan: Γ = S(0)/δ with S(0) = O(1), and (M, Q) tend to the population minimiser with corrections in
// 1/δ. Measured on the solutions along `nn --find` (the bench's fixed-point cases log cosh m = 1,
// softplus m = 2, tanh m = 4, tanh m = 1 with k = 2): the secant in 1/δ is 10–250× closer to the
// next scan point's solution than the secant in log δ at δ ≤ 0.5, and 2–400× (growing with δ) for
// δ ≥ 5; docs/nn.md (Numerics). Through R rather than Q because T depends on (M, R, Γ) smoothly
// (h = Mᵀz + R ξ) where Q − MᵀM is nearly singular and its small eigenvalues grow fast (tanh
// m = 4: λ₂/λ₁ from 1e-9 to 2e-4 over δ = 0.07–0.34), and because the predicted point is then
// admissible (Q − MᵀM ⪰ 0) by construction: tanh m = 4 `--find` 465 → 383 applications of T
// (δ = 0.23: 65 → 7), docs/nn.md (Numerics, session 10). Other fields are the first point's.
FixedPointBranch continuation_predictor(const std::vector<std::pair<double, const FixedPointBranch*>>& points,
                                        double delta);

}  // namespace deltacrit::phase1
