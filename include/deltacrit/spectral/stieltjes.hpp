#pragma once
// Matrix-valued Stieltjes solver for block random matrices of Hessian type, and the outlier
// equation along hard latent directions (docs/stieltjes.md; science.md equations R1, R2).
//
// The matrix is the dm×dm
//     H = (1/n) Σ_i D_i ⊗ x_i x_iᵀ + λ I,      x_i ~ N(0, I_d),  n/d = δ,
// with D_i ∈ Sym_m drawn from a law L (the "weight law"). For ζ ∈ C⁺ the m×m matrix
//     S(ζ) = lim (1/d) Tr_d (H − ζ)^{-1}        (partial trace over the R^d factor)
// is the unique solution with Im S ≻ 0 of
//     (R1)  S = ( E_L[ D (I_m + S D/δ)^{-1} ] + (λ − ζ) I_m )^{-1}.
// The normalisation was checked against Marchenko–Pastur: for m = 1, D ≡ 1, λ = 0, H is the
// sample covariance (1/n) Σ x xᵀ with aspect ratio γ = d/n = 1/δ, and R1 is exactly the MP
// equation γζS² + (ζ + γ − 1)S + 1 = 0, support [(1 − √γ)², (1 + √γ)²], atom 1 − δ at 0 if δ < 1.
// The eigenvalue density of H (normalised by dm) is (1/(πm)) Im tr S(x + i0⁺).
//
// Outliers below the spectrum: for real ζ < ζ₋ (lower edge), S(ζ) is real positive definite and
//     (R2)  K(ζ) = E_L[ (z_h z_hᵀ) ⊗ D (I + S D/δ)^{-1} ] + (λ − ζ) I      ((k_h m)×(k_h m))
// is symmetric and strictly decreasing in ζ (Loewner order). ζ is an outlier eigenvalue of H with
// eigenvector correlated with the hard directions Θ_h iff K(ζ) is singular; the squared norm of the
// projection of that unit eigenvector on span(Θ_h) ⊗ R^m is 1 / (vᵀ(−K'(ζ))v), v the unit null
// vector of K (for m = k_h = 1: 1/(−K'(ζ))).
#include <array>
#include <complex>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "deltacrit/core/status.hpp"
#include "deltacrit/gauss/hermite.hpp"

namespace deltacrit::spectral {

inline constexpr int kMaxWidth = 8;      // largest m (network width) supported
inline constexpr int kMaxHardDims = 3;   // largest k_h (number of hard latent directions)

// Law of (D, z_h) as weighted nodes: samples (weights 1/n) or a quadrature rule.
struct WeightLaw {
  int m = 1;                  // width of D, 1 ≤ m ≤ 8
  int k_h = 0;                // number of hard latent directions, 0 ≤ k_h ≤ 3 (0: no outlier problem)
  std::vector<double> weight; // node weights, each ≥ 0 and finite, Σ = 1 (to 1e-9 relative)
  std::vector<double> D;      // node i's D at D[i·m·m + a·m + b]; symmetric (to 1e-10 relative)
  std::vector<double> z_h;    // node i's z_h at z_h[i·k_h + a]; empty when k_h = 0

  std::size_t size() const { return weight.size(); }

  // Throws InputError naming the field ("m", "k_h", "weight", "D", "z_h") when a size, range,
  // finiteness, normalisation or symmetry condition above fails, or when there are no nodes.
  void validate() const;

