#pragma once
// Synthetic multi-index data: x_i ~ N(0, I_d), Θ* ∈ R^{d×k} with orthonormal columns drawn
// uniformly (Haar), z_i = Θ*ᵀx_i, y_i ~ P(y | z_i) from a model::Link and model::Noise.
//
// Reproducibility: every draw comes from streams derived from one 64-bit `base_seed` (itself drawn
// from the per-seed Rng of a sweep): Θ* from stream (purpose theta), the rows of X in fixed blocks
// of kRowsPerBlock rows each with its own stream, the noise per block likewise. Block boundaries
// do not depend on the thread count, so the data are bit-identical for any --threads.
// Memory: X is n×d doubles (8nd bytes); nothing larger is allocated.
//
// Noise conventions (model::Noise):
//   gaussian:Δ   y = g(z) + √Δ ε, ε ~ N(0, 1).
//   flip:ε       labels must be ±1 (checked on every clean label, InputError naming "noise"
//                otherwise); each sign is flipped independently with probability ε.
//   resample:ε   with probability ε, y is replaced by g(z') for an independent z' ~ N(0, I_k)
//                (an independent draw from the marginal of y).
//   erase:ε      with probability ε the label is "missing": the sample is DROPPED (its row removed
//                from X, z, y). This is exact for every estimator here: a missing label carries no
//                information (E[z | missing] = 0, G(missing) = 0, so the optimal preprocessing is
//                T = 0 there and the GD loss term would be constant). `n_generated` keeps the
//                nominal count n = δd; `n()` is the number of samples kept.
#include <Eigen/Core>
#include <cstdint>

#include "deltacrit/core/rng.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/simulate/parallel.hpp"

namespace deltacrit::simulate {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline constexpr std::size_t kRowsPerBlock = 256;

// Purposes of the derived random streams (distinct streams for distinct uses).
enum class StreamPurpose : std::uint64_t {
  theta = 1, rows = 2, noise = 3, test_rows = 4, test_noise = 5, init = 6, eigensolver = 7, user = 100
};

// Independent stream `index` of `purpose` under `base_seed`.
Rng stream_rng(std::uint64_t base_seed, StreamPurpose purpose, std::uint64_t index = 0);

// Samples (X, z, y) for a given Θ*.
struct Samples {
  RowMatrix X;                  // n×d, row-major (row i = x_iᵀ)
  RowMatrix z;                  // n×k, z = XΘ*
  Eigen::VectorXd y;            // n labels
  std::size_t n_generated = 0;  // samples drawn before erasures (the nominal n)
  std::size_t n() const { return static_cast<std::size_t>(X.rows()); }
};

struct Dataset {
  Eigen::MatrixXd theta;  // d×k, orthonormal columns
  Samples train;
  int d() const { return static_cast<int>(theta.rows()); }
  int k() const { return static_cast<int>(theta.cols()); }
};

// Haar-random d×k matrix with orthonormal columns (QR of a Gaussian matrix with sign fix).
// Requires 1 ≤ k ≤ d.
Eigen::MatrixXd random_orthonormal(int d, int k, Rng& rng);

// Draws n samples for the given Θ*. `rows_purpose`/`noise_purpose` select the streams (training
// and test sets use different ones). Throws InputError naming "noise" when flip noise meets a
// label that is not ±1, "d"/"n" for d < 2 or n < 1.
Samples generate_samples(const Eigen::MatrixXd& theta, const model::Link& link, const model::Noise& noise,
                         std::size_t n, std::uint64_t base_seed, StreamPurpose rows_purpose,
                         StreamPurpose noise_purpose, Parallel& parallel);

// Θ* and the training samples. Throws InputError naming "d" (d < 2, or d < k) or "n" (n < 1).
Dataset generate_dataset(const model::Link& link, const model::Noise& noise, int d, std::size_t n,
                         std::uint64_t base_seed, Parallel& parallel);

}  // namespace deltacrit::simulate
