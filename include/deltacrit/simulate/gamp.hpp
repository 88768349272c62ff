#pragma once
// Bayes-optimal GAMP on finite-d data (`deltacrit simulate gamp`): the algorithm whose high-
// dimensional limit is the state evolution of alg/se.hpp, run with the same output denoisers
// (alg/denoiser.hpp). Rows a_i = x_i/√d, signal W* = √d Θ* (d×k, prior N(0, I_k) per row),
// z_i = a_iᵀW* (Rangan arXiv 1010.5141; vector form as in Aubin et al. arXiv 1806.05451):
//
//   V_t   = Ĉ_t                                   (k×k, the same for every coordinate)
//   ω_i   = a_iᵀŴ_t − V_t g_i^{t−1}                (Onsager term)
//   g_i   = g_out(y_i, ω_i, V_t),  ∂g_i = ∂_ω g_out
//   Â_t   = −(1/d) Σ_i ∂g_i  or  (1/d) Σ_i g_i g_iᵀ   (both → M̂_t = δ E[g gᵀ] by Nishimori; see below)
//   Ŵ_t+1 = (Aᵀ G + Ŵ_t Â_t)(I + Â_t)^{-1},  Ĉ_t+1 = (I + Â_t)^{-1}
//
// Start: Ŵ_0 = √seed · (Gaussian d×k)/‖·‖·√d-scaled so that ŴᵀŴ/d = seed·I up to O(d^{−1/2}) —
// uninformed (its overlap with Θ* is O(d^{−1/2}) by chance only), Ĉ_0 = I − ŴᵀŴ/d. Reported:
// the squared overlap cos² = ‖Θ*ᵀP_Ŵ‖_F²/k (the sweep's convention), Q = ŴᵀŴ/d and
// M = ŴᵀW*/d (both → M*(δ) of the state evolution), iterations, and the last change of Q.
// Damping η < 1 follows Vila et al. (arXiv 1412.2005); measured: from the uninformed start it can
// stall at the uninformative point (|z|, δ = 1, d = 2000), so the default is η = 1.
//
// Precision Â (GampOptions::precision). In the Bayes-optimal limit −(1/d)Σ_i ∂g_i and (1/d)Σ_i g_i g_iᵀ
// have the same limit M̂_t = δ E[g gᵀ] ⪰ 0 (Nishimori identity, Zdeborová & Krzakala arXiv
// 1511.02476 §IV; the state evolution of alg/se.hpp uses that form). At finite d they differ: near the
// uninformed start the true M̂ is O(tr Q) while −(1/d)Σ∂g fluctuates by O((n/d²)^{1/2}) around it with
// both signs (measured: eigenvalues −0.02…+0.09 at tr Q/k = 1e-12, z1·z2, d = 800, δ = 1.5). A negative
// eigenvalue makes V = (I + Â)^{-1} exceed the prior covariance I, the mismatched posterior then
// drives that eigenvalue further down (−0.85, V up to 13 within 15 iterations) and GAMP breaks down or
// oscillates around a state with Q ≫ M. The Nishimori form is positive semi-definite by construction,
// so V ⪯ I always; it is the default for k ≥ 2; "derivative" keeps the plain GAMP estimate.
#include <Eigen/Core>

#include <string>
#include <vector>

#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/core/rng.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/sweep.hpp"

