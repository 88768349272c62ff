#pragma once
// Output denoisers of Bayes-GAMP for the channel y ~ P(y | z), z ∈ R^k, with the Gaussian prior
// z ~ N(ω, V) that GAMP/state evolution place on the latent field:
//
//     g_out(y, ω, V) = V^{-1} (E[z | y, ω, V] − ω),
//     ∂_ω g_out     = V^{-1} Cov(z | y, ω, V) V^{-1} − V^{-1}
//
// (Rangan arXiv 1010.5141 for k = 1; the committee-machine form of Aubin et al. arXiv 1806.05451
// for k ≥ 2; equation numbers not checked here.) The posterior lives on the fibre {z : g(z) = y}:
// - continuous y, deterministic link: E[φ(z) | y, ω, V] = Σ_r φ(z_r) w_r / Σ_r w_r over the
//   preimages z_r of y, w_r = N(z_r; ω, V)/|g'(z_r)| (k = 1; pitfall 2); for k ≥ 2 the co-area
//   formula along rays z = r·u: w = σ(u) r^{k−1} N(z; ω, V) / |∂_r g(r u)|.
// - y an atom (a plateau of g: relu at 0, sign, quantisers; pitfall 5): the prior restricted to
//   the plateau set A_y = {g = y}: closed forms (erf, log-erfc, hazard) for k = 1, radial
//   Gauss–Legendre panels on rays for k ≥ 2.
// - output noise (model::Noise): gaussian:Δ — P(y|z) = N(y; g(z), Δ), posterior moments by adaptive
//   z-integration with breakpoints at the preimages of y and y ± c√Δ (pitfall 6; k = 1 only);
//   flip:ε — ±1 labels, mixture of A_y (weight 1 − ε) and A_{−y} (weight ε); erase:ε — a missing
//   label (NaN) leaves the prior unchanged (g_out = 0), an observed one is clean; resample:ε —
//   P(y|z) = (1 − ε) δ(y − g(z)) + ε p_Y(y): mixture of the clean posterior and the prior.
//
// V → 0 (pitfall 8): g_out grows like 1/V and the posterior concentrates on the preimage nearest
// to ω; all weights are handled in log-space, so any V ≥ `v_floor` is safe for k = 1. For the ray
// route (k ≥ 2) the fibre is discretised once per label, so its accuracy degrades when the
// smallest eigenvalue of V is below the squared spacing of the fibre nodes (docs/se.md).
#include <Eigen/Core>

#include <array>
#include <string>
#include <vector>

#include "deltacrit/gauss/fibre.hpp"
#include "deltacrit/model/link.hpp"

namespace deltacrit::alg {

struct DenoiserOptions {
  // Latent range analysed for preimages and plateaus: [−radius, radius] (k = 1) or rays of length
  // radius (k ≥ 2). Gaussian mass outside is < 1e-21 at the default. Range [5, 30]; default 10.
  double radius = 10.0;
  // Sampling cells of the Fibre1D analysis of g on [−radius, radius] (k = 1). Range [64, 65536].
  int fibre_grid = 4096;
  // Sampling cells per ray (ray route). Range [64, 65536]; default 512.
  int ray_grid = 512;
  // Ray directions: k = 2 — number of angles (graded, see graded_rays; otherwise equally spaced
  // and offset by half a step so that rays never lie on the coordinate axes; with grading the
  // count is approximate: at least 8 per arc, rounding per arc, near-degenerate rays dropped);
  // k = 3 — Gauss–Legendre nodes in cos(polar angle), with twice
  // as many azimuths. 0 = automatic (128 for k = 2, 12 for k = 3). Range 0 or [8, 2048].
  int directions = 0;
  // k = 2 only: grade the ray angles towards the directions along which the level set {g = g(0)}
  // leaves the origin (found as zeros of θ ↦ g(r₀u(θ)) − g(0) at r₀ = 3; the axes for z1·z2).
  // For labels y near g(0) the fibre hugs these directions and the angular integrand has a
  // feature of width ~|y − g(0)| there, which equally spaced rays miss (the onset of z1·z2 was
  // 2.1e-3 low with 128 equal rays). Between consecutive escape angles the rays follow the
  // polynomial (Kress) map θ = θ_a + (θ_b − θ_a) s^p / (s^p + (1 − s)^p), p = 6, s at the
  // midpoints of m equal cells; rays closer than 1e-7 rad to an escape direction are dropped (g is
  // within rounding of g(0) along them). Equal spacing when no such direction exists or when there
  // are more than directions/8 of them. Default true.
  bool graded_rays = true;
  // Atoms on the ray route: radial Gauss–Legendre nodes per panel and the panel width.
  int radial_nodes = 8;        // range [2, 64]
  double radial_panel = 0.5;   // range (0, 5]
  // Relative tolerance of the z-integrals of the gaussian-noise posterior (k = 1). (0, 1e-3].
  double noise_rel_tol = 1e-11;
  // V (or each eigenvalue of V) is raised to at least this value. Range (0, 1e-3]; default 1e-14.
  double v_floor = 1e-14;

