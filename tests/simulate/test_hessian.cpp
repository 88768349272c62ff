// Hessian of the empirical risk: products against finite differences of the gradient and against a
// dense Hessian built entry by entry from its definition, Lanczos against the dense spectrum,
// thread invariance, and the law file round trip and its errors.
#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "catch_compat.hpp"
#include "deltacrit/simulate/hessian.hpp"
#include "deltacrit/simulate/law_io.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

namespace {
struct Point {
  Dataset data;
  RowMatrix Wt;
  std::vector<double> a;
};

Point make_point(const char* link, int d, std::size_t n, int m, Parallel& par, std::uint64_t seed) {
  Point p{generate_dataset(model::Link::parse(link), model::Noise{}, d, n, seed, par), RowMatrix(m, d), {}};
  Rng rng = make_rng(seed, 99);
  std::normal_distribution<double> normal;
  for (Eigen::Index i = 0; i < p.Wt.size(); ++i) p.Wt.data()[i] = 0.5 * normal(rng) / std::sqrt(double(d)) * 2;
  for (int j = 0; j < m; ++j) p.a.push_back(0.5 + 0.3 * j * (j % 2 ? -1 : 1));
  return p;
}
}  // namespace

TEST_CASE("simulate/hessian: H v equals the finite difference of the gradient", "[simulate][hessian]") {
  Parallel par(2);
  struct Case {
    const char* activation;
    const char* loss;
    const char* link;
    int m;
  };
  const Case cases[] = {{"tanh", "square", "z^2", 1},
                        {"logcosh", "square", "min(z^2, 4)", 2},
                        {"erf", "square", "z1*z2", 3},
                        {"softplus", "logistic", "sign(z)", 2}};
  for (const auto& c : cases) {
    INFO(c.activation << " " << c.loss << " " << c.link);
    Point p = make_point(c.link, 9, 80, c.m, par, 4);
    const auto act = model::Activation::parse(c.activation);
    const auto loss = model::Loss::parse(c.loss);
    const double ridge = 0.05;
    HessianOperator H(p.data.train, p.Wt, p.a, act, loss, ridge, par);
    Rng rng = make_rng(8);
    std::normal_distribution<double> normal;
    RowMatrix V(c.m, 9);
    for (Eigen::Index i = 0; i < V.size(); ++i) V.data()[i] = normal(rng);
    RowMatrix HV(c.m, 9);
    H.apply(V.data(), HV.data());
    const double h = 1e-5;
    RowMatrix gp, gm;
    risk_and_gradient(p.data.train, act, loss, p.Wt + h * V, p.a, ridge, &gp, nullptr, par);
    risk_and_gradient(p.data.train, act, loss, p.Wt - h * V, p.a, ridge, &gm, nullptr, par);
    const RowMatrix fd = (gp - gm) / (2 * h);
    CHECK((fd - HV).cwiseAbs().maxCoeff() < test_tol::kFiniteDifference * std::max(1.0, HV.cwiseAbs().maxCoeff()) * 10);
  }
}

