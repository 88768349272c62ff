#pragma once
// Full-batch gradient descent on a two-layer network (`deltacrit simulate gd`), with the
// conventions of science.md shared with the δ_NN solver:
//   f(x) = Σ_{j≤m} a_j σ(⟨w_j, x⟩),   u_i = Wᵀx_i,
//   R̂(W) = (1/n) Σ_i ℓ(y_i, f(x_i)) + (λ/2)‖W‖_F²,   ℓ = ½(y − f)² (square) or log(1 + e^{−yf}) (logistic, y = ±1),
//   ∇_W R̂ = (1/n) Σ_i x_i F_iᵀ + λW,  F_i = ℓ'(y_i, f_i) · a ⊙ σ'(u_i).
// One step costs one fused pass over X (U = XW, F, XᵀF together; src/simulate/fused_kernel.hpp).
//
// Options beyond plain GD:
// - second layer `trained`: a_j ← a_j − η (1/n) Σ_i ℓ'_i σ(u_ij) in the same step (no ridge on a).
// - `--unit-norm`: Riemannian GD on the product of unit spheres: the gradient of each w_j is
//   projected on the tangent space, g_j ← g_j − ⟨g_j, w_j⟩ w_j, then the step is retracted by
//   normalisation, w_j ← (w_j − η g_j)/‖w_j − η g_j‖. The ridge term is radial and drops out; the
//   initial scale is irrelevant (w_j starts normalised).
// - `--hard 2,3` names hard latent directions (1-based); `--freeze-hard` projects every gradient
//   on the orthogonal complement of Θ_h = span{θ*_h} and draws the initialisation ⊥ Θ_h, so
//   Θ_hᵀW stays 0 (the phase-1 idealisation used by δ_NN).
// - escape step: first step where the hard overlap ‖Θ_hᵀP_W‖_F²/k_h (or, with no --hard, the full
//   overlap) exceeds `escape_level`; learned: the final such overlap exceeds `learned_level`.
// - divergence: a non-finite loss or weight stops the run with Status::numerical_issue.
#include <Eigen/Core>
#include <atomic>
#include <string>
#include <vector>

#include "deltacrit/model/activation.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/phase1/network.hpp"
#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/sweep.hpp"