  // Equal weights 1/n over n = D.size()/(m·m) samples. Validates.
  static WeightLaw from_samples(int m, int k_h, std::vector<double> D, std::vector<double> z_h = {});
  // Given weights (must already sum to 1). Validates.
  static WeightLaw from_weighted_samples(int m, int k_h, std::vector<double> weight,
                                         std::vector<double> D, std::vector<double> z_h = {});
  // Nodes of a Gaussian rule over latent variables ξ ∈ R^{rule.dim}: `fill(ξ, D, z_h)` writes the
  // m×m matrix D (row-major) and the k_h values z_h belonging to node ξ. Validates.
  static WeightLaw from_rule(const gauss::RuleND& rule, int m, int k_h,
                             const std::function<void(const double* xi, double* D, double* z_h)>& fill);
};

struct StieltjesOptions {
  // Newton iterations stop when the relative step ‖ΔS‖/‖S‖ (Frobenius) falls below `tol`.
  double tol = 1e-12;
  int max_iterations = 60;           // Newton iterations per solve (each is one pass over the law)
  // Complex fallback: damped fixed point S ← (1 − damping) S + damping·RHS(S) of R1, used when
  // Newton fails (Im S must stay ≻ 0); 0 < damping ≤ 1.
  double damping = 0.5;
  int max_fixed_point_iterations = 20000;
  // Density is evaluated at x + iη with η = eta·scale, scale = spectral scale of H (docs); its
  // error is O(η) inside the bulk and O(√η) within O(η) of an edge. 0 < eta ≤ 1e-2.
  double eta = 1e-9;
  // Branch continuation (edges, outliers): at most this many continuation steps in log tr S.
  int max_continuation_steps = 2000;
  // Bracketed roots (fold of the real branch, outlier K(ζ) singular) stop at this relative
  // bracket width in the continuation parameter; edge locations are then accurate to ~tol².
  double root_tol = 1e-11;
  void validate() const;  // throws InputError naming the field
};

// Solution of R1 at a real ζ below the spectrum (S real symmetric positive definite).
struct RealSolution {
  double zeta = 0.0;
  Eigen::MatrixXd S;               // m×m
  // Spectral radius of the Jacobian S ↦ RHS(S) at the solution: < 1 on the physical branch,
  // → 1 at the lower edge.
  double jacobian_radius = 0.0;
  double residual = 0.0;           // ‖S − RHS(S)‖_F / ‖S‖_F
  int iterations = 0;              // Newton iterations (passes over the law)
  Status status = Status::not_computed;
};

// Solution of R1 at ζ ∈ C⁺ (S complex symmetric with Im S ≻ 0).
struct ComplexSolution {
  std::complex<double> zeta{0.0, 0.0};
  Eigen::MatrixXcd S;              // m×m
  double residual = 0.0;           // ‖S − RHS(S)‖_F / ‖S‖_F
  double min_imag_eigenvalue = 0.0;// λ_min((S − S*)/(2i)) > 0 certifies the physical root
  int iterations = 0;              // Newton + fixed-point iterations
  Status status = Status::not_computed;
};

struct DensityResult {
  std::vector<double> x;
  std::vector<double> density;     // (1/(πm)) Im tr S(x + iη), per point
  std::vector<double> error;       // |ρ(η) − ρ(10η)|/(√10 − 1): bound on the η bias (O(η) in the bulk, O(√η) at edges)
  std::vector<Status> point_status;
  double eta = 0.0;                // absolute η used
  int iterations = 0;              // total passes over the law
  Status status = Status::not_computed;  // worst point status
};

enum class EdgeKind {
  none,        // not computed
  fold,        // square-root edge: the Jacobian's spectral radius reaches 1 (generic case)
  divergence,  // tr S → ∞ at the edge: an atom (e.g. D singular with positive mass) or a hard edge
  boundary,    // the real branch met the boundary of its domain (I + S^{1/2} D S^{1/2}/δ singular for
               // an extreme node) before folding; happens only for laws with tiny extreme weights
};

struct EdgeResult {
  double location = 0.0;           // the edge of the support of H's spectrum
  std::array<double, 2> bracket{0.0, 0.0};  // the edge lies in [bracket[0], bracket[1]]
  EdgeKind kind = EdgeKind::none;
  Eigen::MatrixXd S;               // S at (or nearest to) the edge, on the real branch
  double jacobian_radius = 0.0;    // ≈ 1 at a fold
  int steps = 0;                   // continuation steps + root-finding evaluations
  int iterations = 0;              // Newton iterations (passes over the law)
  Status status = Status::not_computed;
};

// K of R2 at a real ζ below the spectrum, with diagnostics.
struct KDiagnostics {
  double zeta = 0.0;
  Eigen::MatrixXd K;               // (k_h m)×(k_h m), index (a, p) ↦ a·m + p (a: hard dir., p: neuron)
  Eigen::MatrixXd dK;              // dK/dζ along the real branch (negative definite)
  Eigen::VectorXd eigenvalues;     // of K, ascending
  Eigen::MatrixXd eigenvectors;    // columns, matching `eigenvalues`
  double min_eigenvalue = 0.0;
  RealSolution solution;           // S(ζ) used
  Status status = Status::not_computed;
};

struct OutlierRoot {
  double location = 0.0;           // ζ with K(ζ) singular: an eigenvalue of H below the bulk
  std::array<double, 2> bracket{0.0, 0.0};
  double overlap = 0.0;            // squared projection of the eigenvector on span(Θ_h) ⊗ R^m
  Eigen::VectorXd null_vector;     // unit v with K v = 0 (length k_h m, index a·m + p)
};

struct OutlierResult {
  bool exists = false;
  double location = 0.0;           // lowest outlier (= roots[0].location) if it exists
  double overlap = 0.0;            // its squared overlap (m = k_h = 1: 1/(−K'))
  Eigen::VectorXd null_vector;
  std::vector<OutlierRoot> roots;  // all outliers below the bulk, ascending
  // λ_min(K(ζ₋)) at the lower edge: < 0 iff an outlier exists; a smooth function of δ whose
  // zero is δ_BBP.
  double k_min_at_edge = 0.0;
  EdgeResult edge;                 // lower edge used
  int iterations = 0;              // Newton iterations (passes over the law)
  Status status = Status::not_computed;
};

namespace detail { struct PreparedLaw; }

// Solver for one (law, δ, λ). Cheap to copy (the prepared law is shared); `with` makes a solver
// for another δ or λ over the same law without re-preparing it. Thread-compatible: const methods
// may run concurrently.
class StieltjesSolver {
 public:
  // δ > 0 (n/d), ridge λ finite (any sign). Validates law and options (InputError).
  StieltjesSolver(const WeightLaw& law, double delta, double ridge = 0.0,
                  const StieltjesOptions& options = {});
  StieltjesSolver with(double delta, double ridge) const;

