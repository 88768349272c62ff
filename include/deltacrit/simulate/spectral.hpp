#pragma once
// Finite-d spectral estimator (`deltacrit simulate spectral`): the top eigenvector(s) of
//     D = (1/n) Σ_i T(y_i) x_i x_iᵀ
// (Lu & Li arXiv 1702.06435; Mondelli & Montanari arXiv 1708.05932; Luo, Alghamdi & Lu
// arXiv 1811.04420), computed matrix-free: D v = Xᵀ(T ⊙ (X v))/n with one fused pass over X,
// Lanczos (Spectra) for the top eigenpairs. Output: squared overlap with Θ*; for k ≥ 2 and nev
// eigenvectors V (d×nev, orthonormal) the normalised subspace overlap ‖Θ*ᵀV‖_F²/k and the k×nev
// matrix Θ*ᵀV.
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>

#include "deltacrit/model/expression.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/sweep.hpp"

namespace deltacrit::simulate {

// The preprocessing T(y). Built from an expression in `y` (e.g. "1 - 1/y", "min(y, 2)",
// "(y-1)/(y+sqrt(2)-1)") or from a callable (how `optimal` T = 1 − 1/E[z²|y] gets wired in from the
// δ_alg module's conditional moments). Not thread-safe: evaluate from one thread.
class Preprocessing {
 public:
  // Throws InputError naming "--preprocess" (syntax errors, unknown variables; only `y` exists).
  static Preprocessing expression(const std::string& text);
  // The optimal preprocessing T(y) = 1 − 1/E[z²|y] (Luo, Alghamdi & Lu arXiv 1811.04420, Eq. (9);
  // Mondelli & Montanari arXiv 1708.05932), k = 1 only. E[z²|y] comes from the δ_alg module's
  // channel law (alg::build_channel_law, tol 1e-8): exact at atoms of y (plateaus, ±1 labels),
  // linear interpolation in y between the continuous nodes elsewhere (clamped at the ends of the
  // node range; |z| ≤ 9.5 covers all but 2e-21 of the mass). Near a critical value of g, where
  // E[z²|y] jumps (pitfall 3), the interpolation smears the jump over one node spacing.
  // Throws InputError naming "--preprocess" for k ≥ 2 (matrix-valued T needed) or when the
  // channel law cannot be built.
  static Preprocessing optimal(const model::Link& link, const model::Noise& noise);
  Preprocessing(std::string name, std::function<double(double)> T);

  double operator()(double y) const { return T_(y); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::function<double(double)> T_;
};

// Solvers. `lanczos`: matrix-free restarted Lanczos, O(nd) per product — fast when T is bounded
// below. `dense`: form D (O(nd²)), its eigenvalues (tridiagonal QR, O(d³)), then the top nev
// eigenvectors by Lanczos on the shift-inverted (σI − D)^{-1} (Cholesky, σ just above λ₁), exact for
// any T; d ≤ 4000. `automatic` (default): dense when T is strongly unbounded below — spread
// (max T − min T) > 1e3·(max T − median T) — and d ≤ 4000, lanczos otherwise. Reason: for
// T = 1 − 1/y the spectrum of D reaches −1e5…−1e7 with O(n) eigenvalues spread over many decades,
// and any Krylov method then needs a basis of dimension O(d) (measured at d = 800: no convergence
// after 9·10⁴ products), while the dense route takes about a second (docs/simulate.md).
// The matrix-free product v ↦ D v = Xᵀ(T ⊙ (X v))/n (one fused pass over X; thread-invariant).
class SpectralMatvec {
 public:
  // Keeps references to `samples`, `T` and `parallel`: they must outlive the object.
  SpectralMatvec(const Samples& samples, const Eigen::VectorXd& T, Parallel& parallel);
  ~SpectralMatvec();
  SpectralMatvec(const SpectralMatvec&) = delete;
  SpectralMatvec& operator=(const SpectralMatvec&) = delete;
  int dim() const;
  void apply(const double* in, double* out);  // out = D·in (length d each)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SpectralOptions {
  enum class Solver { automatic, lanczos, dense };
  int nev = 0;                       // top eigenvectors used; 0 = k (the number of hidden directions)
  Solver solver = Solver::automatic;
  int ncv = 0;                       // Lanczos basis size; 0 = auto (min(d, max(2·nev + 1, 40)))
  double tol = 1e-9;                 // Lanczos relative residual tolerance
  int max_restarts = 1000;           // Lanczos restarts before status not_converged
  void validate(int d, int k) const; // throws InputError naming "--nev", "--solver", "--ncv", ...
};

struct SpectralResult {
  Status status = Status::not_computed;
  std::string message;
  Eigen::VectorXd eigenvalues;     // the top nev eigenvalues of D, largest first
  Eigen::MatrixXd vectors;         // d×nev eigenvectors
  Eigen::MatrixXd overlap_matrix;  // k×nev, Θ*ᵀV
  Eigen::MatrixXd subspace_matrix; // k×k Θ*ᵀP_VΘ* (subspace.hpp), P_V the projector on all nev vectors
  double overlap = 0.0;            // ‖Θ*ᵀV‖_F² / k
  long matvecs = 0;
  double residual = 0.0;           // max ‖D v − λ v‖ over the returned pairs
  std::string solver;              // "lanczos" or "dense" (the one actually used)
};

// T holds T(y_i) for every row of `samples` (finite). `rng` draws the Lanczos start vector.
SpectralResult spectral_estimate(const Eigen::MatrixXd& theta, const Samples& samples, const Eigen::VectorXd& T,
                                 const SpectralOptions& options, Parallel& parallel, Rng& rng);

struct SpectralConfig {
  model::Link link;
  model::Noise noise;
  Preprocessing preprocess;
  SpectralOptions options;
};

// The sweep kind: generate data (Θ*, X, y) from ctx.rng, apply T, top eigenvectors. Kind-specific
// values: "top_eigenvalues" (nev numbers); overlap matrix Θ*ᵀV, subspace matrix Θ*ᵀP_VΘ*.
// Details: matvecs, residual, n_used (after erasures).
// A non-finite T(y_i) makes the seed fail with numerical_issue naming the sample's y.
SeedKind spectral_kind(const SpectralConfig& config);

}  // namespace deltacrit::simulate