namespace deltacrit::simulate {

struct GampOptions {
  int max_iterations = 300;    // [1, 100000]
  double tol = 1e-6;           // stop when ‖Q_{t+1} − Q_t‖_F < tol·tr(Q)/k, or tr(Q)/k < 1e-3·seed; (0, 1)
  double damping = 1.0;        // η ∈ (0, 1]: g, Â and Ŵ ← (1−η)·old + η·new (1 = plain GAMP);
                               // halved every `stationary_window` iterations after the first
                               // 2·window without acceptance, down to η/8 (limit cycles, gamp.cpp)
  double seed = 1e-12;         // ŴᵀŴ/d at the start, (0, 0.5]; tiny = a long linear (power-iteration) phase
  enum class Precision { automatic, nishimori, derivative };
  // Â = (1/d)Σ g gᵀ (nishimori) or −(1/d)Σ ∂g (derivative); automatic = nishimori for k ≥ 2,
  // derivative for k = 1 (the k = 1 behaviour the existing validation was measured with; on z², d = 500
  // neither form converged more seeds overall, docs/simulate.md).
  Precision precision = Precision::automatic;
  // Finite-d stationary regime: GAMP often ends in small fluctuations (∝ d^{−1/2}) around the
  // fixed point that never reach `tol`. A run is also accepted (status success, `stationary`)
  // once tr Q/k spans less than `stationary_tol` and less than a tenth of its window mean over the
  // last `stationary_window` iterations (and at least 2·window iterations ran); its overlap is then
  // the mean over that window. The relative condition keeps runs still in the exponential escape
  // from the start (tr Q/k ≪ 0.02 but growing) from being accepted as stationary; a drift test
  // (the means of the two halves of the window must differ by less than 0.35 of the span, or by
  // less than stationary_tol/10) does the same for runs that slowly leave a plateau.
  int stationary_window = 30;   // [5, 1000]
  double stationary_tol = 0.02; // [0, 1); 0 disables
  alg::DenoiserOptions denoiser;
  void validate() const;       // throws InputError naming the CLI option (--max-iter, --tol, ...)
};

struct GampResult {
  Status status = Status::not_computed;
  std::string message;
  int iterations = 0;
  double change = 0.0;           // last ‖Q_{t+1} − Q_t‖_F
  double overlap = 0.0;          // ‖Θ*ᵀP_Ŵ‖_F²/k (k = 1: cos²(ŵ, θ*))
  Eigen::MatrixXd Q;             // ŴᵀŴ/d
  Eigen::MatrixXd M;             // ŴᵀW*/d = Ŵᵀ Θ*/√d (rows: estimate index, cols: Θ* columns)
  // k×k Θ*ᵀP_ŴΘ* (subspace.hpp), P_Ŵ the projector on span of Ŵ's k columns; equal to Mᵀ Q⁺ M.
  // For a stationary run the mean over the same window as `overlap`, so tr/k = overlap in every
  // case (to rounding while Ŵ has full rank). Zero for Ŵ = 0; empty when Ŵ is not finite.
  Eigen::MatrixXd subspace_matrix;
  Eigen::MatrixXd W;             // d×k estimate
  std::vector<double> trace;     // tr Q_t / k per iteration
  int empty_labels = 0;          // labels with no support under the model (g_out set to 0)
  bool stationary = false;       // accepted by the stationary-regime rule (see GampOptions)
  double spread = 0.0;           // span of tr Q/k over the window in that case
  // Success with tr Q/k < kUninformativeLevel: the run ended at (or decayed to) the uninformative
  // fixed point — a legitimate finite-d outcome, reported as such (message and sweep details).
  bool uninformative = false;
  // k ≥ 2, informative: λ_min(Q) < kCollinearRatio·λ_max(Q) — the estimate's columns are nearly
  // collinear, the non-specialised state (sign(z1·z2): a saddle M ∝ 11ᵀ of the state evolution that
  // GAMP can sit near for ~100 iterations). Reported in the message and the sweep details.
  bool collinear = false;
  // k ≥ 2: the Nishimori check −tr Σ∂g ≥ kResolutionRatio·tr Σ g gᵀ failed once tr V/k was below
  // kResolutionCheckV: the fibre discretisation no longer resolves V and the overlap is limited by
  // it (gamp.cpp). resolution_v: tr V/k at the first failure.
  bool resolution_limited = false;
  double resolution_v = 0.0;
};

// k = 2 rays of the GAMP denoiser for links without atoms when DenoiserOptions::directions is 0.
// The SE's 128 graded rays stop resolving V below tr V/k ≈ 0.02 (z1·z2, δ = 3: overlap 0.985 at
// d = 400…2000; 0.9996 with 1024 rays, flagged only below tr V/k ≈ 5e-4).
inline constexpr int kGampRaysK2 = 1024;
inline constexpr double kResolutionCheckV = 0.1;
inline constexpr double kResolutionRatio = 0.8;

inline constexpr double kCollinearRatio = 0.05;

inline constexpr double kUninformativeLevel = 0.01;

// "auto" | "nishimori" | "derivative" → GampOptions::Precision; InputError naming "--precision" otherwise.
GampOptions::Precision parse_precision(const std::string& text);

// The fibre of one label of the ray denoiser (alg::RayDenoiser::Label) flattened for the k ≥ 2 inner
// loop of GAMP: coordinates as k contiguous arrays, log weights with the noise mixture folded in
// (flip: the fibre of −y with weight ε, the clean one with 1 − ε). Same points and weights as the
// denoiser, hence the same posterior; only the evaluation differs (vectorised, one exp per point,
// no per-point allocation). Resample noise (its prior component) is not representable: `supported`
// is false and GAMP then calls the denoiser itself.
struct FibreTable {
  int k = 2;
  bool missing = false;    // erased label: g_out = 0, ∂g_out = 0
  bool supported = true;
  std::vector<Eigen::ArrayXd> z;  // k arrays of length L
  Eigen::ArrayXd log_v;           // L
  // Consecutive points on one ray z = r·u (the denoiser emits them ray by ray): [begin, end), the
  // unit direction, the radial range and max log v — enough for an upper bound of the log weight of
  // every point of the ray given (ω, V), used to skip rays that cannot contribute (fibre_posterior).
  struct Ray {
    Eigen::Index begin = 0, end = 0;
    double u[3] = {0, 0, 0};
    double r_lo = 0, r_hi = 0, max_log_v = 0;
    bool sorted = true;  // radii non-decreasing along [begin, end): radial pruning by bisection
  };
  std::vector<Ray> rays;
  Eigen::ArrayXd radius;  // |z_l|
  static FibreTable from_label(const alg::RayDenoiser::Label& label, const model::Noise& noise, int k);
};

// Posterior of z ~ N(ω, V) restricted to the fibre: g_out = V^{-1}(E[z] − ω) and, when dg is not
// null, ∂g_out = V^{-1} Cov V^{-1} − V^{-1} (formulas of alg/denoiser.hpp). Moments are accumulated
// relative to the heaviest point, so Cov suffers no cancellation when the posterior is narrow.
// Rays whose log-weight bound is more than kFibrePruneLog below the largest log weight found are
// skipped (relative mass < L·e^{−50} ≈ 1e-18 for L ≤ 10⁴ points: below double rounding).
// `scratch` is resized as needed (one per thread). Returns false (g = 0, dg = 0) when the label has
// no support (no fibre point, or all weights underflow).
inline constexpr double kFibrePruneLog = 50.0;
bool fibre_posterior(const FibreTable& table, const alg::GaussianPrior& prior, Eigen::ArrayXd& scratch,
                     Eigen::VectorXd& g, Eigen::MatrixXd* dg);

// Runs GAMP on the samples of `data` (the rows that were kept). `rng` draws the start.
GampResult run_gamp(const Dataset& data, const model::Link& link, const model::Noise& noise, const GampOptions& options,
                    Parallel& parallel, Rng& rng);

struct GampConfig {
  model::Link link;
  model::Noise noise;
  GampOptions options;
};

// Sweep kind: data from ctx.rng (same convention as the other kinds), then run_gamp. Values:
// "q_trace" (tr Q/k), "iterations"; overlap_matrix = M (k×k), subspace_matrix as in GampResult.
// Details: iterations, change, Q, M.
SeedKind gamp_kind(const GampConfig& config);

}  // namespace deltacrit::simulate
