// The subspace overlap matrix S = Θ̂ᵀP_EΘ̂ (simulate/subspace.hpp): invariance under the
// estimate's arbitrary basis (permutation, signs, rotation, scaling), closed forms, rank-deficient
// estimates, a second method (QR projector), each kind's matrix against an independent computation,
// and the sweep's mean over seeds whose raw matrices differ in sign and order.
#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "catch_compat.hpp"
#include "deltacrit/simulate/gamp.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "deltacrit/simulate/subspace.hpp"
#include "deltacrit/simulate/sweep.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;
namespace tol = deltacrit::test_tol;

namespace {

Eigen::MatrixXd gaussian(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  std::normal_distribution<double> normal;
  Eigen::MatrixXd A(rows, cols);
  for (Eigen::Index i = 0; i < A.size(); ++i) A.data()[i] = normal(rng);
  return A;
}

// Orthonormal d×k basis (thin Householder Q of a Gaussian matrix).
Eigen::MatrixXd orthonormal(Eigen::Index d, Eigen::Index k, Rng& rng) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian(d, k, rng));
  return qr.householderQ() * Eigen::MatrixXd::Identity(d, k);
}

// Second method: P_E from an orthonormal basis of span(E) (column-pivoted QR with rank detection),
// S = (ΘᵀU)(ΘᵀU)ᵀ; never forms a Gram matrix.
Eigen::MatrixXd subspace_by_qr(const Eigen::MatrixXd& theta, const Eigen::MatrixXd& E) {
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(E);
  qr.setThreshold(1e-10);
  const Eigen::Index rank = qr.rank();
  const Eigen::MatrixXd U = qr.householderQ() * Eigen::MatrixXd::Identity(E.rows(), rank);
  const Eigen::MatrixXd C = theta.transpose() * U;
  return C * C.transpose();
}

bool near(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, double tol) {
  return A.rows() == B.rows() && A.cols() == B.cols() && (A - B).cwiseAbs().maxCoeff() <= tol;
}

}  // namespace

TEST_CASE("simulate/subspace: invariant under permutation, sign flips, rotation and scaling of the estimate",
          "[simulate][subspace]") {
  Rng rng = make_rng(31);
  const int d = 40;
  for (int k : {1, 2, 3}) {
    for (int r : {1, 2, 4}) {
      CAPTURE(k, r);
      const Eigen::MatrixXd theta = orthonormal(d, k, rng);
      // An estimate partly aligned with Θ*: E = Θ*·A + noise.
      const Eigen::MatrixXd E = theta * gaussian(k, r, rng) + 0.7 * gaussian(d, r, rng);
      const Eigen::MatrixXd S = subspace_overlap_matrix_of(theta, E);
      REQUIRE(S.rows() == k);
      REQUIRE(S.cols() == k);
      CHECK(near(S, subspace_by_qr(theta, E), tol::kSubspaceGram));
      CHECK(near(S, S.transpose(), 0.0));
      const Eigen::VectorXd ev = principal_cos2(S);
      CHECK(ev.minCoeff() >= -1e-14);
      CHECK(ev.maxCoeff() <= 1.0 + tol::kSubspaceGram);
      for (Eigen::Index i = 1; i < ev.size(); ++i) CHECK(ev[i] <= ev[i - 1]);
      // tr S/k = ‖ΘᵀP_E‖_F²/k, the scalar subspace overlap of gd.hpp.
      RowMatrix Wt = E.transpose();
      CHECK(S.trace() / k == Approx(subspace_overlap(Wt, theta)).epsilon(tol::kRoundoff));

      // Reversed column order, alternating signs, column scales 10^{±j}.
      Eigen::MatrixXd F(d, r);
      for (int j = 0; j < r; ++j) F.col(j) = (j % 2 ? -1.0 : 1.0) * std::pow(10.0, j % 2 ? -j : j) * E.col(r - 1 - j);
      CHECK(near(subspace_overlap_matrix_of(theta, F), S, tol::kSubspaceGram));
      // Any orthogonal recombination, and a general invertible one.
      const Eigen::MatrixXd R = orthonormal(r, r, rng);
      CHECK(near(subspace_overlap_matrix_of(theta, E * R), S, tol::kSubspaceGram));
      const Eigen::MatrixXd L = gaussian(r, r, rng) + 3.0 * Eigen::MatrixXd::Identity(r, r);
      CHECK(near(subspace_overlap_matrix_of(theta, E * L), S, tol::kSubspaceRecombined));
      // The cross/Gram form in any column scaling (as GD's normalised overlaps would give).
      const Eigen::VectorXd norms = E.colwise().norm();
      const Eigen::MatrixXd En = E * norms.cwiseInverse().asDiagonal();
      CHECK(near(subspace_overlap_matrix(theta.transpose() * En, En.transpose() * En), S, tol::kSubspaceGram));
      // Θ*'s columns are normalised: scaling them changes nothing.
      CHECK(near(subspace_overlap_matrix_of(3.0 * theta, E), S, tol::kSubspaceGram));
    }
  }
}