  void validate() const;  // throws InputError naming the field
};

// Label check shared by both denoisers' prepare(): true for a missing label (NaN, erase noise
// only); throws InputError naming "y" for NaN under other noises and for ±∞.
bool label_is_missing(double y, const model::Noise& noise);

// Posterior of z (k = 1) under N(ω, V) and the channel given one label.
struct ScalarPosterior {
  double mean = 0.0;          // E[z | y, ω, V]
  double var = 0.0;           // Var(z | y, ω, V)
  double log_evidence = 0.0;  // log p(y | ω, V): density (continuous y) or log-probability (atom)
  double g_out = 0.0;         // (mean − ω)/V
  double dg_out = 0.0;        // ∂g_out/∂ω = (var/V − 1)/V
  bool empty = false;         // y has no support under the model (no preimage, no atom): g_out = 0
};

// Denoiser for k = 1 links, exact up to root finding and closed forms (quadrature only for
// gaussian noise). Not thread-safe (the link is an expression): copy it per thread; copies are
// independent.
class ScalarDenoiser {
 public:
  // Throws InputError naming "link" (k ≠ 1), "noise" (flip on a link whose values are not ±1), or
  // the DenoiserOptions field.
  ScalarDenoiser(const model::Link& link, const model::Noise& noise, const DenoiserOptions& options = {});

  // Everything about one label that does not depend on (ω, V).
  struct Label {
    double y = 0.0;
    bool missing = false;                         // erased label (NaN): posterior = prior
    bool atom = false;                            // y is a plateau value of g
    std::vector<double> z;                        // continuous y: preimages of y
    std::vector<double> log_a;                    //   log(1/|g'(z_r)|)
    std::vector<std::array<double, 2>> region;    // atom: intervals of {g = y} (ends may be ±∞)
    std::vector<std::array<double, 2>> region_flip;  // flip noise: intervals of {g = −y}
    double log_marginal = -1e308;                 // resample: log p_Y(y) (density or probability)
    std::vector<double> breakpoints;              // gaussian noise: z with g(z) ∈ y ± c√Δ, structure points
  };
  Label prepare(double y) const;
  ScalarPosterior posterior(const Label& label, double omega, double V) const;
  ScalarPosterior posterior(double y, double omega, double V) const { return posterior(prepare(y), omega, V); }

  // Atoms of the clean link: plateau value, its intervals (ends ±∞ when the plateau reaches ±radius)
  // and P(g(z) = value) under z ~ N(0, 1).
  struct Atom {
    double value = 0.0;
    std::vector<std::array<double, 2>> intervals;
    double probability = 0.0;
  };
  const std::vector<Atom>& atoms() const { return atoms_; }
  const gauss::Fibre1D& fibre() const { return fibre_; }
  const model::Noise& noise() const { return noise_; }
  const DenoiserOptions& options() const { return options_; }
  // g(−z) = g(z) on a fine grid (then E[z | y] = 0 by symmetry and the link is not trivial).
  bool even() const { return even_; }
  double link_value(double z) const { return fibre_(z); }
  // Index into atoms() of the atom equal to y (relative tolerance 1e-12), or −1.
  int atom_index(double y) const;