namespace deltacrit::simulate {

inline constexpr long kMaxSteps = 10'000'000;  // --steps cap
inline constexpr int kMaxWidth = 8;            // --width cap

struct GdOptions {
  model::Activation activation = model::Activation::parse("tanh");  // σ
  model::Loss loss = model::Loss::parse("square");                  // ℓ
  int width = 1;                       // m, 1..8
  phase1::SecondLayer second_layer;    // a (empty = default fixed:1 for m = 1, fixed:1/m,... otherwise) and trained?
  phase1::InitSpec init;               // small:S / random:S: each w_j uniform on the sphere of radius S
  double ridge = 0.0;                  // λ ≥ 0
  double lr = 0.1;                     // η > 0
  long steps = 1000;                   // 0..kMaxSteps
  long record_every = 0;               // K ≥ 1 records every K steps; 0 = auto max(1, steps/100)
  bool unit_norm = false;
  std::vector<int> hard;               // 1-based latent indices of the hard directions
  bool freeze_hard = false;            // requires hard
  std::size_t test_size = 1000;        // fresh test samples for the test loss (0 = none)
  double escape_level = 0.1;           // hard overlap defining the escape step, in (0, 1)
  double learned_level = 0.3;          // final overlap defining "learned", in (0, 1]
  // Throws InputError naming the CLI option (--width, --second-layer, --lr, --steps, --ridge,
  // --record-every, --hard, --freeze-hard, --init, --test-size, --escape-level, --learned-level).
  // `k` is the latent dimension of the link.
  void validate(int k) const;
  std::vector<double> second_layer_values() const;  // a (size m)
};

// Per-row loss, gradient residuals and second-layer gradient of the network on `samples`.
// Returns the data term (1/n) Σ ℓ (no ridge). `grad` (m×d, row j = ∂/∂w_j, ridge included) and
// `a_grad` (size m, (1/n) Σ ℓ' σ(u_j)) may be null.
double risk_and_gradient(const Samples& samples, const model::Activation& activation, const model::Loss& loss,
                         const RowMatrix& Wt, const std::vector<double>& a, double ridge, RowMatrix* grad,
                         std::vector<double>* a_grad, Parallel& parallel);

// Data term (1/n) Σ ℓ on `samples` by two plain products (U = X W, then the per-row loss).
double data_loss(const Samples& samples, const model::Activation& activation, const model::Loss& loss,
                 const RowMatrix& Wt, const std::vector<double>& a);

// Overlaps of a first layer Wt (m×d) with directions B (d×r, orthonormal columns):
// ‖BᵀP_W‖_F² / r, P_W the orthogonal projector on span{w_j} (pseudo-inverse of the Gram matrix
// with relative cutoff 1e-12, so repeated or zero neurons are handled).
double subspace_overlap(const RowMatrix& Wt, const Eigen::MatrixXd& B);
// k×m matrix ⟨θ*_a, w_j⟩/‖w_j‖ (column 0 for a zero neuron).
Eigen::MatrixXd normalised_overlaps(const RowMatrix& Wt, const Eigen::MatrixXd& theta);

struct GdRecord {
  long step = 0;
  double overlap = 0.0;       // ‖Θ*ᵀP_W‖_F²/k
  double hard_overlap = 0.0;  // ‖Θ_hᵀP_W‖_F²/k_h (0 when no --hard)
  Eigen::MatrixXd overlap_matrix;  // k×m normalised
  // k×k Θ*ᵀP_WΘ* (subspace.hpp) with P_W the projector on the span of all m neurons (zero or
  // collinear neurons add nothing); tr/k = overlap.
  Eigen::MatrixXd subspace_matrix;
  double train_loss = 0.0;    // data term on the training set
  double test_loss = 0.0;     // data term on the fresh test set (NaN when test_size = 0)
  double grad_norm = 0.0;     // ‖∇R̂‖_F of the step taken here (after the hard-direction / tangent
                              // projections): ≈ 0 at a stationary point of the constrained problem
};

struct GdRun {
  Status status = Status::not_computed;  // success; numerical_issue (diverged); not_computed (stopped/budget)
  std::string message;
  long steps_done = 0;
  long escape_step = -1;                 // -1: never
  bool learned = false;
  RowMatrix Wt;                          // final first layer (m×d)
  std::vector<double> a;                 // final second layer
  GdRecord final_record;
  std::vector<GdRecord> series;          // every record_every steps, plus the last step
  double seconds_per_step = 0.0;
};

// Trains from the initialisation drawn with stream (base_seed, init). `test` may be null.
// Stops (status not_computed) when *stop becomes true or after `max_seconds` (≤ 0: no limit).
GdRun train_gd(const Dataset& data, const Samples* test, const GdOptions& options, std::uint64_t base_seed,
               Parallel& parallel, const std::atomic<bool>* stop = nullptr, double max_seconds = 0.0);

// Optimistic lower bound on the wall time of one GD run: (steps + 1) passes of 2·n·d·m
// multiply–adds at kOptimisticRate per second per thread (about 3× the best rate measured for the
// fused kernel on this machine, docs/performance.md). A run whose bound exceeds --max-seconds
// certainly cannot finish in time and is refused up front (InputError naming "--steps").
inline constexpr double kOptimisticRate = 3.0e10;
double gd_seconds_lower_bound(std::size_t n, int d, int m, long steps, int threads);

struct GdConfig {
  model::Link link;
  model::Noise noise;
  GdOptions options;
};

// Checks that logistic loss meets ±1 labels (the link on 2000 Gaussian points; noise none, flip,
// erase or resample) and validates the options. Throws InputError naming "--loss" or the option.
void validate_gd_config(const GdConfig& config);

// Sweep kind: data + fresh test set from ctx.rng, train, report. Values: "escape_step_mean",
// "learned_fraction", "train_loss", "test_loss", "hard_overlap" (with --hard). The overlap matrix is
// the final k×m normalised Θ*ᵀW; the subspace matrix that of GdRecord (span of all m neurons).
// Details: the time series, the escape step, a (if trained).
SeedKind gd_kind(const GdConfig& config);

}  // namespace deltacrit::simulate
