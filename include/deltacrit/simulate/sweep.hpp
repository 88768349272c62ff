#pragma once
// Sweeps of a finite-d experiment over δ × seeds, with means, standard errors, an empirical
// threshold estimate, and the Report shape shared by every `simulate` kind.
//
// Plugging in a kind (spectral, gd, hessian here; GAMP from the state-evolution module): a kind is
// a function
//     SeedResult kind(const SeedContext& ctx)
// that runs ONE seed at one δ: it draws everything from ctx.rng (a stream of the user seed that
// depends only on the seed index, so the same seed index gives the same Θ* and the same first rows
// of X at every δ: common random numbers across the sweep), uses ctx.parallel for its row-parallel
// loops, checks *ctx.stop between expensive steps (and returns Status::not_computed when it
// stops early), and fills a SeedResult. Its configuration (link, noise, options) is captured in
// the std::function. The sweep never interprets kind-specific numbers: it averages every entry of
// SeedResult::values over the seeds (elementwise, skipping non-finite entries) and prints them under
// the key given. The one matrix it averages is SeedResult::subspace_matrix, whose meaning is
// fixed (subspace.hpp); the raw, kind-oriented overlap_matrix is only echoed per run.
#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deltacrit/core/rng.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/simulate/parallel.hpp"

namespace deltacrit::simulate {

struct SeedContext {
  Rng& rng;                       // this seed's stream: make_rng(user seed, seed index)
  int seed_index = 0;             // 0-based
  int d = 0;                      // dimension
  std::size_t n = 0;              // samples: round(δ·d) ≥ 1
  double delta = 0.0;             // nominal δ (the sweep value)
  Parallel& parallel;             // threads for row-parallel kernels
  const std::atomic<bool>* stop;  // set on Ctrl-C; may be null
  double deadline_seconds;        // seconds left in the --max-seconds budget (+inf when none)
};

struct SeedResult {
  // success; not_converged (an eigensolver ran out of iterations); numerical_issue (divergence,
  // non-finite values). Only successful seeds enter the means; the others are listed and counted.
  // not_computed: the kind stopped early (Ctrl-C or the time budget) and the seed is dropped.
  Status status = Status::not_computed;
  std::string message;             // one line: why a seed failed ("diverged at step 120", ...)
  double overlap = 0.0;            // squared overlap with Θ* (k ≥ 2: ‖Θ*ᵀP‖_F²/k)
  // The raw overlap matrix of this run (kind-specific shape and orientation, doc'd by the kind).
  // Its column order and signs are arbitrary from seed to seed: echoed per run, never averaged.
  Eigen::MatrixXd overlap_matrix;
  // k×k subspace overlap matrix S = Θ̂*ᵀP_EΘ̂* of the estimate E (subspace.hpp): invariant under
  // any change of basis of the estimate, averaged over seeds. Empty when the kind has no estimate.
  Eigen::MatrixXd subspace_matrix;
  // Kind-specific numbers averaged over seeds; the key is the JSON key of the mean (e.g.
  // "escape_step_mean", "lowest_eigenvalues"); a NaN entry means "absent for this seed".
  std::map<std::string, std::vector<double>> values;
  nlohmann::json details;          // per-seed record (time series, diagnostics) echoed in JSON
  double seconds = 0.0;
};

using SeedKind = std::function<SeedResult(const SeedContext&)>;

struct SweepOptions {
  int d = 800;                  // dimension, ≥ 2
  std::vector<double> deltas;   // δ values (> 0), each giving n = round(δ d) ≥ 1
  int seeds = 1;                // seeds per δ, 1..100000
  std::uint64_t seed = 1;       // user seed
  int threads = 1;              // 1..64
  double max_seconds = 0.0;     // wall-clock budget for the whole sweep; 0 = none
  int bootstrap = 1000;         // bootstrap resamples for the threshold interval (0 = no interval)
  void validate() const;        // throws InputError naming the CLI option ("--d", "--delta", ...)
};

// Elementwise mean and standard error (sd/√count) over the seeds with a finite entry.
struct Aggregate {
  std::vector<double> mean;     // NaN where no seed had a finite value
  std::vector<double> stderr_;  // 0 for a single seed
  std::vector<int> count;
};

struct PointSummary {
  double delta = 0.0;
  std::size_t n = 0;
  int d = 0;
  int seeds_requested = 0;
  int seeds = 0;          // seeds that finished with success or not_converged and enter the means
  int seeds_failed = 0;   // numerical_issue (diverged, ...)
  int seeds_not_converged = 0;
  Status status = Status::not_computed;  // worst over the seeds that ran
  double overlap_mean = 0.0;
  double overlap_stderr = 0.0;
  // Entrywise mean and standard error (sd/√count; NaN for one seed) of the runs' subspace_matrix
  // over the successful seeds with a finite matrix of the common shape; empty when no run has one.
  Eigen::MatrixXd subspace_matrix_mean;
  Eigen::MatrixXd subspace_matrix_stderr;
  // Mean over those seeds of each run's eigenvalues of S, largest first (the squared cosines of
  // the principal angles; invariant too, and not the eigenvalues of the mean matrix).
  Aggregate principal_cos2;
  std::map<std::string, Aggregate> values;
  std::vector<SeedResult> runs;  // one per seed that ran (index = seed index)
};

// Empirical threshold of a δ sweep: least-squares fit of the hinge
//     overlap(δ) ≈ b + s·max(0, δ − δ_c)
// to the mean overlaps (one point per δ, unweighted), δ_c minimising the residual sum of squares
// over [δ_min, δ_max] (fine scan + golden-section refinement). The interval is the 2.5–97.5 %
// percentile range of δ_c over `bootstrap` paired resamples of the seed indices (the same resampled
// seeds at every δ, matching the common random numbers of the sweep). A hinge is the shape of a
// continuous (second-order) weak-recovery transition; finite-d rounding biases δ_c, typically
// downwards, by O(d^{-1/3}) for spectral methods — compare several d before trusting a digit.
struct ThresholdEstimate {
  Status status = Status::not_computed;  // not_computed: < 3 δ values or no rise (s ≤ 0)
  double delta_c = 0.0;
  double lower = 0.0;  // bootstrap interval
  double upper = 0.0;
  double baseline = 0.0;
  double slope = 0.0;
  int resamples = 0;
  std::string note;
};

struct SweepReport {
  Status status = Status::not_computed;
  bool interrupted = false;
  bool budget_exhausted = false;
  double seconds = 0.0;
  std::vector<PointSummary> points;
  ThresholdEstimate threshold;
};

// progress(done, total) is called after every seed (from the calling thread).
using ProgressFn = std::function<void(int done, int total)>;

SweepReport run_sweep(const SweepOptions& options, const SeedKind& kind, const ProgressFn& progress = {},
                      const std::atomic<bool>* stop = nullptr);

// Hinge fit and paired bootstrap (exposed for tests). overlaps[p][s] is seed s at δ = deltas[p]
// (NaN = missing).
ThresholdEstimate estimate_threshold(const std::vector<double>& deltas,
                                     const std::vector<std::vector<double>>& overlaps, int bootstrap,
                                     std::uint64_t seed);

// Report → text. `options` is the echo of the user's options (a JSON object).
nlohmann::json report_json(const SweepReport& report, const nlohmann::json& options, const std::string& kind);
std::string report_table(const SweepReport& report, const std::string& kind);
std::string report_csv(const SweepReport& report);

}  // namespace deltacrit::simulate