TEST_CASE("simulate/hessian: dense H from its definition, products and lowest eigenvalues", "[simulate][hessian]") {
  Parallel par(2);
  const int d = 30, m = 2;
  Point p = make_point("min(z^2, 4)", d, 150, m, par, 6);
  const auto act = model::Activation::parse("logcosh");
  const auto loss = model::Loss::parse("square");
  const double ridge = 0.05;
  HessianOperator H(p.data.train, p.Wt, p.a, act, loss, ridge, par);
  // Entry by entry: ∂²R̂/∂W_{tj}∂W_{sl} = (1/n) Σ_i x_it x_is [ℓ'' a_j σ'(u_ij) a_l σ'(u_il) + δ_jl ℓ' a_j σ''(u_ij)] + λ δ.
  const auto& X = p.data.train.X;
  const auto& y = p.data.train.y;
  const std::size_t n = p.data.train.n();
  Eigen::MatrixXd ref = Eigen::MatrixXd::Zero(m * d, m * d);
  for (std::size_t i = 0; i < n; ++i) {
    double u[m], f = 0;
    for (int j = 0; j < m; ++j) {
      u[j] = X.row(i).dot(p.Wt.row(j));
      f += p.a[j] * std::log(std::cosh(u[j]));
    }
    const double l1 = f - y[i], l2 = 1.0;
    for (int j = 0; j < m; ++j)
      for (int l = 0; l < m; ++l) {
        double w = l2 * p.a[j] * std::tanh(u[j]) * p.a[l] * std::tanh(u[l]);
        if (j == l) w += l1 * p.a[j] / (std::cosh(u[j]) * std::cosh(u[j]));
        for (int t = 0; t < d; ++t)
          for (int s = 0; s < d; ++s) ref(j * d + t, l * d + s) += w * X(i, t) * X(i, s) / n;
      }
  }
  ref.diagonal().array() += ridge;
  const Eigen::MatrixXd dense = H.dense();
  CHECK((dense - ref).norm() < test_tol::kRoundoff * 100 * ref.norm());
  // Products against the dense matrix.
  Rng rng = make_rng(3);
  std::normal_distribution<double> normal;
  Eigen::VectorXd v(m * d), hv(m * d);
  for (int e = 0; e < m * d; ++e) v[e] = normal(rng);
  H.apply(v.data(), hv.data());
  CHECK((hv - ref * v).norm() < test_tol::kRoundoff * 100 * (ref * v).norm());
  // Lowest eigenpairs: Lanczos against the dense solver on the reference matrix.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(ref);
  HessianOptions opts;
  opts.nev = 3;
  opts.tol = 1e-10;
  opts.spectrum_bins = 10;
  Rng r = make_rng(1);
  const HessianResult hr = hessian_spectrum(H, p.data.theta, {1}, opts, r);
  REQUIRE(hr.status == Status::success);
  for (int q = 0; q < 3; ++q) {
    CHECK(hr.eigenvalues[q] == Approx(es.eigenvalues()[q]).margin(test_tol::kLanczosVsDense));
    const Eigen::VectorXd ev = es.eigenvectors().col(q);
    const Eigen::Map<const RowMatrix> V(ev.data(), m, d);
    const double ov = (V * p.data.theta).squaredNorm();
    CHECK(hr.overlaps[q] == Approx(ov).margin(1e-6));
    CHECK(hr.hard_overlaps[q] == Approx(ov).margin(1e-6));  // k = 1: the hard block is Θ*
  }
  long total = 0;
  for (long c : hr.histogram_counts) total += c;
  CHECK(total == m * d);
  CHECK(hr.histogram_edges.front() == Approx(es.eigenvalues()[0]).margin(1e-9));
  CHECK(hr.histogram_edges.back() == Approx(es.eigenvalues()[m * d - 1]).margin(1e-9));
}

TEST_CASE("simulate/hessian: products are bit-identical for 1 and 2 threads", "[simulate][hessian]") {
  Parallel p1(1), p2(2);
  Point p = make_point("z^2", 300, 2000, 2, p2, 7);
  const auto act = model::Activation::parse("tanh");
  const auto loss = model::Loss::parse("square");
  HessianOperator H1(p.data.train, p.Wt, p.a, act, loss, 0.0, p1);
  HessianOperator H2(p.data.train, p.Wt, p.a, act, loss, 0.0, p2);
  std::vector<double> v(600), o1(600), o2(600);
  for (int e = 0; e < 600; ++e) v[e] = std::sin(e + 1.0);
  H1.apply(v.data(), o1.data());
  H2.apply(v.data(), o2.data());
  CHECK(o1 == o2);
}