TEST_CASE("simulate/subspace: closed forms", "[simulate][subspace]") {
  Rng rng = make_rng(7);
  const int d = 12;
  const Eigen::MatrixXd basis = orthonormal(d, 5, rng);  // θ1, θ2, then u1, u2, u3 ⟂ Θ*
  const Eigen::MatrixXd theta = basis.leftCols(2);
  const Eigen::VectorXd t1 = basis.col(0), t2 = basis.col(1), u1 = basis.col(2), u2 = basis.col(3), u3 = basis.col(4);
  const Eigen::MatrixXd I2 = Eigen::MatrixXd::Identity(2, 2);
  auto S_of = [&](std::initializer_list<Eigen::VectorXd> cols) {
    Eigen::MatrixXd E(d, static_cast<Eigen::Index>(cols.size()));
    Eigen::Index j = 0;
    for (const auto& c : cols) E.col(j++) = c;
    return subspace_overlap_matrix_of(theta, E);
  };
  // Estimate = Θ* (in any basis, with extra orthogonal directions): identity.
  CHECK(near(S_of({t1, t2}), I2, tol::kRoundoff));
  CHECK(near(S_of({t2 - t1, -t1 - t2, u1}), I2, tol::kRoundoff));
  // Orthogonal to Θ*: zero.
  CHECK(near(S_of({u1, u2, u3}), Eigen::MatrixXd::Zero(2, 2), tol::kRoundoff));
  // Spanning one of the two directions: diag(1, 0).
  Eigen::MatrixXd diag10 = Eigen::MatrixXd::Zero(2, 2);
  diag10(0, 0) = 1.0;
  CHECK(near(S_of({-2.0 * t1}), diag10, tol::kRoundoff));
  CHECK(near(S_of({t1, u2}), diag10, tol::kRoundoff));
  // One column along θ1 + θ2: P = vvᵀ/2, so every entry of S is 1/2; eigenvalues (1, 0).
  const Eigen::MatrixXd S_diag = S_of({t1 + t2});
  CHECK(near(S_diag, Eigen::MatrixXd::Constant(2, 2, 0.5), tol::kRoundoff));
  const Eigen::VectorXd ev = principal_cos2(S_diag);
  CHECK(ev[0] == Approx(1.0).epsilon(tol::kRoundoff));
  CHECK(std::fabs(ev[1]) < tol::kRoundoff);
  // Principal angles a, b: E = [cos a θ1 + sin a u1, cos b θ2 + sin b u2] → diag(cos²a, cos²b).
  const double a = 0.3, b = 1.1;
  Eigen::MatrixXd expect = Eigen::MatrixXd::Zero(2, 2);
  expect(0, 0) = std::cos(a) * std::cos(a);
  expect(1, 1) = std::cos(b) * std::cos(b);
  CHECK(near(S_of({std::cos(a) * t1 + std::sin(a) * u1, std::cos(b) * t2 + std::sin(b) * u2}), expect, tol::kRoundoff));
}