  int m() const;
  int k_h() const;
  double delta() const { return delta_; }
  double ridge() const { return ridge_; }
  const StieltjesOptions& options() const { return options_; }
  // Scale of H − λI used for starting points and η: sqrt(E tr D²/m)·(1 + 1/√δ)² (> 0 unless D ≡ 0,
  // then 1).
  double scale() const;

  // R1 at ζ with Im ζ > 0 (else InputError "zeta"). Newton from `warm_start` (or −I/ζ), damped
  // fixed point as fallback; the result is accepted only with Im S ≻ 0.
  ComplexSolution solve(std::complex<double> zeta, const Eigen::MatrixXcd* warm_start = nullptr) const;

  // R1 at real ζ on the real branch below the spectrum. Newton from `warm_start` (or a first-order
  // guess); the physical branch is certified by S ≻ 0, I + S^{1/2}DS^{1/2}/δ ≻ 0 at every node and
  // jacobian_radius < 1, else the branch is followed by continuation from ζ = −∞. If ζ is not below
  // the lower edge, status = numerical_issue.
  RealSolution solve_real(double zeta, const Eigen::MatrixXd* warm_start = nullptr) const;

  // (1/(πm)) Im tr S(x + iη) on the given grid (any order; solved in increasing x with warm starts).
  DensityResult density(const std::vector<double>& x) const;

  // Mass of an atom of H's spectrum at x: lim η Im tr S(x + iη)/m, estimated at η = eta·scale.
  double atom_mass(double x) const;

  // Lowest point of the support (including atoms): continuation of the real branch from ζ = −∞ in
  // the parameter log tr S, fold located by a bracketed root of dζ/d(tr S) = 0.
  EdgeResult lower_edge() const;
  // Highest point of the support: the lower edge of −H (D → −D, λ → −λ), negated.
  EdgeResult upper_edge() const;

  // K(ζ) of R2 (requires k_h ≥ 1, else InputError "k_h"); ζ must be below the lower edge.
  KDiagnostics K_matrix(double zeta) const;

  // Outliers of H below the bulk along the hard directions (requires k_h ≥ 1).
  // `edge_hint`: the lower edge of a nearby problem (the same law family at a nearby δ, e.g. the
  // previous point of a scan), whose S and location start the branch near its fold instead of at
  // ζ → −∞. The start is used only if Newton reaches the branch there and the point is on its
  // physical side (ρ < 1, dζ/ds > 0) or just past the fold with a physical point found below it;
  // otherwise, and for an outlier whose K is already negative at the start, the branch is
  // followed from ζ → −∞ as without a hint. Results agree with the cold start to the solver's
  // tolerances (root_tol), not bit for bit.
  OutlierResult outliers(const EdgeResult* edge_hint = nullptr) const;

 private:
  StieltjesSolver(std::shared_ptr<const detail::PreparedLaw> law, double delta, double ridge,
                  const StieltjesOptions& options);
  std::shared_ptr<const detail::PreparedLaw> law_;
  double delta_ = 1.0;
  double ridge_ = 0.0;
  StieltjesOptions options_;
};

std::string_view to_string(EdgeKind kind);

}  // namespace deltacrit::spectral