 private:
  ScalarPosterior gaussian_noise_posterior(const Label& label, double omega, double V) const;
  // g on a uniform grid of 2^16 cells on [−radius, radius] (gaussian noise only): cubic Catmull–Rom
  // interpolation in cells away from the structure points of g (error ~h³|g‴|, h = 3e-4: ≈ 1e-11
  // for smooth g), the link itself within two cells of a structure point and outside the grid.
  double link_fast(double z) const;
  std::vector<double> table_;
  std::vector<char> exact_cell_;
  double table_h_ = 0.0;

  model::Noise noise_;
  DenoiserOptions options_;
  gauss::Fibre1D fibre_;
  std::vector<Atom> atoms_;
  bool even_ = false;
};

// Multivariate Gaussian prior N(ω, V) in the form the ray route uses.
struct GaussianPrior {
  Eigen::VectorXd omega;   // k
  Eigen::MatrixXd V;       // k × k, symmetric positive definite (eigenvalues floored at v_floor)
  Eigen::MatrixXd V_inv;
  double log_det_2piV = 0.0;
  static GaussianPrior make(const Eigen::VectorXd& omega, const Eigen::MatrixXd& V, double v_floor);
};

struct VectorPosterior {
  Eigen::VectorXd mean;    // E[z | y, ω, V]
  Eigen::MatrixXd cov;     // Cov(z | y, ω, V)
  double log_evidence = 0.0;
  Eigen::VectorXd g_out;   // V^{-1}(mean − ω)
  Eigen::MatrixXd dg_out;  // V^{-1} cov V^{-1} − V^{-1}
  bool empty = false;
};

// Denoiser for k = 1, 2, 3 by the ray (co-area) route: the fibre of each label is discretised once
// into weighted points; every (ω, V) then costs one pass over them. Noise: none, erase, resample,
// flip (gaussian noise: InputError — use k = 1 and ScalarDenoiser). Not thread-safe for prepare()
// (evaluates the link); posterior() is const and allocation-light and may run concurrently.
class RayDenoiser {
 public:
  RayDenoiser(const model::Link& link, const model::Noise& noise, const DenoiserOptions& options = {});

  // The fibre of one label: points z_l (columns) with log weights, such that for any Gaussian
  // density p, ∫ p(z) P(y | z) dz ≈ Σ_l e^{log_v_l} p(z_l) (density in y for continuous labels,
  // probability for atoms).
  struct Label {
    double y = 0.0;
    bool missing = false;
    bool atom = false;
    Eigen::MatrixXd z;            // k × L
    std::vector<double> log_v;
    Eigen::MatrixXd z_flip;       // flip noise: the fibre of −y
    std::vector<double> log_v_flip;
    double log_marginal = -1e308; // resample: log p_Y(y)
  };
  Label prepare(double y) const;
  VectorPosterior posterior(const Label& label, const GaussianPrior& prior) const;

  struct Atom {
    double value = 0.0;
    double probability = 0.0;
    int rays = 0;  // rays on which the plateau was seen
  };
  const std::vector<Atom>& atoms() const { return atoms_; }
  int atom_index(double y) const;
  int k() const { return k_; }
  int rays() const { return static_cast<int>(directions_.cols()); }
  // Range of the continuous part of g over the analysed ball, and g(0).
  double y_min() const { return y_min_; }
  double y_max() const { return y_max_; }
  double g_origin() const { return g_origin_; }
  const model::Noise& noise() const { return noise_; }
  const DenoiserOptions& options() const { return options_; }

 private:
  void clean_fibre(double y, Eigen::MatrixXd& z, std::vector<double>& log_v) const;

  model::Noise noise_;
  DenoiserOptions options_;
  int k_ = 1;
  Eigen::MatrixXd directions_;        // k × rays, unit vectors
  std::vector<double> log_sigma_;     // log of the surface weight of each ray
  std::vector<gauss::Fibre1D> rays_;  // r ↦ g(r u) on [0, radius]
  std::vector<Atom> atoms_;
  double y_min_ = 0.0, y_max_ = 0.0, g_origin_ = 0.0;
};

}  // namespace deltacrit::alg