TEST_CASE("simulate/subspace: rank-deficient, zero and non-finite estimates", "[simulate][subspace]") {
  Rng rng = make_rng(9);
  const int d = 10;
  const Eigen::MatrixXd basis = orthonormal(d, 3, rng);
  const Eigen::MatrixXd theta = basis.leftCols(2);
  Eigen::MatrixXd diag10 = Eigen::MatrixXd::Zero(2, 2);
  diag10(0, 0) = 1.0;
  // Repeated, zero and collinear neurons: span{θ1}.
  Eigen::MatrixXd E(d, 4);
  E << basis.col(0), basis.col(0), Eigen::VectorXd::Zero(d), -2.0 * basis.col(0);
  const Eigen::MatrixXd S = subspace_overlap_matrix_of(theta, E);
  CHECK(S.allFinite());
  CHECK(near(S, diag10, tol::kRoundoff));
  // All-zero estimate: S = 0, no division by zero.
  CHECK(near(subspace_overlap_matrix_of(theta, Eigen::MatrixXd::Zero(d, 3)), Eigen::MatrixXd::Zero(2, 2), 0.0));
  // Non-finite: NaN matrix of the right shape (the sweep then skips the run).
  Eigen::MatrixXd bad = E;
  bad(0, 0) = std::numeric_limits<double>::quiet_NaN();
  const Eigen::MatrixXd Sbad = subspace_overlap_matrix_of(theta, bad);
  CHECK(Sbad.rows() == 2);
  CHECK(Sbad.cols() == 2);
  CHECK(Sbad.array().isNaN().all());
  CHECK(principal_cos2(Sbad).array().isNaN().all());
  // Mismatched shapes are programming errors.
  CHECK_THROWS_AS(subspace_overlap_matrix(Eigen::MatrixXd::Zero(2, 3), Eigen::MatrixXd::Zero(2, 2)), std::invalid_argument);
  CHECK_THROWS_AS(subspace_overlap_matrix_of(theta, Eigen::MatrixXd::Zero(d + 1, 2)), std::invalid_argument);
}

namespace {
// A sweep kind whose truth is known: Θ* = (θ1, θ2) random orthonormal, d = 8; seed s has the
// estimate span{cos φ_s θ1 + sin φ_s u, θ2} (u ⟂ Θ*), φ_s = 0.2 (s + 1), so S_s = diag(cos²φ_s, 1).
// Its basis is then scrambled per seed — columns swapped or not, signs flipped, rotated by a random
// angle — so the raw matrices Θ*ᵀE differ in order and sign from seed to seed.
double phi(int s) { return 0.2 * (s + 1); }

SeedKind scrambled_kind() {
  return [](const SeedContext& ctx) {
    Rng& rng = ctx.rng;
    const Eigen::MatrixXd basis = orthonormal(8, 3, rng);
    const Eigen::MatrixXd theta = basis.leftCols(2);
    Eigen::MatrixXd E(8, 2);
    E.col(0) = std::cos(phi(ctx.seed_index)) * basis.col(0) + std::sin(phi(ctx.seed_index)) * basis.col(2);
    E.col(1) = basis.col(1);
    std::uniform_real_distribution<double> angle(0.0, 6.283185307179586);
    const double w = angle(rng);
    Eigen::Matrix2d R;
    R << std::cos(w), -std::sin(w), std::sin(w), std::cos(w);
    Eigen::Matrix2d flip = Eigen::Matrix2d::Identity();
    if (ctx.seed_index % 2) flip << 0, -1, 1, 0;  // swap the columns, flip one sign
    E = E * R * flip;
    SeedResult r;
    r.status = Status::success;
    r.overlap_matrix = theta.transpose() * E;
    r.subspace_matrix = subspace_overlap_matrix(r.overlap_matrix, E.transpose() * E);
    r.overlap = r.subspace_matrix.trace() / 2;
    return r;
  };
}
}  // namespace

