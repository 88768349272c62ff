#pragma once
// Bayes-optimal GAMP on finite-d data (`deltacrit simulate gamp`): the algorithm whose high-
// dimensional limit is the state evolution of alg/se.hpp, run with the same output denoisers
// (alg/denoiser.hpp). Rows a_i = x_i/√d, signal W* = √d Θ* (d×k, prior N(0, I_k) per row),
// z_i = a_iᵀW* (Rangan arXiv 1010.5141; vector form as in Aubin et al. arXiv 1806.05451):
//
//   V_t   = Ĉ_t                                   (k×k, the same for every coordinate)
//   ω_i   = a_iᵀŴ_t − V_t g_i^{t−1}                (Onsager term)
//   g_i   = g_out(y_i, ω_i, V_t),  ∂g_i = ∂_ω g_out
//   Â_t   = −(1/d) Σ_i ∂g_i                         (→ M̂_t = δ E[g gᵀ] by Nishimori)
//   Ŵ_t+1 = (Aᵀ G + Ŵ_t Â_t)(I + Â_t)^{-1},  Ĉ_t+1 = (I + Â_t)^{-1}
//
// Start: Ŵ_0 = √seed · (Gaussian d×k)/‖·‖·√d-scaled so that ŴᵀŴ/d = seed·I up to O(d^{−1/2}) —
// uninformed (its overlap with Θ* is O(d^{−1/2}) by chance only), Ĉ_0 = I − ŴᵀŴ/d. Reported:
// the squared overlap cos² = ‖Θ*ᵀP_Ŵ‖_F²/k (the sweep's convention), Q = ŴᵀŴ/d and
// M = ŴᵀW*/d (both → M*(δ) of the state evolution), iterations, and the last change of Q.
// Damping η < 1 follows Vila et al. (arXiv 1412.2005); measured: from the uninformed start it can
// stall at the uninformative point (|z|, δ = 1, d = 2000), so the default is η = 1.
#include <Eigen/Core>

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
  double damping = 1.0;        // η ∈ (0, 1]: g, Â and Ŵ ← (1−η)·old + η·new (1 = plain GAMP)
  double seed = 1e-12;         // ŴᵀŴ/d at the start, (0, 0.5]; tiny = a long linear (power-iteration) phase
  // Finite-d stationary regime: GAMP often ends in small fluctuations (∝ d^{−1/2}) around the
  // fixed point that never reach `tol`. A run is also accepted (status success, `stationary`)
  // once tr Q/k spans less than `stationary_tol` over the last `stationary_window` iterations
  // (and at least 2·window iterations ran); its overlap is then the mean over that window.
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
  Eigen::MatrixXd M;             // ŴᵀW*/d = Θ*ᵀŴ/√d (rows: estimate index, cols: Θ* columns)
  Eigen::MatrixXd W;             // d×k estimate
  std::vector<double> trace;     // tr Q_t / k per iteration
  int empty_labels = 0;          // labels with no support under the model (g_out set to 0)
  bool stationary = false;       // accepted by the stationary-regime rule (see GampOptions)
  double spread = 0.0;           // span of tr Q/k over the window in that case
};

// Runs GAMP on the samples of `data` (the rows that were kept). `rng` draws the start.
GampResult run_gamp(const Dataset& data, const model::Link& link, const model::Noise& noise, const GampOptions& options,
                    Parallel& parallel, Rng& rng);

struct GampConfig {
  model::Link link;
  model::Noise noise;
  GampOptions options;
};

// Sweep kind: data from ctx.rng (same convention as the other kinds), then run_gamp. Values:
// "q_trace" (tr Q/k), "iterations"; overlap_matrix = M (k×k). Details: iterations, change, Q, M.
SeedKind gamp_kind(const GampConfig& config);

}  // namespace deltacrit::simulate