TEST_CASE("simulate/law_io: round trip and clear errors", "[simulate][law]") {
  Parallel par(1);
  Point p = make_point("z1^2 + z2", 20, 50, 2, par, 9);
  const auto act = model::Activation::parse("tanh");
  const auto loss = model::Loss::parse("square");
  HessianOperator H(p.data.train, p.Wt, p.a, act, loss, 0.1, par);
  const EmpiricalLaw law = empirical_law(H, p.data.train, p.a, {1}, 2.5, 20);
  const std::string path = "test_simulate_law.bin";
  write_law(law, path);
  const EmpiricalLaw back = read_law(path);
  CHECK(back.n == 50);
  CHECK(back.m == 2);
  CHECK(back.k == 2);
  CHECK(back.hard == std::vector<int>{1});
  CHECK(back.delta == 2.5);
  CHECK(back.d == 20);
  CHECK(back.ridge == 0.1);
  CHECK(back.a == law.a);
  CHECK(back.y == law.y);
  CHECK(back.u == law.u);
  CHECK(back.z == law.z);
  CHECK(back.D == law.D);
  // u_i = Wᵀx_i and z_i = Θ*ᵀx_i in the file.
  for (int i = 0; i < 50; ++i) {
    CHECK(back.u[i * 2 + 1] == Approx(p.data.train.X.row(i).dot(p.Wt.row(1))).margin(1e-12));
    CHECK(back.z[i * 2] == Approx(p.data.train.X.row(i).dot(p.data.theta.col(0))).margin(1e-12));
  }
  auto expect_error = [](const std::string& file, const std::string& fragment) {
    try {
      read_law(file, "--phase1");
      FAIL("read " << file);
    } catch (const InputError& e) {
      CHECK(e.parameter() == "--phase1");
      INFO(e.what());
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
  };
  expect_error("no_such_law_file.bin", "missing");
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path + ".trunc", std::ios::binary).write(bytes.data(), bytes.size() - 8);
    std::ofstream(path + ".tail", std::ios::binary) << bytes << "x";
    std::string bad = bytes;
    bad[0] = 'X';
    std::ofstream(path + ".magic", std::ios::binary).write(bad.data(), bad.size());
    std::string version = bytes;
    version[8] = 7;
    std::ofstream(path + ".version", std::ios::binary).write(version.data(), version.size());
    std::ofstream(path + ".short", std::ios::binary).write(bytes.data(), 100);
  }
  expect_error(path + ".trunc", "truncated");
  expect_error(path + ".tail", "trailing");
  expect_error(path + ".magic", "DCRITLAW");
  expect_error(path + ".version", "version 7");
  expect_error(path + ".short", "truncated");
  for (const char* ext : {"", ".trunc", ".tail", ".magic", ".version", ".short"}) std::remove((path + ext).c_str());
}

TEST_CASE("simulate/hessian: at W = 0 with quadratic activation H is the spectral matrix with T = -2y", "[simulate][hessian]") {
  // σ = x², a = 1, square loss, W = 0: f = 0, J = 0, ℓ' = −y, σ'' = 2, so D_i = −2y_i and
  // H = −(2/n) Σ y_i x_i x_iᵀ. Its lowest eigenpairs are −2× the top eigenpairs of the spectral
  // estimator with T(y) = y: two independent code paths (Hessian products vs spectral products).
  Parallel par(2);
  const Dataset data = generate_dataset(model::Link::parse("min(z^2, 3)"), model::Noise{}, 150, 600, 21, par);
  const RowMatrix W0 = RowMatrix::Zero(1, 150);
  HessianOperator H(data.train, W0, {1.0}, model::Activation::parse("quadratic"), model::Loss::parse("square"), 0.0, par);
  HessianOptions ho;
  ho.nev = 2;
  ho.tol = 1e-11;
  Rng r1 = make_rng(4);
  const HessianResult hr = hessian_spectrum(H, data.theta, {}, ho, r1);
  REQUIRE(hr.status == Status::success);
  SpectralOptions so;
  so.nev = 2;
  so.tol = 1e-11;
  so.solver = SpectralOptions::Solver::lanczos;
  Rng r2 = make_rng(5);
  const SpectralResult sr = spectral_estimate(data.theta, data.train, data.train.y, so, par, r2);
  REQUIRE(sr.status == Status::success);
  for (int q = 0; q < 2; ++q) {
    CHECK(hr.eigenvalues[q] == Approx(-2.0 * sr.eigenvalues[q]).epsilon(1e-9));
    CHECK(hr.overlaps[q] == Approx(sr.overlap_matrix.col(q).squaredNorm()).margin(1e-7));
  }
}
