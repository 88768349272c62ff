// Tests of the matrix-valued Stieltjes solver (R1) and the outlier equation (R2).
// Truths used: the Marchenko–Pastur closed form; the scalar spectral-method formulas of Lu & Li
// (arXiv 1702.06435) and Mondelli & Montanari (arXiv 1708.05932), implemented here independently
// by 1-D bisection; the explicit inverse ζ(S) of the scalar equation (Silverstein–Choi) for
// block-diagonal D; rotation covariance; finite differences of K(ζ).
#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "catch_compat.hpp"
#include "deltacrit/core/rng.hpp"
#include "deltacrit/gauss/hermite.hpp"
#include "deltacrit/spectral/stieltjes.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::spectral;
using cd = std::complex<double>;

namespace {

// ---- Marchenko–Pastur for H = (1/n) Σ x xᵀ (d×d), γ = d/n = 1/δ -----------------------------
// Stieltjes transform s(ζ) = ∫ρ(x)/(x − ζ) solves γζs² + (ζ + γ − 1)s + 1 = 0 (Bai & Silverstein,
// "Spectral analysis of large dimensional random matrices", Ch. 3); support [(1 ∓ √γ)²], density
// √((b − x)(x − a)) / (2πγx), and an atom 1 − 1/γ at 0 when γ > 1.
struct MP {
  double gamma;
  double a() const { return std::pow(1 - std::sqrt(gamma), 2); }
  double b() const { return std::pow(1 + std::sqrt(gamma), 2); }
  double density(double x) const {
    if (x <= a() || x >= b()) return 0.0;
    return std::sqrt((b() - x) * (x - a())) / (2 * M_PI * gamma * x);
  }
  // The root with Im s > 0 (ζ ∈ C⁺); for real ζ below the support, the smallest positive root
  // (the branch continuous from s(−∞) = 0⁺; for 0 < ζ < a both roots are positive); above the
  // support, the negative root nearer 0 (continuous from s(+∞) = 0⁻).
  cd s(cd z) const {
    const cd A = gamma * z, B = z + gamma - 1.0;
    const cd disc = std::sqrt(B * B - 4.0 * A);
    const cd r1 = (-B + disc) / (2.0 * A), r2 = (-B - disc) / (2.0 * A);
    if (z.imag() > 0) return r1.imag() > 0 ? r1 : r2;
    if (z.real() > b()) return r1.real() > r2.real() ? r1 : r2;  // both < 0: the one nearer −1/ζ
    if (r1.real() > 0 && r2.real() > 0) return r1.real() < r2.real() ? r1 : r2;
    return r1.real() > 0 ? r1 : r2;
  }
};

WeightLaw constant_law(double value) { return WeightLaw::from_samples(1, 0, {value}); }

// ---- Scalar laws: D = T at nodes with weights w; hard latent z (Z = z²) ---------------------
struct ScalarLaw {
  std::vector<double> w, T, z;
};

// z ~ N(0,1) by a Gauss–Hermite rule, T = t(z).
ScalarLaw gauss_scalar_law(int nodes, const std::function<double(double)>& t) {
  const auto& r = gauss::hermite_rule(nodes);
  ScalarLaw L;
  L.w = r.w;
  L.z = r.x;
  for (double x : r.x) L.T.push_back(t(x));
  return L;
}

WeightLaw to_weight_law(const ScalarLaw& L) { return WeightLaw::from_weighted_samples(1, 1, L.w, L.T, L.z); }

double bisect(const std::function<double(double)>& f, double lo, double hi, int iters = 200) {
  double flo = f(lo);
  for (int i = 0; i < iters; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double fm = f(mid);
    if ((fm > 0) == (flo > 0)) {
      lo = mid;
      flo = fm;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

// Lu–Li / Mondelli–Montanari prediction for the LOWEST eigenvalue of H = (1/n) Σ T x xᵀ + λI:
// it is λ minus the TOP eigenvalue of the spectral matrix (1/n) Σ T' x xᵀ with T' = −T. With
// A(l) = E[T'²/(l − T')²], B(l) = E[T'(Z − 1)/(l − T')], C(l) = E[T'² Z/(l − T')²],
// ψ(l) = l (1/δ + E[T'/(l − T')]) and τ = max T': l̄ = root of A = 1/δ on (τ, ∞) (or τ);
// bulk edge ψ(l̄); outlier iff B(l̄) > 1/δ, at ψ(l*) with B(l*) = 1/δ, squared overlap
// (1/δ − A(l*)) / (1/δ − A(l*) + C(l*)).
struct LuLi {
  double edge = 0, outlier = 0, overlap = 0;
  bool exists = false;
};
LuLi lu_li(const ScalarLaw& L, double delta, double ridge) {
  const std::size_t n = L.w.size();
  std::vector<double> Tp(n), Z(n);
  for (std::size_t i = 0; i < n; ++i) {
    Tp[i] = -L.T[i];
    Z[i] = L.z[i] * L.z[i];
  }
  auto E = [&](auto f) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += L.w[i] * f(Tp[i], Z[i]);
    return s;
  };
  auto A = [&](double l) { return E([&](double t, double) { return t * t / ((l - t) * (l - t)); }); };
  auto B = [&](double l) { return E([&](double t, double z) { return t * (z - 1) / (l - t); }); };
  auto C = [&](double l) { return E([&](double t, double z) { return t * t * z / ((l - t) * (l - t)); }); };
  auto psi = [&](double l) { return l * (1 / delta + E([&](double t, double) { return t / (l - t); })); };
  const double tau = *std::max_element(Tp.begin(), Tp.end());
  const double lo = tau + 1e-13 * (1 + std::abs(tau));
  double lbar = lo;
  if (A(lo) > 1 / delta) lbar = bisect([&](double l) { return A(l) - 1 / delta; }, lo, tau + 1e4);
  LuLi r;
  r.edge = ridge - psi(lbar);
  r.exists = B(lbar) > 1 / delta;
  if (r.exists) {
    const double ls = bisect([&](double l) { return B(l) - 1 / delta; }, lbar, tau + 1e6);
    r.outlier = ridge - psi(ls);
    r.overlap = (1 / delta - A(ls)) / (1 / delta - A(ls) + C(ls));
  }
  return r;
}

// Explicit inverse of the scalar R1 on the real branch (Silverstein & Choi 1995):
// ζ(S) = λ + E[T/(1 + S T/δ)] − 1/S for S ∈ (0, S_max), S_max = δ / max(−T)₊; the lower edge is
// the first local maximum of ζ(S) (root of ζ'(S) = 0), or ζ(S_max⁻) if there is none.
struct ScalarBranch {
  std::vector<double> w, T;
  double delta, ridge;
  double zeta(double S) const {
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * T[i] / (1 + S * T[i] / delta);
    return ridge + s - 1 / S;
  }
  double dzeta(double S) const {
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * T[i] * T[i] / std::pow(1 + S * T[i] / delta, 2);
    return 1 / (S * S) - s / delta;
  }
  double S_max() const {
    double tmin = 0;
    for (double t : T) tmin = std::min(tmin, t);
    return tmin < 0 ? delta / (-tmin) : 1e12;
  }
  double S_edge() const {
    const double smax = S_max() * (1 - 1e-14);
    double prev = 1e-10;
    for (double S = 1e-10; S < smax; S *= 1.05) {
      if (dzeta(S) <= 0) return bisect([&](double x) { return dzeta(x); }, prev, S);
      prev = S;
    }
    return smax;
  }
  double lower_edge() const { return zeta(S_edge()); }
  double S_at(double z) const {
    return bisect([&](double S) { return zeta(S) - z; }, 1e-14, S_edge());
  }
};

ScalarBranch negated(const ScalarBranch& b) {
  ScalarBranch n = b;
  for (double& t : n.T) t = -t;
  n.ridge = -b.ridge;
  return n;
}

// Scalar R1 at complex ζ by damped fixed-point iteration (converges for Im ζ > 0).
cd scalar_complex_S(const std::vector<double>& w, const std::vector<double>& T, double delta, double ridge, cd z) {
  cd s = -1.0 / z;
  for (int it = 0; it < 200000; ++it) {
    cd m = 0;
    for (std::size_t i = 0; i < w.size(); ++i) m += w[i] * T[i] / (1.0 + s * T[i] / delta);
    const cd next = 1.0 / (m + ridge - z);
    if (std::abs(next - s) < 1e-15 * std::abs(s)) return next;
    s = 0.5 * s + 0.5 * next;
  }
  return s;
}

// Two scalar weights of the same hard latent z (for block-diagonal and rotated tests).
double t1(double z) { return -(z * z - 1) / (z * z + 1); }           // −T' of Mondelli–Montanari at δ = 2
double t2(double z) { return 0.8 - 0.6 * std::tanh(z * z - 1.0); }  // positive, z-dependent

WeightLaw diag_law(int nodes, const Eigen::Matrix2d& Q) {
  const auto& r = gauss::hermite_rule(nodes);
  std::vector<double> D, z;
  for (double x : r.x) {
    const Eigen::Matrix2d Dm = Q * Eigen::Vector2d(t1(x), t2(x)).asDiagonal() * Q.transpose();
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) D.push_back(Dm(a, b));
    z.push_back(x);
  }
  return WeightLaw::from_weighted_samples(2, 1, r.w, D, z);
}

Eigen::Matrix2d rotation(double angle) {
  Eigen::Matrix2d Q;
  Q << std::cos(angle), -std::sin(angle), std::sin(angle), std::cos(angle);
  return Q;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
TEST_CASE("R1 with D = 1 is Marchenko-Pastur: density, edges, atom", "[spectral][stieltjes]") {
  for (double delta : {0.5, 2.0, 4.0}) {
    CAPTURE(delta);
    const MP mp{1.0 / delta};
    const StieltjesSolver sv(constant_law(1.0), delta);
    const EdgeResult lo = sv.lower_edge(), hi = sv.upper_edge();
    REQUIRE(lo.status == Status::success);
    REQUIRE(hi.status == Status::success);
    CHECK(hi.kind == EdgeKind::fold);
    CHECK(hi.location == Approx(mp.b()).margin(test_tol::kStieltjesEdge));
    CHECK(hi.jacobian_radius == Approx(1.0).margin(1e-4));
    if (delta < 1) {
      // rank n < d: an atom of mass 1 − δ at 0 is the lowest point of the support.
      CHECK(lo.kind == EdgeKind::divergence);
      CHECK(std::abs(lo.location) <= test_tol::kStieltjesEdge);
      CHECK(sv.atom_mass(0.0) == Approx(1.0 - delta).margin(1e-7));
    } else {
      CHECK(lo.kind == EdgeKind::fold);
      CHECK(lo.location == Approx(mp.a()).margin(test_tol::kStieltjesEdge));
      CHECK(lo.bracket[0] <= lo.location);
      CHECK(lo.bracket[1] >= lo.location);
      CHECK(std::abs(sv.atom_mass(0.0)) <= 1e-7);
    }
    std::vector<double> xs;
    for (int i = 1; i < 12; ++i) xs.push_back(mp.a() + (mp.b() - mp.a()) * i / 12.0);
    xs.push_back(mp.b() + 0.3);
    xs.push_back(-0.7);
    if (delta < 1) xs.push_back(0.5 * mp.a());  // inside the gap between the atom and the bulk
    const DensityResult d = sv.density(xs);
    REQUIRE(d.status == Status::success);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      // At η > 0 an atom of mass μ at 0 adds exactly μη/(π(x² + η²)) to (1/π) Im S(x + iη).
      const double x = xs[i], atom = delta < 1 ? (1 - delta) * d.eta / (M_PI * (x * x + d.eta * d.eta)) : 0.0;
      const double truth = mp.density(x) + atom;
      CHECK(d.density[i] == Approx(truth).margin(test_tol::kStieltjesDensity));
      CHECK(std::abs(d.density[i] - mp.density(x)) <= d.error[i] + 1e-12);  // the error bound holds
    }
    for (double z : {-0.5, -3.0}) {
      const RealSolution s = sv.solve_real(z);
      REQUIRE(s.status == Status::success);
      CHECK(s.S(0, 0) == Approx(mp.s(z).real()).epsilon(test_tol::kStieltjesSolve));
      CHECK(s.residual <= test_tol::kStieltjesSolve);
      CHECK(s.jacobian_radius < 1.0);
    }
    for (cd z : {cd(1.0, 0.05), cd(0.3, 1.0), cd(-2.0, 1e-3), cd(mp.b(), 1e-4)}) {
      const ComplexSolution s = sv.solve(z);
      REQUIRE(s.status == Status::success);
      CHECK(std::abs(s.S(0, 0) - mp.s(z)) <= test_tol::kStieltjesSolve * std::abs(mp.s(z)));
      CHECK(s.min_imag_eigenvalue > 0);
    }
  }
}

TEST_CASE("R1 scales: D = c and ridge shift the Marchenko-Pastur edges", "[spectral][stieltjes]") {
  // H = c·(1/n)Σ x xᵀ + λI has edges c(1 ∓ 1/√δ)² + λ; with c < 0 they swap.
  const double delta = 3.0, lam = 0.4;
  const MP mp{1.0 / delta};
  for (double c : {2.5, -1.5}) {
    CAPTURE(c);
    const StieltjesSolver sv(constant_law(c), delta, lam);
    const double e1 = c * mp.a() + lam, e2 = c * mp.b() + lam;
    CHECK(sv.lower_edge().location == Approx(std::min(e1, e2)).margin(test_tol::kStieltjesEdge));
    CHECK(sv.upper_edge().location == Approx(std::max(e1, e2)).margin(test_tol::kStieltjesEdge));
  }
}

TEST_CASE("Scalar D = T(z): outlier and overlap agree with the Lu-Li formulas", "[spectral][stieltjes]") {
  // T' = (y − 1)/(y + 1), y = z²: Mondelli–Montanari's preprocessing at δ = 2, whose squared overlap
  // 0.48582 at δ = 2 is also in references.md. H uses T = −T' (its LOWEST eigenvalue).
  const ScalarLaw L = gauss_scalar_law(150, t1);
  const WeightLaw law = to_weight_law(L);
  for (double delta : {0.6, 2.0, 4.0, 8.0}) {
    for (double ridge : {0.0, 0.3}) {
      CAPTURE(delta, ridge);
      const LuLi ref = lu_li(L, delta, ridge);
      const StieltjesSolver sv(law, delta, ridge);
      const OutlierResult o = sv.outliers();
      REQUIRE(o.status == Status::success);
      CHECK(o.edge.location == Approx(ref.edge).margin(test_tol::kStieltjesEdge));
      REQUIRE(o.exists == ref.exists);
      CHECK((o.k_min_at_edge < 0) == ref.exists);
      if (ref.exists) {
        CHECK(o.location == Approx(ref.outlier).margin(test_tol::kStieltjesOutlier));
        CHECK(o.overlap == Approx(ref.overlap).margin(test_tol::kStieltjesOutlier));
        CHECK(o.roots.size() == 1);
        CHECK(o.roots[0].bracket[0] <= o.location);
        CHECK(o.roots[0].bracket[1] >= o.location);
        CHECK(std::abs(o.null_vector(0)) == Approx(1.0));
        const KDiagnostics K = sv.K_matrix(o.location);
        CHECK(std::abs(K.min_eigenvalue) <= 1e-9);
        CHECK(o.overlap == Approx(1.0 / (-K.dK(0, 0))).epsilon(1e-8));
      }
    }
  }
  const LuLi ref2 = lu_li(L, 2.0, 0.0);
  CHECK(ref2.overlap == Approx(0.48582).margin(1e-5));  // references.md, independent of both routes
}

TEST_CASE("Scalar D with a discrete law: outlier agrees with the Lu-Li formulas", "[spectral][stieltjes]") {
  // D takes 3 values depending on |z| (T' = 1{|z| > 1.5} − 0.2·1{|z| < 0.5}); z continuous (GH).
  const ScalarLaw L = gauss_scalar_law(120, [](double z) {
    const double a = std::abs(z);
    return -((a > 1.5 ? 1.0 : 0.0) - (a < 0.5 ? 0.2 : 0.0));
  });
  const WeightLaw law = to_weight_law(L);
  int with_outlier = 0;
  for (double delta : {1.0, 3.0, 6.0, 12.0}) {
    CAPTURE(delta);
    const LuLi ref = lu_li(L, delta, 0.0);
    const OutlierResult o = StieltjesSolver(law, delta).outliers();
    REQUIRE(o.status == Status::success);
    CHECK(o.edge.kind == EdgeKind::fold);
    CHECK(o.edge.location == Approx(ref.edge).margin(test_tol::kStieltjesEdge));
    REQUIRE(o.exists == ref.exists);
    if (ref.exists) {
      ++with_outlier;
      CHECK(o.location == Approx(ref.outlier).margin(test_tol::kStieltjesOutlier));
      CHECK(o.overlap == Approx(ref.overlap).margin(test_tol::kStieltjesOutlier));
    }
  }
  CHECK(with_outlier >= 1);
}

TEST_CASE("Block-diagonal D decouples into scalar problems", "[spectral][stieltjes]") {
  const int nodes = 100;
  const auto& r = gauss::hermite_rule(nodes);
  const double delta = 3.0, ridge = 0.1;
  ScalarBranch b1{r.w, {}, delta, ridge}, b2{r.w, {}, delta, ridge};
  for (double x : r.x) {
    b1.T.push_back(t1(x));
    b2.T.push_back(t2(x));
  }
  const double lower = std::min(b1.lower_edge(), b2.lower_edge());
  const double upper = -std::min(negated(b1).lower_edge(), negated(b2).lower_edge());
  for (double angle : {0.0, 0.7}) {
    CAPTURE(angle);
    const Eigen::Matrix2d Q = rotation(angle);
    const StieltjesSolver sv(diag_law(nodes, Q), delta, ridge);
    const EdgeResult lo = sv.lower_edge(), hi = sv.upper_edge();
    REQUIRE(lo.status == Status::success);
    CHECK(lo.location == Approx(lower).margin(test_tol::kStieltjesEdge));
    CHECK(hi.location == Approx(upper).margin(test_tol::kStieltjesEdge));
    // S = Q diag(S₁, S₂) Qᵀ on the real branch ...
    const double z = lower - 0.2;
    const RealSolution s = sv.solve_real(z);
    REQUIRE(s.status == Status::success);
    const Eigen::Matrix2d expect = Q * Eigen::Vector2d(b1.S_at(z), b2.S_at(z)).asDiagonal() * Q.transpose();
    CHECK((s.S - expect).norm() <= 1e-9 * expect.norm());
    // ... and at complex ζ.
    for (cd zc : {cd(0.5, 0.1), cd(lower + 0.05, 0.02)}) {
      const ComplexSolution c = sv.solve(zc);
      REQUIRE(c.status == Status::success);
      const Eigen::Vector2cd diag(scalar_complex_S(b1.w, b1.T, delta, ridge, zc),
                                  scalar_complex_S(b2.w, b2.T, delta, ridge, zc));
      const Eigen::Matrix2cd ec = Q.cast<cd>() * diag.asDiagonal() * Q.transpose().cast<cd>();
      CHECK((c.S - ec).norm() <= 1e-9 * ec.norm());
    }
    // Density = average of the two scalar densities (checked against Im of the scalar solutions).
    const DensityResult d = sv.density({0.2, 0.9});
    for (int i = 0; i < 2; ++i) {
      const cd zc(d.x[i], d.eta);
      const double expect_d = (scalar_complex_S(b1.w, b1.T, delta, ridge, zc).imag() +
                               scalar_complex_S(b2.w, b2.T, delta, ridge, zc).imag()) / (2 * M_PI);
      CHECK(d.density[i] == Approx(expect_d).epsilon(1e-6));
    }
    // Outlier: block 1 carries the Lu–Li outlier of T = t1; block 2 (T = t2 > 0) has none below.
    ScalarLaw L1{r.w, b1.T, r.x};
    const LuLi ref = lu_li(L1, delta, ridge);
    const OutlierResult o = sv.outliers();
    REQUIRE(o.status == Status::success);
    REQUIRE(o.exists == ref.exists);
    REQUIRE(ref.exists);
    CHECK(o.location == Approx(ref.outlier).margin(test_tol::kStieltjesOutlier));
    CHECK(o.overlap == Approx(ref.overlap).margin(test_tol::kStieltjesOutlier));
    // Null vector of K is the first neuron direction, rotated: Q e₁.
    CHECK(std::abs(o.null_vector.dot(Q.col(0))) == Approx(1.0).margin(1e-8));
  }
}

TEST_CASE("dK/dzeta matches finite differences of K", "[spectral][stieltjes]") {
  // A coupled 2×2 law with two hard directions (k_h = 2): genuine matrix case.
  const auto rule = gauss::hermite_tensor_rule(2, 24);
  const WeightLaw law = WeightLaw::from_rule(rule, 2, 2, [](const double* xi, double* D, double* zh) {
    const double a = xi[0], b = xi[1];
    D[0] = t1(a) + 0.3 * b * b;
    D[1] = D[2] = 0.4 * std::tanh(a * b);
    D[3] = 0.5 * t2(b) - 0.2 * a * a;
    zh[0] = a;
    zh[1] = b;
  });
  const StieltjesSolver sv(law, 2.5, 0.05);
  const EdgeResult e = sv.lower_edge();
  REQUIRE(e.status == Status::success);
  const double z = e.location - 0.3, h = 1e-4;
  const KDiagnostics K0 = sv.K_matrix(z), Kp = sv.K_matrix(z + h), Km = sv.K_matrix(z - h);
  REQUIRE(K0.status == Status::success);
  const Eigen::MatrixXd fd = (Kp.K - Km.K) / (2 * h);
  CHECK((fd - K0.dK).norm() <= test_tol::kStieltjesFD * K0.dK.norm());
  // dK/dζ ≺ 0 (K decreases in the Loewner order).
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K0.dK);
  CHECK(es.eigenvalues().maxCoeff() < 0);
  // And dS/dζ ≻ 0 by finite differences of S.
  const Eigen::MatrixXd dS = (Kp.solution.S - Km.solution.S) / (2 * h);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es2(dS);
  CHECK(es2.eigenvalues().minCoeff() > 0);
}

TEST_CASE("Constant D = Q diag(c) Q^T, m = 3, 5, 8: scaled Marchenko-Pastur in every direction",
          "[spectral][stieltjes]") {
  // H = Σ_p c_p (q_p q_pᵀ) ⊗ W with W = (1/n) Σ x xᵀ, so S(ζ) = Q diag(S_p) Qᵀ with
  // S_p(ζ) = (1/c_p) s_MP(ζ/c_p) (complex conjugated twice for c_p < 0) and the edges are the
  // extremes of c_p·{(1 ∓ 1/√δ)²}.
  const double delta = 2.5;
  const MP mp{1.0 / delta};
  for (int m : {3, 5, 8}) {
    CAPTURE(m);
    std::vector<double> c(m);
    for (int p = 0; p < m; ++p) c[p] = (p % 3 == 2) ? -0.4 - 0.1 * p : 0.5 + 0.3 * p;
    const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(
                                  Eigen::MatrixXd::NullaryExpr(m, m, [](Eigen::Index i, Eigen::Index j) {
                                    return std::sin(1.0 + 3.0 * i + 7.0 * j * j);
                                  }))
                                  .householderQ();
    const Eigen::MatrixXd D = Q * Eigen::Map<const Eigen::VectorXd>(c.data(), m).asDiagonal() * Q.transpose();
    std::vector<double> Dv(D.data(), D.data() + m * m);
    const StieltjesSolver sv(WeightLaw::from_samples(m, 0, Dv), delta);
    double lo = 1e300, hi = -1e300;
    for (double cp : c) {
      lo = std::min({lo, cp * mp.a(), cp * mp.b()});
      hi = std::max({hi, cp * mp.a(), cp * mp.b()});
    }
    CHECK(sv.lower_edge().location == Approx(lo).margin(test_tol::kStieltjesEdge));
    CHECK(sv.upper_edge().location == Approx(hi).margin(test_tol::kStieltjesEdge));
    auto S_expect = [&](cd z) {
      Eigen::VectorXcd d(m);
      for (int p = 0; p < m; ++p) {
        const cd w = z / c[p];
        d[p] = (c[p] > 0 ? mp.s(w) : std::conj(mp.s(std::conj(w)))) / c[p];
      }
      return (Q.cast<cd>() * d.asDiagonal() * Q.transpose().cast<cd>()).eval();
    };
    for (cd z : {cd(0.4, 0.05), cd(-0.3, 0.2), cd(lo - 0.01, 1e-6)}) {
      const ComplexSolution s = sv.solve(z);
      REQUIRE(s.status == Status::success);
      const Eigen::MatrixXcd e = S_expect(z);
      CHECK((s.S - e).norm() <= test_tol::kStieltjesSolve * e.norm());
    }
    const RealSolution r = sv.solve_real(lo - 0.2);
    REQUIRE(r.status == Status::success);
    const Eigen::MatrixXcd e = S_expect(cd(lo - 0.2, 0.0));
    CHECK((r.S - e.real()).norm() <= test_tol::kStieltjesSolve * e.norm());
  }
}

TEST_CASE("Atoms: D = 0 and a dead neuron put the lowest point of the support at the ridge",
          "[spectral][stieltjes]") {
  // D ≡ 0: H = λI, S = 1/(λ − ζ); the whole spectrum is an atom at λ.
  const StieltjesSolver z0(constant_law(0.0), 2.0, 0.3);
  const EdgeResult e0 = z0.lower_edge(), u0 = z0.upper_edge();
  CHECK(e0.kind == EdgeKind::divergence);
  CHECK(e0.location == Approx(0.3).margin(test_tol::kStieltjesEdge));
  CHECK(u0.location == Approx(0.3).margin(test_tol::kStieltjesEdge));
  CHECK(z0.atom_mass(0.3) == Approx(1.0).margin(1e-7));
  // D = diag(1, 0), λ = 0, δ = 4: block 1 is Marchenko–Pastur on [(1 ∓ 1/2)²], block 2 an atom of
  // mass 1/2 at 0, which is the lowest point of the support.
  const WeightLaw dead = WeightLaw::from_samples(2, 0, {1.0, 0.0, 0.0, 0.0});
  const StieltjesSolver sv(dead, 4.0);
  const EdgeResult lo = sv.lower_edge(), hi = sv.upper_edge();
  CHECK(lo.kind == EdgeKind::divergence);
  CHECK(std::abs(lo.location) <= test_tol::kStieltjesEdge);
  CHECK(hi.location == Approx(2.25).margin(test_tol::kStieltjesEdge));
  CHECK(sv.atom_mass(0.0) == Approx(0.5).margin(1e-7));
  const DensityResult d = sv.density({0.5, 1.0});
  const MP mp{0.25};
  CHECK(d.density[0] == Approx(0.5 * mp.density(0.5)).margin(test_tol::kStieltjesDensity));
  CHECK(d.density[1] == Approx(0.5 * mp.density(1.0)).margin(test_tol::kStieltjesDensity));
}

TEST_CASE("solve_real: warm start, residual, refuses points inside the spectrum", "[spectral][stieltjes]") {
  const MP mp{0.5};
  const StieltjesSolver sv(constant_law(1.0), 2.0);
  const RealSolution a = sv.solve_real(mp.a() - 1e-3);
  REQUIRE(a.status == Status::success);
  CHECK(a.S(0, 0) == Approx(mp.s(mp.a() - 1e-3).real()).epsilon(1e-9));
  CHECK(a.jacobian_radius > 0.9);  // close to the edge
  const Eigen::MatrixXd warm = a.S;
  const RealSolution b = sv.solve_real(mp.a() - 2e-3, &warm);
  REQUIRE(b.status == Status::success);
  CHECK(b.S(0, 0) == Approx(mp.s(mp.a() - 2e-3).real()).epsilon(1e-9));
  CHECK(sv.solve_real(1.0).status != Status::success);  // inside the bulk
  CHECK(sv.solve_real(mp.a() + 1e-6).status != Status::success);
}

TEST_CASE("with(): same law, other delta and ridge", "[spectral][stieltjes]") {
  const StieltjesSolver sv(constant_law(1.0), 2.0);
  const StieltjesSolver sv2 = sv.with(4.0, 0.25);
  CHECK(sv2.delta() == 4.0);
  CHECK(sv2.lower_edge().location == Approx(MP{0.25}.a() + 0.25).margin(test_tol::kStieltjesEdge));
}

TEST_CASE("Bad input throws InputError naming the field", "[spectral][stieltjes]") {
  auto param_of = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return e.parameter();
    }
    return std::string("<no throw>");
  };
  CHECK(param_of([] { WeightLaw::from_samples(0, 0, {1.0}); }) == "m");
  CHECK(param_of([] { WeightLaw::from_samples(9, 0, std::vector<double>(81, 0.0)); }) == "m");
  CHECK(param_of([] { WeightLaw::from_samples(1, 4, {1.0}, {0, 0, 0, 0}); }) == "k_h");
  CHECK(param_of([] { WeightLaw::from_weighted_samples(1, 0, {0.5, 0.6}, {1.0, 2.0}); }) == "weight");
  CHECK(param_of([] { WeightLaw::from_weighted_samples(1, 0, {1.5, -0.5}, {1.0, 2.0}); }) == "weight");
  CHECK(param_of([] { WeightLaw::from_samples(1, 0, {}); }) == "weight");
  CHECK(param_of([] { WeightLaw::from_samples(2, 0, {1.0, 0.5, 0.2, 1.0}); }) == "D");
  CHECK(param_of([] { WeightLaw::from_samples(1, 0, {std::nan("")}); }) == "D");
  CHECK(param_of([] { WeightLaw::from_weighted_samples(2, 0, {1.0}, {1.0, 0.0, 0.0}); }) == "D");
  CHECK(param_of([] { WeightLaw::from_samples(1, 1, {1.0}, {}); }) == "z_h");
  const WeightLaw ok = constant_law(1.0);
  CHECK(param_of([&] { StieltjesSolver(ok, 0.0); }) == "delta");
  CHECK(param_of([&] { StieltjesSolver(ok, -1.0); }) == "delta");
  CHECK(param_of([&] { StieltjesSolver(ok, std::nan("")); }) == "delta");
  CHECK(param_of([&] { StieltjesSolver(ok, 1.0, std::nan("")); }) == "ridge");
  CHECK(param_of([&] { StieltjesSolver(ok, 1.0).with(0.0, 0.0); }) == "delta");
  StieltjesOptions bad;
  bad.tol = 0;
  CHECK(param_of([&] { StieltjesSolver(ok, 1.0, 0.0, bad); }) == "tol");
  bad = {};
  bad.damping = 1.5;
  CHECK(param_of([&] { StieltjesSolver(ok, 1.0, 0.0, bad); }) == "damping");
  bad = {};
  bad.eta = 0.5;
  CHECK(param_of([&] { StieltjesSolver(ok, 1.0, 0.0, bad); }) == "eta");
  const StieltjesSolver sv(ok, 1.0);
  CHECK(param_of([&] { sv.solve(cd(1.0, 0.0)); }) == "zeta");
  CHECK(param_of([&] { sv.solve(cd(1.0, -1.0)); }) == "zeta");
  CHECK(param_of([&] { sv.outliers(); }) == "k_h");
  CHECK(param_of([&] { sv.K_matrix(-1.0); }) == "k_h");
  CHECK(param_of([&] { sv.density({0.0, std::nan("")}); }) == "x");
}