TEST_CASE("simulate/subspace: the sweep averages the invariant matrix, not the scrambled raw ones",
          "[simulate][subspace][sweep]") {
  SweepOptions opts;
  opts.d = 8;
  opts.deltas = {1.0};
  opts.seeds = 6;
  opts.bootstrap = 0;
  const SweepReport rep = run_sweep(opts, scrambled_kind());
  REQUIRE(rep.points.size() == 1);
  const PointSummary& p = rep.points[0];
  REQUIRE(p.seeds == 6);
  // The construction really scrambles: raw matrices of seeds 0 and 1 differ far beyond rounding.
  CHECK((p.runs[0].overlap_matrix - p.runs[1].overlap_matrix).cwiseAbs().maxCoeff() > 0.1);
  // Truth: mean diag(cos²φ_s, 1), zero off-diagonal; standard error sd(cos²φ_s)/√6.
  double m = 0, ss = 0;
  for (int s = 0; s < 6; ++s) m += std::pow(std::cos(phi(s)), 2) / 6;
  for (int s = 0; s < 6; ++s) ss += std::pow(std::pow(std::cos(phi(s)), 2) - m, 2);
  const double se = std::sqrt(ss / 5 / 6);
  REQUIRE(p.subspace_matrix_mean.rows() == 2);
  REQUIRE(p.subspace_matrix_mean.cols() == 2);
  CHECK(p.subspace_matrix_mean(0, 0) == Approx(m).epsilon(tol::kRoundoff));
  CHECK(p.subspace_matrix_mean(1, 1) == Approx(1.0).epsilon(tol::kRoundoff));
  CHECK(std::fabs(p.subspace_matrix_mean(0, 1)) < tol::kRoundoff);
  CHECK(std::fabs(p.subspace_matrix_mean(1, 0)) < tol::kRoundoff);
  CHECK(p.subspace_matrix_stderr(0, 0) == Approx(se).epsilon(tol::kSubspaceStderr));
  CHECK(std::fabs(p.subspace_matrix_stderr(1, 1)) < tol::kRoundoff);
  // Principal cos², largest first: (1, mean cos²φ_s).
  REQUIRE(p.principal_cos2.mean.size() == 2);
  CHECK(p.principal_cos2.mean[0] == Approx(1.0).epsilon(tol::kRoundoff));
  CHECK(p.principal_cos2.mean[1] == Approx(m).epsilon(tol::kRoundoff));
  CHECK(p.principal_cos2.stderr_[1] == Approx(se).epsilon(tol::kSubspaceStderr));
  CHECK(p.overlap_mean == Approx((m + 1.0) / 2).epsilon(tol::kRoundoff));

  const auto j = report_json(rep, {}, "scrambled");
  const auto& q = j.at("points")[0];
  CHECK(!q.contains("overlap_matrix"));
  REQUIRE(q.at("subspace_overlap_matrix").size() == 2);
  CHECK(q.at("subspace_overlap_matrix")[0].size() == 2);
  CHECK(q.at("subspace_overlap_matrix")[0][0].get<double>() == Approx(m).epsilon(tol::kRoundoff));
  CHECK(q.at("subspace_overlap_matrix_stderr")[0][0].get<double>() == Approx(se).epsilon(tol::kSubspaceStderr));
  CHECK(q.at("principal_cos2").size() == 2);
  CHECK(q.at("principal_cos2_stderr").size() == 2);
  for (const auto& run : q.at("runs")) {
    CHECK(run.at("overlap_matrix").size() == 2);
    CHECK(run.at("subspace_overlap_matrix").size() == 2);
  }
  const std::string csv = report_csv(rep);
  CHECK(csv.find(",subspace_overlap_1_1,subspace_overlap_1_1_stderr,") != std::string::npos);
  CHECK(csv.find("subspace_overlap_2_2_stderr\n") != std::string::npos);
}

TEST_CASE("simulate/subspace: a single seed has a mean and a null standard error", "[simulate][subspace][sweep]") {
  SweepOptions opts;
  opts.d = 8;
  opts.deltas = {1.0};
  opts.seeds = 1;
  const SweepReport rep = run_sweep(opts, scrambled_kind());
  const auto q = report_json(rep, {}, "scrambled").at("points")[0];
  CHECK(q.at("subspace_overlap_matrix")[1][1].get<double>() == Approx(1.0).epsilon(tol::kRoundoff));
  CHECK(q.at("subspace_overlap_matrix_stderr")[0][0].is_null());
  CHECK(q.at("principal_cos2_stderr")[0].is_null());
}

