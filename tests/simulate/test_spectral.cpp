// Spectral estimator: the matrix-free product against an explicit D, Lanczos against a dense
// eigensolver, the fused kernel's portable and AVX2 builds against each other, thread invariance,
// and the finite-d overlaps against the asymptotic values of references.md.
#include <cmath>
#include <vector>

#include "../../src/simulate/fused_kernel.hpp"
#include "catch_compat.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

namespace {
struct WeightsContext {
  const double* w;
  int m;
};
void weights_callback(void* ctx, std::size_t row, const double* s, double* c) {
  auto* w = static_cast<WeightsContext*>(ctx);
  for (int j = 0; j < w->m; ++j) c[j] = w->w[row] * s[j] * (j + 1);
}

// Mean and standard error of a sample.
std::pair<double, double> mean_se(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= v.size();
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / (v.size() - 1) / v.size())};
}
}  // namespace

TEST_CASE("simulate/kernel: fused rows equal the two explicit products; AVX2 = portable bits", "[simulate][kernel]") {
  for (int m : {1, 3, 4, 5, 8}) {
    for (int d : {7, 64, 101}) {
      const int n = 37;
      Rng rng = make_rng(11, m * 1000 + d);
      std::normal_distribution<double> normal;
      RowMatrix X(n, d), V(m, d);
      for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = normal(rng);
      for (Eigen::Index i = 0; i < V.size(); ++i) V.data()[i] = normal(rng);
      std::vector<double> w(n);
      for (auto& x : w) x = normal(rng);
      // Explicit: S = X Vᵀ (n×m), C = diag(w) S diag(1..m), P = Cᵀ X.
      Eigen::MatrixXd S = X * V.transpose();
      Eigen::MatrixXd C = S;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j) C(i, j) = w[i] * S(i, j) * (j + 1);
      const Eigen::MatrixXd P_ref = C.transpose() * X;

      WeightsContext ctx{w.data(), m};
      detail::RowCallback cb{&weights_callback, &ctx};
      RowMatrix P1 = RowMatrix::Zero(m, d), P2 = RowMatrix::Zero(m, d);
      detail::fused_rows_portable(X.data(), d, 0, n, V.data(), m, cb, P1.data());
      detail::fused_rows_avx2(X.data(), d, 0, n, V.data(), m, cb, P2.data());
      CHECK((P1 - P_ref).norm() < test_tol::kRoundoff * P_ref.norm() * d);
      CHECK(P1 == P2);
    }
  }
}

TEST_CASE("simulate/spectral: Lanczos agrees with the dense eigensolver", "[simulate][spectral]") {
  Parallel par(2);
  const auto link = model::Link::parse("z^2");
  const Dataset data = generate_dataset(link, model::Noise{}, 120, 480, 5, par);
  const auto T = Preprocessing::expression("1 - 1/y");
  Eigen::VectorXd t(data.train.n());
  for (Eigen::Index i = 0; i < t.size(); ++i) t[i] = T(data.train.y[i]);
  for (int nev : {1, 3}) {
    SpectralOptions lanczos_opts, dense_opts;
    lanczos_opts.nev = dense_opts.nev = nev;
    lanczos_opts.tol = 1e-10;
    dense_opts.solver = SpectralOptions::Solver::dense;
    Rng r1 = make_rng(1), r2 = make_rng(1);
    const SpectralResult a = spectral_estimate(data.theta, data.train, t, lanczos_opts, par, r1);
    const SpectralResult b = spectral_estimate(data.theta, data.train, t, dense_opts, par, r2);
    REQUIRE(a.status == Status::success);
    REQUIRE(b.status == Status::success);
    for (int j = 0; j < nev; ++j) {
      CHECK(a.eigenvalues[j] == Approx(b.eigenvalues[j]).epsilon(test_tol::kLanczosVsDense));
      CHECK(std::fabs(std::fabs(a.vectors.col(j).dot(b.vectors.col(j))) - 1.0) < test_tol::kLanczosVsDense);
    }
    CHECK(a.overlap == Approx(b.overlap).margin(test_tol::kLanczosVsDense));
    // Residual of the dense pair against D applied explicitly (independent of both solvers).
    RowMatrix weighted = data.train.X;
    weighted.array().colwise() *= t.array();
    const Eigen::MatrixXd D = data.train.X.transpose() * weighted / double(data.train.n());
    const Eigen::VectorXd v = a.vectors.col(0);
    CHECK((D * v - a.eigenvalues[0] * v).norm() < 1e-7 * std::max(1.0, std::fabs(a.eigenvalues[0])));
  }
}

