#pragma once
// Bayes-GAMP state evolution for multi-index models with a Gaussian prior (science.md):
//
//   M̂_t = δ E[g_out g_outᵀ],   M_{t+1} = M̂_t (I + M̂_t)^{-1},
//   g_out(y, ω, V) = V^{-1}(E[z | y, ω, V] − ω),  ω = M_t^{1/2} ξ,  V = I − M_t,  z = ω + V^{1/2} u
//
// (Aubin et al. arXiv 1806.05451; Maillard et al. arXiv 2006.05228 for k = 1, phase retrieval). For k = 1, with h(q) = E[g_out²], the recursion is q_{t+1} = δh(q)/(1 + δh(q)) and its
// fixed points are the solutions of δ = ψ(q) = q/((1 − q)h(q)). The 1-D characterisation is used
// instead of iterating (critical slowing down near thresholds, pitfall 9):
//   δ_alg = ψ(0⁺) = 1/h'(0) (h(0) = E_y[E[z|y]²] = 0 for non-trivial links; h(0) > 0 ⇒ δ_alg = 0),
//   q*(δ) = inf{q ∈ (0,1) : ψ(q) ≥ δ}  (the fixed point reached from an uninformed start),
//   spinodal = the first interior local maximum of ψ that exceeds every earlier value: q*(δ) jumps
//   there ("GAMP full-recovery" threshold when the jump goes to q = 1).
//
// Numerics (docs/se.md): h(q) = E_{z~N(0,1)} E_{ω|z ~ N(qz, q(1−q))}[g_out(g(z), ω, 1 − q)²] is
// integrated in z-space (pitfall 2) on composite Gauss–Legendre panels geometrically graded
// towards the critical points of g, the z where g equals a critical value (pitfall 3), plateau
// ends and jumps — grading resolves both the |z − z_c|^{−1/2} weights of merging preimages and
// the O(√V) features of g_out near q → 1 (pitfall 8) on one q-independent grid, so the preimages
// of every outer node are computed once. The inner ω-average is Gauss–Hermite. Gaussian output
// noise uses y-space instead (the law of y is smooth) with adaptive posterior integrals.
#include <Eigen/Core>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"

namespace deltacrit::alg {

struct SEOptions {
  DenoiserOptions denoiser;      // latent range, fibre resolution (see denoiser.hpp)
  int panel_nodes = 12;          // Gauss–Legendre nodes per outer panel; [4, 64]
  double panel_width = 0.75;     // widest outer panel (z-space); (0, 2]
  double grading_ratio = 0.3;    // geometric ratio of graded panels; [0.05, 0.7]
  double grading_finest = 1e-7;  // narrowest graded panel next to a singular point; [1e-12, 1e-2]
  int omega_panels = 6;          // inner ω|z average: base Gauss–Legendre panels on ±8.5σ; [2, 64]
  int omega_nodes = 8;           // inner ω|z average: nodes per panel; [4, 64]
  // Gaussian output noise (y-space rule): panel ends at g(z) on a z-grid of step noise_z_step
  // (|z| ≤ 8.5), at atoms/critical values ± {1, 2, 4}√Δ, no panel wider than range/noise_y_panels;
  // noise_y_nodes Gauss–Legendre nodes per panel.
  int noise_y_panels = 16;       // [8, 1000]
  int noise_y_nodes = 6;         // [2, 64]
  double noise_z_step = 0.5;     // [0.05, 2]
  // Gaussian noise: inner ω ~ N(0, q) average (the noisy g_out switches between branches over a
  // width ~V/|Δz| that the clean crossing points only locate approximately): more panels.
  int noise_omega_panels = 10;   // [2, 64]
  int noise_omega_nodes = 10;    // [4, 64]
  int scan_points = 80;          // ψ is scanned on this many q in (0, 1) to find crossings/maxima; [16, 4000]
  double q_lo = 1e-6;            // smallest q of the scan; (0, 1e-2]
  double q_hi = 1 - 1e-6;        // largest q of the scan; [0.99, 1)
  double q_tol = 1e-11;          // absolute tolerance of q*(δ) and of the spinodal location; (0, 1e-4]
  void validate() const;         // throws InputError naming the field
};

struct PsiSample {
  double q = 0.0;
  double h = 0.0;    // E[g_out²]
  double psi = 0.0;  // q/((1−q)h)
};

struct Spinodal {
  bool exists = false;  // false: ψ is non-decreasing on the scan (continuous transition)
  double delta = 0.0;   // ψ at the maximum: q*(δ) jumps when δ crosses it
  double q = 0.0;       // location of the maximum (the last point of the low branch)
  double q_after = 1.0; // the overlap just above the jump (1 = full recovery)
};

struct OverlapPoint {
  double delta = 0.0;
  double overlap = 0.0;                 // q*(δ)
  std::array<double, 2> bracket{0, 0};  // the root is inside (equal ends for q* = 0 or 1)
  std::string branch;                   // "uninformative" (q* = 0), "partial", "full" (q* = 1)
  Status status = Status::not_computed;
  int evaluations = 0;                  // ψ evaluations for the root
};

struct IterationOptions {
  double seed = 1e-4;      // explicit symmetry-breaking start: q_0 = seed (k = 1), M_0 = seed·I
  double damping = 1.0;    // M ← (1−η)M + η·update, η ∈ (0, 1]
  int max_iterations = 2000;
  double tol = 1e-9;       // stop when ‖M_{t+1} − M_t‖_F < tol
  double full_tol = 1e-6;  // stop (full recovery) when every eigenvalue of I − M is below this
  void validate() const;
};

struct IterationResult {
  Eigen::MatrixXd overlap;  // M* (k×k); k = 1: 1×1
  int iterations = 0;
  double residual = 0.0;    // ‖Φ(M) − M‖_F at the returned point
  double seed = 0.0;
  Status status = Status::not_computed;
  bool full = false;          // stopped by the full-recovery rule (I − M ≺ full_tol·I)
  std::vector<double> trace;  // tr M_t / k at every iteration
};

// k = 1 state evolution through h(q) and ψ(q). Not thread-safe (copy per thread).
class StateEvolution1D {
 public:
  // Throws InputError for k ≠ 1 ("link") and invalid options.
  StateEvolution1D(const model::Link& link, const model::Noise& noise, const SEOptions& options = {});