TEST_CASE("simulate/subspace: each kind's matrix equals an independent computation from its estimate",
          "[simulate][subspace]") {
  Parallel par(2);
  SECTION("gd, width 3 > k = 2: span of all neurons") {
    const auto link = model::Link::parse("z1*z2");
    const Dataset data = generate_dataset(link, model::Noise{}, 30, 150, 4, par);
    GdOptions o;
    o.width = 3;
    o.steps = 30;
    o.lr = 0.5;
    o.init = phase1::parse_init("random:0.5");
    o.test_size = 0;
    const GdRun run = train_gd(data, nullptr, o, 4, par);
    REQUIRE(run.status == Status::success);
    const Eigen::MatrixXd& S = run.final_record.subspace_matrix;
    CHECK(near(S, subspace_by_qr(data.theta, run.Wt.transpose()), tol::kSubspaceGram));
    CHECK(S.trace() / 2 == Approx(run.final_record.overlap).epsilon(tol::kRoundoff));
    CHECK(run.final_record.overlap_matrix.cols() == 3);
  }
  SECTION("spectral, nev = 3 > k = 2: span of all eigenvectors") {
    const Dataset data = generate_dataset(model::Link::parse("z1^2 + z2^2"), model::Noise{}, 40, 400, 8, par);
    const Eigen::VectorXd t = (data.train.y.array().min(6.0) - 2.0).matrix();
    SpectralOptions so;
    so.nev = 3;
    Rng rng = make_rng(2);
    const SpectralResult r = spectral_estimate(data.theta, data.train, t, so, par, rng);
    REQUIRE(r.status == Status::success);
    const Eigen::MatrixXd C = data.theta.transpose() * r.vectors;  // V orthonormal: S = CCᵀ
    CHECK(near(r.subspace_matrix, C * C.transpose(), tol::kSubspaceKind));
    CHECK(r.subspace_matrix.trace() / 2 == Approx(r.overlap).epsilon(tol::kSubspaceKind));
  }
  SECTION("gamp: S = Mᵀ Q⁻¹ M and tr S/k = overlap") {
    const auto link = model::Link::parse("z1*z2");
    const auto data = generate_dataset(link, model::Noise{}, 200, 600, 11, par);
    GampOptions o;
    o.max_iterations = 60;
    Rng rng = make_rng(5);
    const GampResult r = run_gamp(data, link, model::Noise{}, o, par, rng);
    REQUIRE(r.status != Status::numerical_issue);
    REQUIRE(r.subspace_matrix.rows() == 2);
    INFO(r.message << ", stationary " << r.stationary << ", overlap " << r.overlap);
    CHECK(r.subspace_matrix.trace() / 2 == Approx(r.overlap).epsilon(tol::kSubspaceKind));
    if (!r.stationary) {
      // M = ŴᵀΘ*/√d, Q = ŴᵀŴ/d: MᵀQ⁻¹M = Θ*ᵀŴ(ŴᵀŴ)⁻¹ŴᵀΘ* (Ŵ has full rank here).
      const Eigen::MatrixXd ref = r.M.transpose() * r.Q.inverse() * r.M;
      CHECK(near(r.subspace_matrix, ref, 10 * tol::kSubspaceKind));
      CHECK(near(r.subspace_matrix, subspace_by_qr(data.theta, r.W), tol::kSubspaceKind));
    }
    // An unreachable tol makes the run end by the stationary rule: S is then the mean over the
    // window, like the overlap, and tr S/k = overlap still holds.
    o.tol = 1e-14;
    o.max_iterations = 200;
    Rng rng2 = make_rng(5);
    const GampResult rs = run_gamp(data, link, model::Noise{}, o, par, rng2);
    INFO(rs.message << ", iterations " << rs.iterations);
    REQUIRE(rs.stationary);
    CHECK(rs.subspace_matrix.trace() / 2 == Approx(rs.overlap).epsilon(tol::kSubspaceKind));
  }
}
