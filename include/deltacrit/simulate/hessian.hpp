#pragma once
// Hessian of the empirical risk at a trained point (`deltacrit simulate hessian`), matrix-free:
//     H = (1/n) Σ_i D_i ⊗ x_i x_iᵀ + λ I   (dm × dm),
//     D_i = ℓ''(y_i, f_i) J_i J_iᵀ + ℓ'(y_i, f_i) diag(a ⊙ σ''(u_i)),   J_i = a ⊙ σ'(u_i)
// (science.md). The Hessian is taken in W only: the second layer a is held fixed at its current
// value even when `simulate gd` trained it (the δ_NN theory treats a as fixed). With
// --unit-norm, this is still the Euclidean Hessian of R̂ in W (not the Riemannian one).
//
// Vectors of R^{dm} use the layout of the first layer Wt (m×d, row-major): entry j·d + t is the
// t-th coordinate of neuron j. A product H v costs one fused pass over X (O(ndm)):
// s_i = V x_i, c_i = D_i s_i, H v = (1/n) Σ_i c_i x_iᵀ + λ v.
#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "deltacrit/model/activation.hpp"
#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "deltacrit/simulate/law_io.hpp"
#include "deltacrit/simulate/sweep.hpp"

namespace deltacrit::simulate {

inline constexpr int kMaxDenseHessianDim = 4000;  // d·m cap of the dense spectrum (--spectrum)

class HessianOperator {
 public:
  // Computes u_i = Wᵀx_i and D_i for every sample. Keeps references to `samples` and `parallel`.
  HessianOperator(const Samples& samples, const RowMatrix& Wt, std::vector<double> a, const model::Activation& activation,
                  const model::Loss& loss, double ridge, Parallel& parallel);
  ~HessianOperator();
  HessianOperator(const HessianOperator&) = delete;
  HessianOperator& operator=(const HessianOperator&) = delete;

  int width() const;
  int d() const;
  int dim() const { return width() * d(); }
  void apply(const double* v, double* out);     // out = H v
  const RowMatrix& pre_activations() const;     // U (n×m)
  const std::vector<double>& weights() const;   // D_i, n·m·m, row-major m×m per sample
  double ridge() const;
  // The dense H (dim × dim) built from its definition, O(n d² m²); dim ≤ kMaxDenseHessianDim.
  Eigen::MatrixXd dense() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HessianOptions {
  int nev = 3;               // lowest eigenpairs, 1..min(20, dm − 1)
  double tol = 1e-8;         // Lanczos relative residual tolerance
  int ncv = 0;               // Lanczos basis size (0 = auto)
  int max_restarts = 1000;
  int spectrum_bins = 0;     // > 0: full dense spectrum as a histogram with this many bins (d·m ≤ 4000)
  void validate(int dim) const;  // throws InputError naming "--nev", "--tol", "--ncv", "--spectrum"
};

struct HessianResult {
  Status status = Status::not_computed;
  std::string message;
  Eigen::VectorXd eigenvalues;        // lowest nev, ascending
  std::vector<double> overlaps;       // ‖V_j Θ*‖_F² per eigenvector (V_j: m×d, ‖V_j‖_F = 1)
  std::vector<double> hard_overlaps;  // ‖V_j Θ_h‖_F² (empty when no hard directions)
  std::vector<Eigen::MatrixXd> overlap_matrices;  // V_j Θ* (m×k) per eigenvector
  long matvecs = 0;
  double residual = 0.0;
  // Dense spectrum (spectrum_bins > 0): histogram of all dm eigenvalues on [lo, hi].
  std::vector<double> histogram_edges;
  std::vector<long> histogram_counts;
};

// Lowest eigenpairs of H via Lanczos (SmallestAlge: the Krylov space of H is that of σI − H, so no
// shift is needed), their overlaps with Θ* and Θ_h = columns `hard` (1-based) of theta.
HessianResult hessian_spectrum(HessianOperator& H, const Eigen::MatrixXd& theta, const std::vector<int>& hard,
                               const HessianOptions& options, Rng& rng);

// The empirical law (y_i, u_i, z_i, D_i) at the point of H, for --dump-law.
EmpiricalLaw empirical_law(const HessianOperator& H, const Samples& samples, const std::vector<double>& a,
                           const std::vector<int>& hard, double delta, int d);

struct HessianConfig {
  GdConfig gd;                 // phase 1: the GD run that produces the point
  HessianOptions hessian;
  std::string dump_law;        // "" = none; otherwise the law of this seed is written here
};

// Sweep kind: data, GD (phase 1) as `simulate gd`, then the Hessian at the final point. Values:
// "lowest_eigenvalues" (nev), "lowest_overlaps" (nev; with Θ_h when --hard is given, else with Θ*),
// "lowest_overlaps_theta" (with Θ*, when --hard is given), "train_loss". Overlap, overlap matrix
// and subspace matrix: those of the trained W (as in gd: span of all m neurons). Details: the
// histogram, matvecs, residual, the GD summary.
SeedKind hessian_kind(const HessianConfig& config);

}  // namespace deltacrit::simulate