TEST_CASE("Random laws: edges, real branch and outliers are mutually consistent",
          "[spectral][stieltjes][validation]") {
  // Invariants on 64 random laws (m = 1..8, k_h = 1..3, D of both signs, PSD, with dead nodes,
  // log-normal scales, δ from 0.3 to 20): solve_real converges just below the lower edge and is
  // refused just above it; the density below the edge vanishes; at a reported outlier K is
  // singular, the outlier lies below the edge and the overlap is in (0, 1].
  Rng rng = make_rng(2024, 3);
  std::normal_distribution<double> N(0.0, 1.0);
  const std::vector<double> deltas{0.3, 0.8, 1.0, 2.0, 5.0, 20.0};
  int with_outlier = 0;
  for (int trial = 0; trial < 64; ++trial) {
    const int m = 1 + trial % 8, n = 50 + (trial * 37) % 300, kh = 1 + trial % 3;
    const double delta = deltas[trial % 6], ridge = (trial % 5 == 0) ? 0.0 : 0.5 * N(rng), shift = 0.5 * N(rng);
    std::vector<double> D, z;
    for (int i = 0; i < n; ++i) {
      const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(m, m, [&](Eigen::Index, Eigen::Index) { return N(rng); });
      Eigen::MatrixXd Dm = 0.5 * (A + A.transpose()) + shift * Eigen::MatrixXd::Identity(m, m);
      if (trial % 5 == 1) Dm *= std::exp(1.5 * N(rng));
      if (trial % 3 == 0) Dm = A * A.transpose() / m;
      if (trial % 7 == 0 && i % 3 == 0) Dm.setZero();
      for (int k = 0; k < m * m; ++k) D.push_back(Dm(k));
      for (int a = 0; a < kh; ++a) z.push_back(N(rng));
    }
    CAPTURE(trial, m, n, kh, delta, ridge);
    const StieltjesSolver sv(WeightLaw::from_samples(m, kh, D, z), delta, ridge);
    const EdgeResult lo = sv.lower_edge(), hi = sv.upper_edge();
    REQUIRE(lo.status == Status::success);
    REQUIRE(hi.status == Status::success);
    CHECK(lo.location <= hi.location);
    const double eps = 1e-3 * sv.scale();
    CHECK(sv.solve_real(lo.location - eps).status == Status::success);
    CHECK(sv.solve_real(lo.location + eps).status != Status::success);
    const DensityResult d = sv.density({lo.location - 0.05 * sv.scale()});
    REQUIRE(d.status == Status::success);
    CHECK(d.density[0] <= 1e-6);
    const OutlierResult o = sv.outliers();
    REQUIRE(o.status == Status::success);
    if (o.exists) {
      ++with_outlier;
      const KDiagnostics K = sv.K_matrix(o.location);
      REQUIRE(K.status == Status::success);
      CHECK(std::abs(K.min_eigenvalue) <= 1e-7 * (1 + K.K.norm()));
      CHECK(o.location < lo.location);
      CHECK(o.overlap > 0);
      CHECK(o.overlap <= 1 + 1e-9);
    }
  }
  CHECK(with_outlier >= 3);  // the sample exercises the outlier path (4 of 64 laws with seed 2024)
}