TEST_CASE("simulate/spectral: results are bit-identical for 1 and 2 threads", "[simulate][spectral]") {
  SpectralConfig config{model::Link::parse("z^2"), model::Noise{}, Preprocessing::expression("min(y, 3) - 1"), {}};
  const SeedKind kind = spectral_kind(config);
  double overlaps[2];
  double values[2];
  for (int t : {1, 2}) {
    Parallel par(t);
    Rng rng = make_rng(77, 0);
    SeedContext ctx{rng, 0, 300, 900, 3.0, par, nullptr, 1e9};
    const SeedResult r = kind(ctx);
    REQUIRE(r.status == Status::success);
    overlaps[t - 1] = r.overlap;
    values[t - 1] = r.values.at("top_eigenvalues")[0];
  }
  CHECK(overlaps[0] == overlaps[1]);
  CHECK(values[0] == values[1]);
}

TEST_CASE("simulate/spectral: k = 2 subspace overlap is the normalised Frobenius norm", "[simulate][spectral]") {
  Parallel par(2);
  // y = z1² + z2²: D → E[T] I + E[T(z1² − 1)] Θ*Θ*ᵀ, so the top-2 eigenspace tends to span Θ*
  // and the normalised overlap ‖Θ*ᵀV‖_F²/2 to 1 as δ grows.
  const Dataset data = generate_dataset(model::Link::parse("z1^2 + z2^2"), model::Noise{}, 60, 12000, 8, par);
  Eigen::VectorXd t = (data.train.y.array().min(6.0) - 2.0).matrix();
  Rng rng = make_rng(2);
  const SpectralResult r = spectral_estimate(data.theta, data.train, t, {}, par, rng);
  REQUIRE(r.status == Status::success);
  REQUIRE(r.overlap_matrix.rows() == 2);
  REQUIRE(r.overlap_matrix.cols() == 2);
  CHECK(r.overlap == Approx(r.overlap_matrix.squaredNorm() / 2).epsilon(1e-14));
  CHECK(r.overlap > 0.9);
  CHECK(r.overlap <= 1.0 + 1e-12);
}

TEST_CASE("simulate/spectral: phase retrieval, T = 1 - 1/y at delta = 5 (small d)", "[simulate][spectral]") {
  // references.md: squared overlap 0.95696 at δ = 5 (asymptotic). At d = 200 the finite-size
  // spread per seed is ≈ 0.01; 6 seeds, tolerance kSpectralFiniteSize + 3 standard errors.
  SpectralConfig config{model::Link::parse("z^2"), model::Noise{}, Preprocessing::expression("1 - 1/y"), {}};
  const SeedKind kind = spectral_kind(config);
  Parallel par(2);
  std::vector<double> ov;
  for (int s = 0; s < 6; ++s) {
    Rng rng = make_rng(2024, s);
    SeedContext ctx{rng, s, 200, 1000, 5.0, par, nullptr, 1e9};
    const SeedResult r = kind(ctx);
    REQUIRE(r.status == Status::success);
    ov.push_back(r.overlap);
  }
  const auto [m, se] = mean_se(ov);
  CHECK(std::fabs(m - 0.95696) < test_tol::kSpectralFiniteSize + 3 * se);
}

