#pragma once
// δ_alg, the computational weak-recovery threshold of a multi-index model (k ≤ 3), with the
// classification of latent directions and the staircase of learning stages.
//
// Formulas (docs/alg.md has the derivations and citations):
//   trivial part   C = E_y[E[z|y] E[z|y]ᵀ]; directions in range(C) are learned at any δ > 0;
//   operator       F(M) = E_y[G(y) M G(y)],  G(y) = E[zzᵀ|y] − I, on symmetric matrices supported
//                  on the complement of range(C) (Troiani et al., arXiv 2405.15480);
//   threshold      δ = 1/λ_max(F); the range of the top eigen-matrix is learned ("easy");
//                  k = 1 and C = 0: δ = 1/E_y[(E[z²|y] − 1)²] (Mondelli & Montanari, arXiv
//                  1708.05932; Barbier et al., arXiv 1708.03395);
//   hard           v with E[vᵀz|y] = 0 and G(y)v = 0 for a.e. y (null space of C + E[G²]);
//   staircase      the directions learned so far (span U) are treated as perfectly known: the
//                  remaining coordinates t (z = U s + V t) see the link g_s(t) = g(U s + V t) with
//                  s ~ N(0, I) known, and are re-classified with C, F averaged over s. This is an
//                  idealisation (earlier stages exactly learned) reported in the diagnostics.
#include <Eigen/Core>

#include <string>
#include <vector>

#include "deltacrit/alg/channel.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"

namespace deltacrit::alg {

enum class DirectionClass { trivial, easy, hard };
std::string_view to_string(DirectionClass c);

struct AlgOptions {
  // Target relative accuracy of δ_alg (drives the channel rules); (0, 0.1], default 1e-6.
  double tol = 1e-6;
  // Gauss–Hermite nodes per learned coordinate when averaging over the learned fields s in the
  // staircase; even (no node at s = 0). 0 = automatic (12). Range 0 or 2..64.
  int staircase_nodes = 0;
  // Use a closed form when the link is recognised (see closed_form.hpp) instead of the generic
  // route. Off by default; the CLI exposes it as --closed-form.
  bool closed_form = false;
  // Radius / sampling options passed to the channel builder (tol is set from `tol`).
  double radius = 0.0;
  int fibre_grid = 0;

  void validate() const;  // throws InputError naming the field
};

struct AlgDirection {
  Eigen::VectorXd vector;  // unit vector in R^k
  DirectionClass cls = DirectionClass::hard;
  int stage = -1;          // index into AlgResult::stages where it is learned; −1 for hard
};

struct AlgStage {
  double delta = 0.0;          // threshold of this stage (0 for a trivial stage)
  double error_estimate = 0.0; // absolute error estimate of delta
  DirectionClass kind = DirectionClass::easy;  // trivial or easy
  std::vector<Eigen::VectorXd> directions;     // orthonormal directions learned at this stage
  double F_top_eigenvalue = 0.0;               // λ_max of this stage's F (0 for a trivial stage)
  Eigen::MatrixXd trivial_gram;                // C of this stage in its remaining coordinates
  Status status = Status::not_computed;
};

struct AlgResult {
  int k = 0;
  std::string link;
  std::string noise;
  // Threshold of the first stage that needs δ > 0; 0 if a trivial direction exists; +∞ if no
  // direction can be learned with n ∝ d.
  double delta_alg = 0.0;
  double error_estimate = 0.0;         // absolute error estimate of delta_alg (0 when it is 0 or ∞)
  Eigen::MatrixXd trivial_gram;        // C = E_y[E[z|y]E[z|y]ᵀ] (k × k)
  double F_top_eigenvalue = 0.0;       // λ_max of F on the complement of range(C) (stage 1)
  double F_norm = 0.0;                 // Frobenius norm of F on all of Sym_k (stage 1)
  Eigen::MatrixXd F_matrix;            // F on the complement, in the orthonormal basis of Sym
  Eigen::MatrixXd G_square;            // E_y[G(y)²] (k × k): zero rows/cols mark hard directions
  std::vector<AlgDirection> directions;  // orthonormal basis of R^k, classified
  std::vector<AlgStage> stages;          // in learning order
  Status status = Status::not_computed;
  // Diagnostics
  std::string method;                  // "generic" or "closed-form:<name>"
  std::string idealisation;            // statement of the staircase idealisation
  std::string note;                    // why a status is not success, symmetry used, …
  double channel_error_estimate = 0.0; // error estimate of the first-stage channel law
  int channel_nodes = 0;
  long link_evaluations = 0;
};

// Computes δ_alg and the stages. Throws InputError for invalid options.
AlgResult compute_delta_alg(const model::Link& link, const model::Noise& noise, const AlgOptions& options = {});

// The first-stage analysis of a given channel law (no staircase): C, F on the complement of
// range(C), top eigenvalue, direction classes. Exposed for tests and for other modules.
struct StageAnalysis {
  Eigen::MatrixXd C;            // k × k
  Eigen::MatrixXd G_square;     // E[G²]
  Eigen::MatrixXd trivial;      // k × t orthonormal basis of the trivial subspace
  Eigen::MatrixXd complement;   // k × (k − t) orthonormal basis of its complement
  Eigen::MatrixXd F;            // F on Sym(complement) in an orthonormal basis (p × p)
  Eigen::MatrixXd F_full;       // F on all of Sym_k
  double F_top = 0.0;           // λ_max(F), 0 if the complement is empty
  Eigen::MatrixXd easy;         // k × e orthonormal basis of the range of the top eigen-matrices
  Eigen::MatrixXd hard;         // k × h orthonormal basis of null(C) ∩ null(E[G²])
  double abs_error = 0.0;       // absolute error estimate of F_top propagated from the law
};
// `rel_error` is the law's error estimate (relative error of its functionals).
StageAnalysis analyse_stage(const std::vector<ChannelNode>& nodes, int k, double rel_error);

}  // namespace deltacrit::alg