  double h(double q) const;    // E[g_out(y, ω, 1 − q)²], q ∈ [0, 1)
  double psi(double q) const;  // q/((1 − q)h(q)), q ∈ (0, 1)
  // h(0) = E_y[E[z|y]²] (trivial part c) and h'(0) = E_y[(∂_ω g_out(y, 0, 1))²] (= E[(E[z²|y]−1)²]
  // for E[z|y] = 0), both on the same outer rule.
  double c() const { return c_; }
  double h1() const { return h1_; }
  // c = 0 decided by symmetry (even link) or relative to E[z²] = 1 with tolerance 1e-10 (pitfall 1).
  bool trivial() const { return trivial_; }
  double delta_alg() const { return trivial_ ? 0.0 : 1.0 / h1_; }

  const std::vector<PsiSample>& scan() const;  // computed on first use
  Spinodal spinodal() const;
  // Jumps of q*(δ) (every record local maximum of ψ), in increasing δ.
  std::vector<Spinodal> jumps() const;
  OverlapPoint overlap(double delta) const;
  // The damped iteration q ← (1−η)q + η δh/(1+δh) from q_0 = seed (cross-check of overlap()).
  IterationResult iterate(double delta, const IterationOptions& options = {}) const;

  int outer_nodes() const { return static_cast<int>(nodes_.size()); }
  long evaluations() const { return evaluations_; }  // h(q) evaluations so far
  const ScalarDenoiser& denoiser() const { return den_; }

 private:
  struct Node {
    double z, weight;   // outer z-node and φ(z)·GL weight
    int label;          // index into labels_
  };
  double h_deterministic(double q) const;
  double h_gaussian(double q) const;
  template <class F>
  double inner_average(const ScalarDenoiser::Label& lab, double mu, double sigma, double V, const F& f) const;
  void build_outer_rule();
  void build_noise_rule();
  std::vector<Spinodal> find_maxima() const;

  ScalarDenoiser den_;
  SEOptions options_;
  std::vector<Node> nodes_;
  std::vector<ScalarDenoiser::Label> labels_;
  std::vector<double> gh_x_, gh_w_;       // inner Gauss–Hermite (E over N(0,1))
  std::vector<double> y_nodes_, y_weights_;  // gaussian noise: y-rule
  double c_ = 0.0, h1_ = 0.0;
  bool trivial_ = false;
  mutable std::vector<PsiSample> scan_;
  mutable std::vector<Spinodal> maxima_;
  mutable bool scanned_ = false;
  mutable long evaluations_ = 0;
};

// Matrix state evolution for k = 1, 2, 3 on the ray route (RayDenoiser): the outer expectation is
// E_{ω ~ N(0, M)} [ ∫ dy p(y | ω, V) g gᵀ + Σ_atoms P(c | ω, V) g gᵀ ] with a y-rule graded towards
// g(0) and the ends of the range of g, and a tensor Gauss–Hermite rule in ω. Accuracy: see
// docs/se.md (≈ 1e-4 at moderate M for k = 2; degrades when I − M is small).
struct MatrixSEOptions {
  DenoiserOptions denoiser;
  int omega_nodes = 0;        // Gauss–Hermite nodes per axis; 0 = automatic (k=1: 40, k=2: 12, k=3: 8); [4, 80]
  int y_panel_nodes = 8;      // Gauss–Legendre nodes per y-panel; [2, 64]
  int y_panels = 24;          // uniform y-panels over the range (plus graded ones); [4, 2000]
  double y_grading_finest = 1e-6;  // relative to the range; [1e-12, 1e-2]
  void validate() const;
};

class MatrixStateEvolution {
 public:
  MatrixStateEvolution(const model::Link& link, const model::Noise& noise, const MatrixSEOptions& options = {});

  int k() const { return den_.k(); }
  // M̂/δ = E[g_out g_outᵀ] at overlap M (k×k, 0 ⪯ M ≺ I). `mass_error` (optional) receives the
  // largest deviation of Σ_y p(y | ω) from 1 over the ω-nodes (a quadrature diagnostic).
  Eigen::MatrixXd fisher(const Eigen::MatrixXd& M, double* mass_error = nullptr) const;
  // Linearisation at M = 0 on the non-trivial part: δ_onset = 1/λ_max(F), F(M) = E_y[G M G],
  // G = Cov(z|y) − I, restricted to the orthogonal complement of range(C), C = E[E[z|y]E[z|y]ᵀ]
  // (Troiani et al. arXiv 2405.15480); +∞ when F vanishes there. Also returns C.
  double onset(Eigen::MatrixXd* trivial_gram = nullptr) const;
  IterationResult iterate(double delta, const IterationOptions& options = {}) const;
  int y_nodes() const { return static_cast<int>(labels_.size()); }

 private:
  RayDenoiser den_;
  MatrixSEOptions options_;
  std::vector<RayDenoiser::Label> labels_;  // continuous y-nodes then atoms
  std::vector<double> y_weights_;           // dy weight (continuous) or 1 (atoms)
  std::vector<double> gh_x_, gh_w_;
};

}  // namespace deltacrit::alg