TEST_CASE("simulate/spectral: d = 800, delta = 1, T = 1 - 1/y, y = z^2 gives 0.23 +- 0.02", "[simulate][spectral][validation]") {
  // references.md: asymptotic 0.23070 (Luo–Alghamdi–Lu); finite-size check 0.23 ± 0.02 at d = 800.
  SpectralConfig config{model::Link::parse("z^2"), model::Noise{}, Preprocessing::expression("1 - 1/y"), {}};
  SweepOptions opts;
  opts.d = 800;
  opts.deltas = {1.0};
  opts.seeds = 16;
  opts.seed = 1;
  opts.threads = 2;
  const SweepReport rep = run_sweep(opts, spectral_kind(config));
  REQUIRE(rep.points.size() == 1);
  const auto& p = rep.points[0];
  REQUIRE(p.seeds == 16);
  CHECK(std::fabs(p.overlap_mean - 0.23) < test_tol::kSpectralFiniteSize + 3 * p.overlap_stderr);
}

TEST_CASE("simulate/spectral: d = 800, delta = 2, T = 1 - 1/y matches 0.63888", "[simulate][spectral][validation]") {
  SpectralConfig config{model::Link::parse("z^2"), model::Noise{}, Preprocessing::expression("1 - 1/y"), {}};
  SweepOptions opts;
  opts.d = 800;
  opts.deltas = {2.0};
  opts.seeds = 8;
  opts.seed = 3;
  opts.threads = 2;
  const SweepReport rep = run_sweep(opts, spectral_kind(config));
  const auto& p = rep.points.at(0);
  REQUIRE(p.seeds == 8);
  CHECK(std::fabs(p.overlap_mean - 0.63888) < test_tol::kSpectralFiniteSize + 3 * p.overlap_stderr);
}

TEST_CASE("simulate/spectral: Mondelli-Montanari T at delta = 2, d = 2000 (matrix-free Lanczos)", "[simulate][spectral][validation]") {
  // references.md: T = (y − 1)/(y + √(2δ) − 1) gives squared overlap 0.48582 at δ = 2. T is bounded
  // below (≥ −1), so the matrix-free Lanczos route is used and converges in ≈ 60 products.
  SpectralOptions so;
  so.solver = SpectralOptions::Solver::lanczos;
  SpectralConfig config{model::Link::parse("z^2"), model::Noise{}, Preprocessing::expression("(y-1)/(y+1)"), so};
  SweepOptions opts;
  opts.d = 2000;
  opts.deltas = {2.0};
  opts.seeds = 6;
  opts.seed = 11;
  opts.threads = 2;
  const SweepReport rep = run_sweep(opts, spectral_kind(config));
  const auto& p = rep.points.at(0);
  REQUIRE(p.seeds == 6);
  CHECK(std::fabs(p.overlap_mean - 0.48582) < test_tol::kSpectralFiniteSize + 3 * p.overlap_stderr);
}

TEST_CASE("simulate/spectral: optimal preprocessing from the channel law", "[simulate][spectral]") {
  // Closed forms: y = z² ⇒ E[z²|y] = y; y = |z| ⇒ E[z²|y] = y²; y = sign(z) ⇒ E[z²|y] = 1 (atoms).
  const auto sq = Preprocessing::optimal(model::Link::parse("z^2"), model::Noise{});
  for (double y : {0.01, 0.3, 1.0, 2.5, 7.0, 30.0}) CHECK(sq(y) == Approx(1.0 - 1.0 / y).epsilon(1e-4));
  const auto ab = Preprocessing::optimal(model::Link::parse("abs(z)"), model::Noise{});
  for (double y : {0.2, 0.9, 1.7, 3.0}) CHECK(ab(y) == Approx(1.0 - 1.0 / (y * y)).epsilon(1e-4));
  const auto sg = Preprocessing::optimal(model::Link::parse("sign(z)"), model::Noise{});
  CHECK(std::fabs(sg(1.0)) < 1e-10);
  CHECK(std::fabs(sg(-1.0)) < 1e-10);
  CHECK_THROWS_AS(Preprocessing::optimal(model::Link::parse("z1*z2"), model::Noise{}), InputError);
}
