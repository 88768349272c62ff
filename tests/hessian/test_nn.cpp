// δ_NN engine: (R1)/(R2) on phase-1 laws against independent routes — the scalar spectral-method
// formulas (validation item 1 of issue 5), an explicit finite-d Hessian, the fixed-point identity
// S(0) = δΓ, δ_NN ≥ δ_alg, and the diagnostics (interpolation caveat, gradient along Θ_h).
#include <Eigen/Dense>

#include <cmath>
#include <functional>
#include <random>

#include "catch_compat.hpp"
#include "deltacrit/core/rng.hpp"
#include "deltacrit/gauss/quad.hpp"
#include "deltacrit/hessian/nn.hpp"
#include "deltacrit/phase1/fixed_point.hpp"
#include "deltacrit/spectral/stieltjes.hpp"
#include "tolerances.hpp"

using namespace deltacrit;

namespace {

double bisect(const std::function<double(double)>& f, double lo, double hi, double tol = 1e-13) {
  double flo = f(lo);
  for (int it = 0; it < 200 && hi - lo > tol * (1 + std::fabs(lo)); ++it) {
    const double mid = 0.5 * (lo + hi);
    const double fm = f(mid);
    if ((fm < 0) == (flo < 0)) {
      lo = mid;
      flo = fm;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

// The classical spectral method D_T = (1/n) Σ T(y_i) x_i x_iᵀ for y = min(z², 4), T = y, in the
// A/B/C form of science.md (Lu & Li arXiv 1702.06435; Mondelli & Montanari arXiv 1708.05932):
// A(λ) = E[T²/(λ−T)²], B(λ) = E[T(z²−1)/(λ−T)], C(λ) = E[T²z²/(λ−T)²], ψ_δ(λ) = λ(1/δ + E[T/(λ−T)]).
// Expectations in z-space by GSL adaptive quadrature, split at the kink z = 2 (T ≡ 4 beyond: an
// atom of T at its supremum τ = 4). Independent of the δ_NN code path (no Stieltjes solver, no
// teacher rule).
struct ScalarSpectral {
  static double E(const std::function<double(double, double)>& f) {
    gauss::QuadOptions q;
    q.abs_tol = 1e-14;
    q.rel_tol = 1e-13;
    const auto dens = [](double z) { return 2.0 * std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI); };
    const auto in = gauss::integrate([&](double z) { return f(z * z, z * z) * dens(z); }, 0.0, 2.0, {}, q);
    const auto out = gauss::integrate([&](double z) { return f(4.0, z * z) * dens(z); }, 2.0, 40.0, {}, q);
    return in.value + out.value;
  }
  static double A(double l) { return E([l](double T, double) { return T * T / ((l - T) * (l - T)); }); }
  static double B(double l) { return E([l](double T, double Z) { return T * (Z - 1) / (l - T); }); }
  static double C(double l) { return E([l](double T, double Z) { return T * T * Z / ((l - T) * (l - T)); }); }
  static double psi(double l, double delta) { return l * (1 / delta + E([l](double T, double) { return T / (l - T); })); }
  // A(τ⁺) = ∞ (atom at τ = 4), so λ̄ solves A(λ̄) = 1/δ on (4, ∞).
  static double lambda_bar(double delta) { return bisect([delta](double l) { return A(l) - 1 / delta; }, 4.0 + 1e-12, 1e4); }
  static double lambda_star(double delta) {
    return bisect([delta](double l) { return B(l) - 1 / delta; }, lambda_bar(delta), 1e4);
  }
  static double threshold() { return bisect([](double d) { return B(lambda_bar(d)) - 1 / d; }, 0.1, 10.0, 1e-11); }
};

hessian::Analyzer quadratic_small_init(int m, std::vector<double> a, double ridge) {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), a);
  auto law = phase1::init_law(teacher, m, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  hessian::NNOptions opt;
  opt.ridge = ridge;
  opt.hard = {0};
  return hessian::Analyzer(net, opt, hessian::constant_law(std::move(law)));
}

}  // namespace

// Issue 5, validation 1. At the small-init point u = 0 with σ = x² (σ(0) = σ'(0) = 0, σ''(0) = 2)
// and square loss, F = 0 (a stationary point) and D = ℓ'(y, 0)·diag(2a) = −2y·diag(a): the Hessian
// is λI − 2 a_j D_T per neuron block, a spectral method with T = y. Its lowest eigenvalue is
// λ − 2 a_max ψ_δ(λ*), bulk edge λ − 2 a_max ψ_δ(λ̄), overlap (1/δ − A)/(1/δ − A + C) at λ*, and
// δ_BBP = δ_NN (bulk already negative) = the spectral threshold B(λ̄(δ)) = 1/δ.
TEST_CASE("init point with quadratic activation equals the scalar spectral method", "[hessian][nn][spectral-route]") {
  const double ridge = 0.5;
  const double delta_T = ScalarSpectral::threshold();
  for (int m : {1, 2}) {
    const std::vector<double> a = m == 1 ? std::vector<double>{1.0} : std::vector<double>{1.0, 0.5};
    auto analyzer = quadratic_small_init(m, a, ridge);
    for (double delta : {2.0, 8.0}) {
      const auto p = analyzer.point(delta);
      REQUIRE(p.status == Status::success);
      REQUIRE(p.outlier);
      const double ls = ScalarSpectral::lambda_star(delta), lb = ScalarSpectral::lambda_bar(delta);
      const double overlap = (1 / delta - ScalarSpectral::A(ls)) / (1 / delta - ScalarSpectral::A(ls) + ScalarSpectral::C(ls));
      CHECK(p.lambda_out == Approx(ridge - 2 * ScalarSpectral::psi(ls, delta)).epsilon(test_tol::kNNScalarRoute));
      CHECK(p.bulk_edge == Approx(ridge - 2 * ScalarSpectral::psi(lb, delta)).epsilon(test_tol::kNNScalarRoute));
      CHECK(p.overlap == Approx(overlap).epsilon(test_tol::kNNScalarRoute));
    }
    const auto th = analyzer.thresholds();
    REQUIRE(th.status == Status::success);
    CHECK(th.bbp.value == Approx(delta_T).epsilon(test_tol::kNNScalarRoute));
    CHECK(th.nn.value == Approx(delta_T).epsilon(test_tol::kNNScalarRoute));
    CHECK(th.bbp.bracket[0] <= th.bbp.value);
    CHECK(th.bbp.value <= th.bbp.bracket[1]);
  }
}

// With a large ridge the bulk of H = λI − 2D_T sits above 0 for large δ while the outlier is
// negative only where 2ψ_δ(λ*) > λ; the NN event is then decided by K(0) (bulk edge > 0) and the
// zero of λ_out(δ) must match the scalar route.
TEST_CASE("delta_NN from K(0) matches the zero of the scalar outlier", "[hessian][nn][spectral-route]") {
  const double ridge = 6.0;
  auto analyzer = quadratic_small_init(1, {1.0}, ridge);
  const double delta = 12.0;
  const auto p = analyzer.point(delta);
  REQUIRE(p.status == Status::success);
  const double lambda_out = ridge - 2 * ScalarSpectral::psi(ScalarSpectral::lambda_star(delta), delta);
  CHECK(p.lambda_out == Approx(lambda_out).epsilon(test_tol::kNNScalarRoute));
  CHECK(p.bulk_edge > 0);
  CHECK((p.k_min_at_zero < 0) == (lambda_out < 0));
}

// (R1) at ζ = 0 on the stationary-point law is the Γ equation: S(0) = δΓ (fixed_point.hpp). The
// fixed point iterates on a Gauss–Hermite rule and the law is evaluated on the finer composite
// rule, so the identity holds to the quadrature accuracy of the iteration.
TEST_CASE("fixed-point law satisfies S(0) = delta Gamma", "[hessian][nn][fixed-point]") {
  struct Case {
    const char* act;
    std::vector<double> a;
    double ridge, delta;
  };
  // Stable cases (bulk edge > 0 at the fixed point, so ζ = 0 is on the physical branch of R1).
  for (const Case& c : {Case{"tanh", {1.0}, 0.5, 8.0}, Case{"softplus", {0.7, 0.4}, 0.2, 6.0}}) {
    const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
    const phase1::Network net(model::Activation::parse(c.act), model::Loss::parse("square"), c.a);
    phase1::FixedPointOptions fo;
    fo.ridge = c.ridge;
    fo.hard = {0};
    const auto fp = phase1::solve_fixed_point(teacher, net, c.delta, fo);
    REQUIRE(fp.status == Status::success);
    const int m = net.width();
    const auto wl = hessian::weight_law(fp.law, net, {0});
    spectral::StieltjesSolver solver(wl, c.delta, c.ridge);
    const auto s0 = solver.solve_real(0.0);
    REQUIRE(s0.status == Status::success);
    const auto& G = fp.branches[fp.chosen].Gamma;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) CHECK(s0.S(i, j) == Approx(c.delta * G[i * m + j]).margin(test_tol::kFixedPointIdentity));
  }
}

TEST_CASE("square-loss interpolation is detected instead of a threshold", "[hessian][nn][caveat]") {
  // y = f(u) on every node: ℓ' = 0, D = JJᵀ ⪰ 0, no negative outlier.
  const auto teacher = phase1::teacher_nodes(model::Link::parse("z^2"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
  for (std::size_t i = 0; i < law.size(); ++i) law.y[i] = net.output(&law.u[i]);
  hessian::NNOptions opt;
  opt.hard = {0};
  opt.delta_max = 10;
  hessian::Analyzer analyzer(net, opt, hessian::constant_law(law));
  const auto p = analyzer.point(4.0);
  CHECK(p.law.interpolating);
  CHECK(p.law.d_min >= 0);
  const auto th = analyzer.thresholds();
  CHECK(th.interpolating);
  CHECK(std::isinf(th.nn.value));
}

TEST_CASE("gradient along the hard direction is reported for a non-even link", "[hessian][nn][caveat]") {
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  hessian::LawDiagnostics even, odd;
  for (auto [text, diag] : {std::pair{"z^2", &even}, std::pair{"z + z^2", &odd}}) {
    const auto teacher = phase1::teacher_nodes(model::Link::parse(text), model::Noise{});
    const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
    hessian::weight_law(law, net, {0}, 1e-6, diag);
  }
  // E[z F] = E[z (f(u) − y)] σ'(u)-weighted: zero by symmetry for y even in z, E[z·z]·E[σ'] ≠ 0 otherwise.
  CHECK(even.hard_gradient < 1e-12);
  CHECK(odd.hard_gradient > 0.1);
  CHECK(even.hard_second_moment < 1e-10);
}

TEST_CASE("analyzer rejects bad options", "[hessian][nn]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("z^2"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  auto law = phase1::init_law(teacher, 1, phase1::InitSpec{});
  hessian::NNOptions opt;
  CHECK_THROWS_AS(hessian::Analyzer(net, opt, hessian::constant_law(law)), InputError);  // no --hard
  opt.hard = {0};
  opt.ridge = -1;
  CHECK_THROWS_AS(hessian::Analyzer(net, opt, hessian::constant_law(law)), InputError);
  opt.ridge = 0;
  opt.delta_max = 0.01;
  CHECK_THROWS_AS(hessian::Analyzer(net, opt, hessian::constant_law(law)), InputError);
  opt.delta_max = 100;
  opt.hard = {1};
  hessian::Analyzer bad(net, opt, hessian::constant_law(law));
  CHECK_THROWS_AS(bad.point(1.0), InputError);  // hard index beyond k = 1
  const phase1::Network wide(model::Activation::parse("tanh"), model::Loss::parse("square"), {0.5, 0.5});
  opt.hard = {0};
  hessian::Analyzer mismatch(wide, opt, hessian::constant_law(law));
  CHECK_THROWS_AS(mismatch.point(1.0), InputError);  // width 2 network, width 1 law
}

// Mondelli–Montanari's boundedness condition (arXiv 1708.05932) for D: at u = 0 with σ = x² and
// square loss D = −2y exactly (see above), so for y = z² the tail minima over |z| ≤ r are −2r² at
// the largest node within r, and the test must flag D as unbounded below and report no transition
// instead of the truncation artefact; for y = min(z², 4) they all equal −8 and nothing is flagged.
TEST_CASE("unbounded D is reported as no transition", "[hessian][nn][caveat][unbounded]") {
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  hessian::NNOptions opt;
  opt.hard = {0};
  for (const char* text : {"z^2", "min(z^2, 4)"}) {
    INFO(text);
    const bool unbounded = std::string(text) == "z^2";
    const auto teacher = phase1::teacher_nodes(model::Link::parse(text), model::Noise{});
    for (double S : {0.0, 0.01}) {
      const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, S});
      hessian::LawDiagnostics diag;
      hessian::weight_law(law, net, {0}, 1e-6, &diag);
      CHECK(diag.unbounded_below == unbounded);
      if (S == 0.0) {
        for (int r = 0; r < 3; ++r) {
          const double radius = diag.tail_radius * std::ldexp(1.0, r - 2);
          double zmax = 0.0;
          for (std::size_t i = 0; i < teacher.size(); ++i)
            if (std::fabs(teacher.z[i]) <= radius * (1 + 1e-12)) zmax = std::max(zmax, std::fabs(teacher.z[i]));
          const double expected = unbounded ? -2.0 * zmax * zmax : -8.0;
          CHECK(diag.tail_d_min[r] == Approx(expected).epsilon(1e-8));
        }
      }
      hessian::Analyzer analyzer(net, opt, hessian::constant_law(law));
      const auto p = analyzer.point(40.0);
      REQUIRE(p.status == Status::success);
      CHECK(p.no_transition == unbounded);
      const auto th = analyzer.thresholds();
      CHECK(th.status == Status::success);
      CHECK(th.no_transition == unbounded);
      if (unbounded) {
        CHECK(std::isinf(th.nn.value));
        CHECK(std::isinf(th.bbp.value));
        CHECK(std::isinf(-p.bulk_edge));
        CHECK_FALSE(p.outlier);
        CHECK(th.nn.message.find("no transition") != std::string::npos);
        CHECK(th.scan.size() == 1);  // δ-independent law: decided at the first point
      } else {
        CHECK(std::isfinite(th.nn.value));
      }
    }
  }
}

// A bounded D whose minimum is reached only in the outer half of the latent range is not
// unbounded: y = min(z², 4) + 0.5·1{|z| > 5} at u ≡ 0 with σ = x² has D = −2y, tail minima −8, −8, −9
// over |z| ≤ r/4, r/2, r (r ≈ 9): one step, no growth (before the fix this was flagged unbounded).
TEST_CASE("a bounded D with an outer step is not flagged unbounded", "[hessian][nn][caveat][unbounded]") {
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4) + 0.5*(abs(z) > 5)"), model::Noise{});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  hessian::LawDiagnostics diag;
  hessian::weight_law(law, net, {0}, 1e-6, &diag);
  CHECK(diag.tail_d_min[0] == Approx(-8.0).epsilon(1e-12));
  CHECK(diag.tail_d_min[1] == Approx(-8.0).epsilon(1e-12));
  CHECK(diag.tail_d_min[2] == Approx(-9.0).epsilon(1e-12));
  CHECK_FALSE(diag.unbounded_below);
}

// The tail test asks for growth that matters: D = −2y (σ = x², u ≡ 0, as above) with y = 10 + 0.01|z|
// grows without limit but by 0.45 % of |D| over the outer half of the range (−20.045, −20.09,
// −20.18), as slowly as the minima of a bounded D creep down where a fixed-point law's tail nodes
// sample the fold of a prox branch (docs/nn.md); y = 10 + z²/4 (−22.5, −30.1, −60.5) is flagged.
// Closed-form minima −2·y(z_max(r)) at the largest node within each radius.
TEST_CASE("slow growth of D's minimum is not flagged unbounded, fast growth is", "[hessian][nn][caveat][unbounded]") {
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  for (const auto& [text, fast] : {std::pair{"10 + 0.01*abs(z)", false}, std::pair{"10 + z^2/4", true}}) {
    INFO(text);
    const auto teacher = phase1::teacher_nodes(model::Link::parse(text), model::Noise{});
    const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
    hessian::LawDiagnostics diag;
    hessian::weight_law(law, net, {0}, 1e-6, &diag);
    for (int r = 0; r < 3; ++r) {
      const double radius = diag.tail_radius * std::ldexp(1.0, r - 2);
      double zmax = 0.0;
      for (std::size_t i = 0; i < teacher.size(); ++i)
        if (std::fabs(teacher.z[i]) <= radius * (1 + 1e-12)) zmax = std::max(zmax, std::fabs(teacher.z[i]));
      const double expected = fast ? -2.0 * (10.0 + zmax * zmax / 4.0) : -2.0 * (10.0 + 0.01 * zmax);
      CHECK(diag.tail_d_min[r] == Approx(expected).epsilon(1e-10));
    }
    CHECK(diag.unbounded_below == fast);
  }
}

// init_law merges the teacher's nodes by label (phase1::group_by_label): for min(z², 4) the plateau
// y = 4 (|z| ≥ 2, 168 nodes) becomes 2 nodes at ±√E[z² | y = 4] ≈ ±2.4. Second method: the law
// built by hand on the unmerged teacher × the same u rule. The diagnostics (with the tail test,
// which reads the merged nodes' radius ranges: without them it saw D fall to −2 only at |z| ≈ 2.4
// and called D unbounded below) and the thresholds must agree.
TEST_CASE("a law merged by label has the unmerged law's diagnostics and thresholds", "[hessian][nn][init]") {
  const phase1::Network net(model::Activation::parse("logcosh"), model::Loss::parse("square"), {1.0});
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2,4)"), model::Noise{});
  const auto merged = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
  REQUIRE(merged.size() < teacher.size() * 256 / 2);
  phase1::Law full;
  full.m = 1;
  full.k = 1;
  std::vector<double> ux, uw;
  phase1::gaussian_rule(1, 1.0, phase1::GaussianRuleOptions{}, ux, uw);
  for (std::size_t i = 0; i < teacher.size(); ++i) {
    for (std::size_t j = 0; j < uw.size(); ++j) {
      full.w.push_back(teacher.w[i] * uw[j]);
      full.y.push_back(teacher.y[i]);
      full.u.push_back(ux[j]);
      full.z.push_back(teacher.z[i]);
    }
  }
  REQUIRE(merged.size() * 4 < full.size());
  hessian::LawDiagnostics dm, df;
  hessian::weight_law(merged, net, {0}, 1e-6, &dm);
  hessian::weight_law(full, net, {0}, 1e-6, &df);
  CHECK_FALSE(df.unbounded_below);
  CHECK_FALSE(dm.unbounded_below);
  CHECK(dm.tail_radius == df.tail_radius);
  for (int r = 0; r < 3; ++r) CHECK(dm.tail_d_min[r] == Approx(df.tail_d_min[r]).epsilon(1e-14));
  CHECK(dm.d_min == Approx(df.d_min).epsilon(1e-14));
  CHECK(dm.d_max == Approx(df.d_max).epsilon(1e-14));
  CHECK(dm.hard_second_moment == Approx(df.hard_second_moment).margin(1e-12));
  CHECK(dm.hard_gradient < 1e-12);
  CHECK(dm.negative_mass == Approx(df.negative_mass).epsilon(1e-12));
  // Without the radius ranges the merged law fools the tail test.
  auto bare = merged;
  bare.radius_range.clear();
  hessian::LawDiagnostics db;
  hessian::weight_law(bare, net, {0}, 1e-6, &db);
  CHECK(db.unbounded_below);
  hessian::NNOptions opt;
  opt.hard = {0};
  const auto tm = hessian::Analyzer(net, opt, hessian::constant_law(merged)).thresholds();
  const auto tf = hessian::Analyzer(net, opt, hessian::constant_law(full)).thresholds();
  REQUIRE(tm.nn.status == Status::success);
  REQUIRE(tf.nn.status == Status::success);
  CHECK(tm.nn.value == Approx(tf.nn.value).epsilon(1e-9));
  CHECK(tm.bbp.value == Approx(tf.bbp.value).epsilon(1e-9));
}

// The fixed-point law writes a teacher group of many members (equal label and learned latents: the
// plateau |z2| > 2 of tanh(z1) + min(z2², 4) with latent 2 hard) as 2r nodes with the members'
// weight and first and second moments of z (fixed_point.cpp, Group::law_w). Second method: the
// teacher with its labels moved by ≤ 1e-9, so that no two nodes share a label and the law has one
// node per teacher node; the Hessian side must see the same law to that perturbation.
TEST_CASE("a fixed-point law with merged teacher groups gives the per-node law's points", "[hessian][nn][fixed-point]") {
  phase1::TeacherQuadOptions tq;
  tq.hermite_points = 12;
  const auto teacher = phase1::teacher_nodes(model::Link::parse("tanh(z1) + min(z2^2,4)"), model::Noise{}, tq);
  auto perturbed = teacher;
  for (std::size_t t = 0; t < perturbed.size(); ++t) perturbed.y[t] += 1e-10 * static_cast<double>(t % 10 + 1);
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  phase1::FixedPointOptions fo;
  fo.ridge = 0.2;
  fo.hard = {1};
  fo.node_weight_floor = 0.0;
  const auto a = phase1::solve_fixed_point(teacher, net, 2.0, fo);
  const auto b = phase1::solve_fixed_point(perturbed, net, 2.0, fo);
  REQUIRE(a.status == Status::success);
  REQUIRE(b.status == Status::success);
  CHECK(a.law.size() < b.law.size());
  hessian::NNOptions opt;
  opt.ridge = 0.2;
  opt.hard = {1};
  hessian::Analyzer merged(net, opt, hessian::constant_law(a.law)), per_node(net, opt, hessian::constant_law(b.law));
  for (double delta : {2.0, 40.0}) {
    CAPTURE(delta);
    const auto pa = merged.point(delta), pb = per_node.point(delta);
    REQUIRE(pa.status == Status::success);
    REQUIRE(pb.status == Status::success);
    CHECK(pa.bulk_edge == Approx(pb.bulk_edge).margin(1e-7));
    CHECK(pa.k_min_at_edge == Approx(pb.k_min_at_edge).margin(1e-7));
    CHECK(pa.k_min_at_zero == Approx(pb.k_min_at_zero).margin(1e-7));
    CHECK(pa.law.hard_second_moment == Approx(pb.law.hard_second_moment).margin(1e-8));
    CHECK(pa.law.unbounded_below == pb.law.unbounded_below);
    CHECK(pa.law.tail_radius == Approx(pb.law.tail_radius).margin(1e-8));
    for (int r = 0; r < 3; ++r) CHECK(pa.law.tail_d_min[r] == Approx(pb.law.tail_d_min[r]).margin(1e-7));
  }
}

// The automatic m = 2 init u rule (graded composite panels, 0.5 wide on [−2, 2] with 8 nodes: 112
// per axis) against a second, finer rule: uniform composite panels 0.25 wide on [−8, 8] with 6
// nodes each (384 per axis). The bulk edge is set by D's extremes, which the rule must resolve; the
// Gauss–Hermite rule it replaced (33 points per axis) was 5 % off for min(z², 4) with tanh
// (docs/nn.md, Known limits). Both use a teacher rule of 6 nodes per panel (so that the fine law
// fits the cap); the comparison is of the u rules only.
TEST_CASE("init law m = 2: the automatic u rule agrees with a finer composite rule", "[hessian][nn][init][validation]") {
  struct Case {
    const char* link;
    const char* activation;
  };
  for (const Case c : {Case{"min(z^2,4)", "tanh"}, Case{"sign(z1*z2)", "logcosh"}}) {
    CAPTURE(c.link, c.activation);
    phase1::TeacherQuadOptions tq;
    tq.panel_points = 6;
    tq.k2_panel_points = 6;
    const auto teacher = phase1::teacher_nodes(model::Link::parse(c.link), model::Noise{}, tq);
    const phase1::Network net(model::Activation::parse(c.activation), model::Loss::parse("square"), {0.5, 0.5});
    const phase1::InitSpec init{phase1::InitSpec::Kind::random, 1.0};
    phase1::InitLawOptions fine;
    fine.u_rule.composite_max_dim = 2;
    fine.u_rule.panel_width = 0.25;
    fine.u_rule.panel_points = 6;
    hessian::NNOptions opt;
    opt.hard = model::Link::parse(c.link).k() == 2 ? std::vector<int>{0, 1} : std::vector<int>{0};
    // δ = 6 is above δ_NN for both (5.11 and 4.86): the bulk edge and the outlier below it.
    const auto pa = hessian::Analyzer(net, opt, hessian::constant_law(phase1::init_law(teacher, 2, init))).point(6.0);
    const auto pf = hessian::Analyzer(net, opt, hessian::constant_law(phase1::init_law(teacher, 2, init, fine))).point(6.0);
    REQUIRE(pa.status == Status::success);
    REQUIRE(pf.status == Status::success);
    REQUIRE(std::isfinite(pf.lambda_out));
    CHECK(pa.bulk_edge == Approx(pf.bulk_edge).epsilon(1e-6));
    CHECK(pa.lambda_out == Approx(pf.lambda_out).epsilon(1e-6));
  }
}

// The bulk edge's warm start (StieltjesSolver::outliers with the edge of a nearby δ as hint) against
// the cold continuation from ζ → −∞ (second method): the edge, K's lowest eigenvalue there (the BBP
// event) and the outlier agree to the solvers' tolerances, with fewer passes over the law (so the
// hint was used); hints that cannot apply (not a fold, S of the wrong size) give the cold result.
// Before the edge point became the converged bracket's end (not the point of largest ζ), K's
// eigenvalue at the edge differed by 5e-9 between the two at δ = 1.506561111 (min(z², 4), log cosh,
// m = 2, random:1 on the automatic u rule; 2e-12 after).
TEST_CASE("the bulk edge's warm start agrees with the cold continuation", "[hessian][nn][init]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2,4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("logcosh"), model::Loss::parse("square"), {0.5, 0.5});
  phase1::InitLawOptions io;
  io.u_rule.hermite_points = 17;  // small and fast; the rule does not matter for this comparison
  const auto wl = hessian::weight_law(phase1::init_law(teacher, 2, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0}, io),
                                      net, {0});
  const spectral::StieltjesSolver first(wl, 1.58, 0.0, spectral::StieltjesOptions{});
  const auto hint = first.outliers().edge;
  REQUIRE(hint.kind == spectral::EdgeKind::fold);
  for (const double delta : {1.52, 1.5066, 1.6, 2.0}) {
    CAPTURE(delta);
    const spectral::StieltjesSolver s(wl, delta, 0.0, spectral::StieltjesOptions{});
    const auto cold = s.outliers();
    const auto warm = s.outliers(&hint);
    REQUIRE(cold.status == Status::success);
    REQUIRE(warm.status == Status::success);
    CHECK(warm.iterations < cold.iterations);
    CHECK(warm.edge.location == Approx(cold.edge.location).epsilon(1e-11));
    CHECK(warm.k_min_at_edge == Approx(cold.k_min_at_edge).margin(1e-9));
    REQUIRE(warm.exists == cold.exists);
    if (cold.exists) CHECK(warm.location == Approx(cold.location).epsilon(1e-10));
    auto bad = hint;
    bad.kind = spectral::EdgeKind::divergence;
    CHECK(s.outliers(&bad).iterations == cold.iterations);
    bad = hint;
    bad.S = Eigen::MatrixXd::Identity(3, 3);
    CHECK(s.outliers(&bad).edge.location == cold.edge.location);
  }
  // The threshold search with and without the warm start.
  hessian::NNOptions opt;
  opt.hard = {0};
  const auto law = phase1::init_law(teacher, 2, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0}, io);
  const auto tw = hessian::Analyzer(net, opt, hessian::constant_law(law)).thresholds();
  opt.edge_warm_start = false;
  const auto tc = hessian::Analyzer(net, opt, hessian::constant_law(law)).thresholds();
  REQUIRE(tw.nn.status == Status::success);
  REQUIRE(tc.nn.status == Status::success);
  CHECK(tw.nn.value == Approx(tc.nn.value).epsilon(2 * opt.delta_rel_tol));
  CHECK(tw.bbp.value == Approx(tc.bbp.value).epsilon(2 * opt.delta_rel_tol));
}

// tanh at u ≡ 0 (small:0): D = ℓ''·(aσ'(0))² = 1 on every node, so H = (1/n) Σ x xᵀ is a
// Marchenko–Pastur matrix with ratio d/n = 1/δ: lower edge (1 − δ^{−1/2})² for δ > 1 and no outlier,
// whatever the link (y = z² is unbounded, but D does not see it).
TEST_CASE("small init with sigma''(0) = 0 gives a Marchenko-Pastur bulk and no outlier", "[hessian][nn][caveat]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("z^2"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  hessian::NNOptions opt;
  opt.hard = {0};
  hessian::Analyzer analyzer(net, opt, hessian::constant_law(law));
  for (double delta : {2.0, 10.0}) {
    const auto p = analyzer.point(delta);
    REQUIRE(p.status == Status::success);
    CHECK_FALSE(p.no_transition);
    CHECK(p.law.d_spread < 1e-12);
    CHECK(p.bulk_edge == Approx(std::pow(1 - 1 / std::sqrt(delta), 2)).epsilon(1e-6));
    CHECK_FALSE(p.outlier);
  }
  const auto th = analyzer.thresholds();
  CHECK(std::isinf(th.nn.value));
  CHECK_FALSE(th.no_transition);
}

// k = 2, y = sign(z1 z2), σ = x², u = 0: D = −2y, H = −2 D_T with T = y ∈ {±1}. Given y,
// s± = (z1 ± z2)/√2 are independent with E[s±² | y] = 1 ± 2y/π, so along s₊ the scalar A/B/C
// formulas hold with A(λ) = ½[(λ−1)^{−2} + (λ+1)^{−2}], B(λ) = (1/π)[(λ−1)^{−1} + (λ+1)^{−1}]
// (T has atoms at its supremum 1, so λ̄ solves A(λ̄) = 1/δ on (1, ∞)) and δ_NN = δ_BBP solves
// B(λ̄(δ)) = 1/δ (scipy brentq: 2.9331240476). Checks the k = 2 teacher rule (jumps on the axes),
// the hard block {1, 2} and the merging of nodes with equal D for k_h = 2.
TEST_CASE("k = 2: delta_NN of sign(z1 z2) equals its closed-form spectral threshold", "[hessian][nn][k2]") {
  const auto A = [](double l) { return 0.5 * (1 / ((l - 1) * (l - 1)) + 1 / ((l + 1) * (l + 1))); };
  const auto B = [](double l) { return (1 / (l - 1) + 1 / (l + 1)) / M_PI; };
  const auto lambda_bar = [&](double delta) { return bisect([&](double l) { return A(l) - 1 / delta; }, 1 + 1e-12, 1e6); };
  const double delta_T = bisect([&](double d) { return B(lambda_bar(d)) - 1 / d; }, 0.5, 100.0, 1e-13);
  const auto teacher = phase1::teacher_nodes(model::Link::parse("sign(z1*z2)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  hessian::NNOptions opt;
  opt.hard = {0, 1};
  opt.delta_min = 1.0;
  opt.delta_max = 10.0;
  const auto wl = hessian::weight_law(law, net, opt.hard);
  CHECK(wl.size() == 4);  // two values of D, each written back as k_h = 2 nodes
  hessian::Analyzer analyzer(net, opt, hessian::constant_law(law));
  const auto th = analyzer.thresholds();
  REQUIRE(th.status == Status::success);
  CHECK(th.nn.value == Approx(delta_T).epsilon(test_tol::kNNK2ClosedForm));
  CHECK(th.bbp.value == Approx(delta_T).epsilon(test_tol::kNNK2ClosedForm));
  // Only z2 hard: E[z2² | y] = 1, no signal along θ2 alone at u = 0, hence no outlier.
  opt.hard = {1};
  hessian::Analyzer single(net, opt, hessian::constant_law(law));
  CHECK(std::isinf(single.thresholds().nn.value));
}

namespace {
// A δ-dependent provider handing out `law` with the flags a fixed-point solve sets (LawAt::consistent,
// LawAt::quadrature_error): synthetic fixed-point laws for the reporting tests below.
hessian::LawProvider flagged_law(const phase1::Law& law, bool consistent, double quadrature_error, double scale = 1.0) {
  return [&law, consistent, quadrature_error, scale](double) {
    hessian::LawAt at;
    at.law = law;
    at.depends_on_delta = true;
    at.consistent = consistent;
    at.quadrature_error = quadrature_error;
    at.parameter_scale = scale;
    return at;
  };
}
}  // namespace

// A law flagged inconsistent by its provider (the fixed point's continuation to the law's rule
// failed) must say so in the point's result and message; a consistent one must not.
TEST_CASE("an inconsistent phase-1 law is flagged at every point", "[hessian][nn][fixed-point]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
  hessian::NNOptions opt;
  opt.hard = {0};
  for (bool consistent : {true, false}) {
    CAPTURE(consistent);
    hessian::Analyzer analyzer(net, opt, flagged_law(law, consistent, 0.0));
    const auto p = analyzer.point(3.0);
    REQUIRE(p.status == Status::success);
    CHECK(p.phase1_law_consistent == consistent);
    CHECK((p.message.find("not continued to convergence on the law's own rule") != std::string::npos) == !consistent);
  }
}

// A point whose phase-1 law's quadrature error is at least kResolutionWarning (1 %) of the law's
// parameter scale warns that its verdicts carry an error of that order; below, or for an exact
// law, it does not, and the numbers do not depend on the flag (the law is the same). The fixed-point
// provider's scale is 1 + the largest |entry| of (M, Q, Γ) of the solution it returns (second route:
// the same solve called directly).
TEST_CASE("a coarse phase-1 law warns at its point", "[hessian][nn][fixed-point]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
  hessian::NNOptions opt;
  opt.hard = {0};
  double edge = 0.0;
  for (const double q : {0.0, 0.02, 0.1}) {
    CAPTURE(q);
    hessian::Analyzer analyzer(net, opt, flagged_law(law, true, q, 5.0));
    const auto p = analyzer.point(3.0);
    REQUIRE(p.status == Status::success);
    CHECK(p.phase1_quadrature_error == q);
    CHECK(p.phase1_quadrature_error_relative == Approx(q / 5.0).epsilon(1e-15));
    const bool warned = p.message.find("resolution-limited") != std::string::npos &&
                        p.message.find("--check-quadrature") != std::string::npos;
    CHECK(warned == (q / 5.0 >= hessian::kResolutionWarning));
    if (q == 0.0) edge = p.bulk_edge;
    CHECK(p.bulk_edge == edge);
  }
  phase1::FixedPointOptions fo;
  fo.ridge = 0.05;
  fo.hard = {0};
  const phase1::Network one(model::Activation::parse("logcosh"), model::Loss::parse("square"), {1.0});
  const hessian::LawAt at = hessian::fixed_point_law(teacher, one, fo)(3.0);
  const phase1::FixedPointResult r = phase1::solve_fixed_point(teacher, one, 3.0, fo);
  REQUIRE(at.status == Status::success);
  REQUIRE(r.chosen >= 0);
  double largest = 0.0;
  for (const auto* v : {&r.branches[r.chosen].M, &r.branches[r.chosen].Q, &r.branches[r.chosen].Gamma})
    for (double e : *v) largest = std::max(largest, std::fabs(e));
  CHECK(largest > 0.1);
  CHECK(at.parameter_scale == Approx(1.0 + largest).epsilon(1e-12));
}

// A phase-1 law that is a fixed point of its rule only to the rule's quadrature error
// (LawAt::quadrature_error > 0) moves the event by an amount the bracket does not show: the
// threshold says so, naming --check-quadrature. The same law with the error 0 carries no such
// note, and the threshold itself does not depend on the flag (the law is the same): the small-init
// quadratic law of min(z², 4), whose δ_BBP is the closed-form spectral threshold.
TEST_CASE("a resolution-limited phase-1 law near a crossing is reported with the threshold", "[hessian][nn][fixed-point]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  hessian::NNOptions opt;
  opt.ridge = 0.5;
  opt.hard = {0};
  double value[2] = {0.0, 0.0};
  for (const double q : {0.0, 0.02}) {
    CAPTURE(q);
    hessian::Analyzer analyzer(net, opt, flagged_law(law, true, q));
    const auto th = analyzer.thresholds();
    REQUIRE(th.bbp.status == Status::success);
    REQUIRE(std::isfinite(th.bbp.value));
    value[q > 0] = th.bbp.value;
    const bool noted = th.bbp.message.find("resolution-limited") != std::string::npos &&
                       th.bbp.message.find("--check-quadrature") != std::string::npos;
    CHECK(noted == (q > 0));
    for (const auto& sample : th.samples) CHECK(sample.law_quadrature_error == q);
  }
  CHECK(value[0] == value[1]);
  CHECK(value[0] == Approx(ScalarSpectral::threshold()).epsilon(test_tol::kNNScalarRoute));
}

// The fixed-point law provider continues the branch from δ to δ (Broyden on the law's rule from the
// nearest solutions). A point reached by continuation must equal the same point solved alone by a
// fresh provider (cold starts, polish): second route, same equations and nodes. Issue 5's example.
TEST_CASE("fixed-point continuation along delta matches a point solved alone", "[hessian][nn][fixed-point]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2,4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("logcosh"), model::Loss::parse("square"), {1.0});
  phase1::FixedPointOptions fo;
  fo.ridge = 0.05;
  fo.hard = {0};
  hessian::NNOptions opt;
  opt.ridge = 0.05;
  opt.hard = {0};
  hessian::Analyzer scan(net, opt, hessian::fixed_point_law(teacher, net, fo));
  hessian::Analyzer alone(net, opt, hessian::fixed_point_law(teacher, net, fo));
  for (double d : {14.0, 16.0, 18.0}) scan.point(d);
  const auto p = scan.point(20.0);
  const auto q = alone.point(20.0);
  REQUIRE(p.status == Status::success);
  REQUIRE(q.status == Status::success);
  CHECK(p.branch.find("from the continuation predictor") != std::string::npos);
  CHECK(q.branch.find("unique among starts") != std::string::npos);
  CHECK(p.phase1_law_consistent);
  CHECK(q.phase1_law_consistent);
  // Both laws solve the equations to 1e-10 on the same nodes; the Hessian quantities inherit that.
  CHECK(p.bulk_edge == Approx(q.bulk_edge).margin(1e-7));
  REQUIRE(p.outlier);
  REQUIRE(q.outlier);
  CHECK(p.lambda_out == Approx(q.lambda_out).margin(1e-7));
  CHECK(p.overlap == Approx(q.overlap).margin(1e-6));
}

// weight_law's extreme eigenvalues of D (closed form for m = 2) against Eigen's solver on every
// node of an m = 2 law.
TEST_CASE("weight_law's range of D matches a per-node eigen-solve", "[hessian][nn]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("logcosh"), model::Loss::parse("square"), {0.7, -0.4});
  const auto law = phase1::init_law(teacher, 2, phase1::InitSpec{phase1::InitSpec::Kind::random, 1.0});
  hessian::LawDiagnostics diag;
  hessian::weight_law(law, net, {0}, 1e-6, &diag);
  double lo = INFINITY, hi = -INFINITY, negative = 0.0;
  for (std::size_t i = 0; i < law.size(); ++i) {
    double F[2], D[4];
    net.derivatives(law.y[i], &law.u[2 * i], F, D);
    Eigen::Matrix2d Dm;
    Dm << D[0], D[1], D[2], D[3];
    const Eigen::Vector2d ev = Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d>(Dm).eigenvalues();
    lo = std::min(lo, ev[0]);
    hi = std::max(hi, ev[1]);
    if (ev[0] < 0) negative += law.w[i];
  }
  CHECK(diag.d_min == Approx(lo).margin(1e-13));
  CHECK(diag.d_max == Approx(hi).margin(1e-13));
  CHECK(diag.negative_mass == Approx(negative).margin(1e-12));
  CHECK(diag.d_min < 0);  // a non-trivial check: logcosh'' and a negative weight make D indefinite
}

// crossing_resolution on synthetic event sequences, against hand-computed values of its
// definition (nn.hpp): disagreeing samples are those below the root that hold or above it that do
// not; resolution = max distance of one to the root, relative.
TEST_CASE("crossing resolution of synthetic event sequences", "[hessian][nn][resolution]") {
  using S = hessian::CrossingSample;
  SECTION("a single crossing: resolution 0") {
    std::vector<S> s;
    for (int i = 1; i <= 10; ++i) s.push_back({double(i), i >= 6});
    const auto r = hessian::crossing_resolution(s, 5.5);
    CHECK(r.monotone);
    CHECK(r.resolution == 0.0);
    CHECK(r.disagreeing == 0);
    CHECK(r.sign_changes == 1);
    CHECK(r.samples == 10);
    CHECK(r.span[0] == 5.5);
    CHECK(r.span[1] == 5.5);
  }
  SECTION("an extra sign pair on each side: the span of the disagreement") {
    // δ = 1..10, holds from 6 on, except δ = 3 holds and δ = 8 does not: F F T F F T T F T T.
    std::vector<S> s;
    for (int i = 1; i <= 10; ++i) s.push_back({double(i), (i >= 6 && i != 8) || i == 3});
    std::reverse(s.begin(), s.end());  // order of evaluation does not matter
    const auto r = hessian::crossing_resolution(s, 5.5);
    CHECK_FALSE(r.monotone);
    CHECK(r.disagreeing == 2);
    CHECK(r.sign_changes == 5);
    CHECK(r.span[0] == 3.0);
    CHECK(r.span[1] == 8.0);
    CHECK(r.resolution == Approx(2.5 / 5.5).epsilon(1e-15));
  }
  SECTION("a late non-event only: one-sided span") {
    // The noisy BBP pattern of docs/nn.md: off, on (the root's upper bracket end), off, on.
    const std::vector<S> s = {{1.7, false}, {2.0, false}, {2.000002, true}, {2.5, false}, {3.0, true}};
    const auto r = hessian::crossing_resolution(s, 2.000001);
    CHECK_FALSE(r.monotone);
    CHECK(r.disagreeing == 1);
    CHECK(r.sign_changes == 3);
    CHECK(r.span[0] == 2.000001);
    CHECK(r.span[1] == 2.5);
    CHECK(r.resolution == Approx(0.499999 / 2.000001).epsilon(1e-14));
  }
  SECTION("the root between the last off and the first on of a non-monotone sequence") {
    // L = min{holds} = 1.9 < U = max{not holds} = 2.2; the root is the crossing at 2.05.
    const std::vector<S> s = {{1.8, false}, {1.9, true}, {2.0, false}, {2.1, true}, {2.2, false}, {2.3, true}};
    const auto r = hessian::crossing_resolution(s, 2.05);
    CHECK(r.span[0] == 1.9);
    CHECK(r.span[1] == 2.2);
    CHECK(r.resolution == Approx(0.15 / 2.05).epsilon(1e-14));
    CHECK(r.disagreeing == 2);  // 1.9 (holds below the root) and 2.2 (does not hold above it)
    CHECK(r.sign_changes == 5);
  }
  SECTION("no samples, and samples exactly at the root") {
    CHECK(hessian::crossing_resolution({}, 1.0).monotone);
    const auto r = hessian::crossing_resolution({{1.0, true}, {1.0, false}, {0.5, false}, {2.0, true}}, 1.0);
    CHECK(r.monotone);
    CHECK(r.resolution == 0.0);
  }
  SECTION("bad input") {
    CHECK_THROWS_AS(hessian::crossing_resolution({}, 0.0), InputError);
    CHECK_THROWS_AS(hessian::crossing_resolution({}, INFINITY), InputError);
    CHECK_THROWS_AS(hessian::crossing_resolution({{NAN, true}}, 1.0), InputError);
    CHECK_THROWS_AS(hessian::crossing_resolution({{-1.0, true}}, 1.0), InputError);
  }
}

// A law whose BBP event is non-monotone by construction. The quadratic small-init law of
// min(z², 4) has δ_BBP = δ_T in the effective ratio δ·sample_fraction (scalar spectral route,
// above). The provider returns it with sample_fraction s(δ) = s_B on the teeth of a comb
// (frac(δ/w) < 1/2) and 1 elsewhere, so the event holds iff δ·s(δ) > δ_T: never below δ_T, always
// above δ_T/s_B, and in between off on the teeth and on between them. Every crossing the search
// can find is δ_T or a tooth edge in [δ_T, δ_T/s_B]; the points that disagree with a single
// crossing lie in [L*, U*] (L* = inf{holds}, U* = sup{not holds}), so the resolution is at most
// max(δ* − L*, U* − δ*)/δ*, and at least the largest distance of a threshold-check point whose
// closed-form sign disagrees. The δ-independent law (control) is monotone: resolution 0.
TEST_CASE("threshold resolution detects a non-monotone event and stays 0 for a smooth one", "[hessian][nn][resolution]") {
  const double ridge = 0.5, sB = 0.9, w = 0.05;
  const double delta_T = ScalarSpectral::threshold();
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2, 4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("quadratic"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{phase1::InitSpec::Kind::small, 0.0});
  const auto tooth = [w](double delta) { return delta / w - std::floor(delta / w) < 0.5; };
  const auto holds = [&](double delta) { return delta * (tooth(delta) ? sB : 1.0) > delta_T; };
  // Crossings of the closed-form event: δ_T (if not on a tooth), tooth edges between, δ_T/s_B (if on a tooth).
  std::vector<double> crossings;
  for (double e = std::floor(delta_T / w) * w; e <= delta_T / sB + w; e += 0.5 * w) {
    if (e > delta_T && e < delta_T / sB) crossings.push_back(e);
  }
  crossings.push_back(delta_T);
  crossings.push_back(delta_T / sB);
  const auto undecided = [&](double delta) {
    for (double c : crossings)
      if (std::fabs(delta - c) <= test_tol::kNNCrossingUndecided * c) return true;
    return false;
  };
  // L* and U* of the comb, on a fine grid (teeth are w/2 = 0.025 wide, the grid step 1e-6).
  double Lstar = INFINITY, Ustar = -INFINITY;
  for (double d = 0.9 * delta_T; d < 1.2 * delta_T; d += 1e-6) {
    if (holds(d)) Lstar = std::min(Lstar, d);
    else Ustar = std::max(Ustar, d);
  }
  REQUIRE(Lstar < Ustar);

  hessian::NNOptions opt;
  opt.ridge = ridge;
  opt.hard = {0};
  const hessian::LawProvider comb = [&law, &tooth, sB](double delta) {
    hessian::LawAt at;
    at.law = law;
    at.law.sample_fraction = tooth(delta) ? sB : 1.0;
    at.depends_on_delta = true;
    return at;
  };
  for (double R : {0.0, 0.2}) {
    CAPTURE(R);
    opt.threshold_check = R;
    opt.threshold_check_points = 10;
    hessian::Analyzer analyzer(net, opt, comb);
    const auto th = analyzer.thresholds();
    REQUIRE(th.bbp.status == Status::success);
    const double root = th.bbp.value;
    CAPTURE(root, delta_T, Lstar, Ustar);
    double nearest = INFINITY;
    for (double c : crossings) nearest = std::min(nearest, std::fabs(root - c) / c);
    CHECK(nearest < test_tol::kNNCrossingUndecided);
    // The analyzer's sign of φ at every evaluated δ is the closed-form one.
    for (const auto& s : th.samples) {
      if (!undecided(s.delta)) CHECK((s.k_min_at_edge < 0) == holds(s.delta));
    }
    const double upper = std::max(root - Lstar, Ustar - root) / root;
    CHECK(th.bbp.resolution <= upper + test_tol::kNNCrossingUndecided);
    CHECK(th.bbp.resolution_span[0] >= Lstar * (1 - test_tol::kNNCrossingUndecided));
    CHECK(th.bbp.resolution_span[1] <= Ustar * (1 + test_tol::kNNCrossingUndecided));
    if (R > 0) {
      CHECK(th.bbp.check_points == 20);
      double lower = 0.0;
      for (int j = 1; j <= 10; ++j) {
        for (double sign : {-1.0, 1.0}) {
          const double d = root * (1 + sign * R * j / 10);
          if (!undecided(d) && (d < root) == holds(d)) lower = std::max(lower, std::fabs(d - root) / root);
        }
      }
      CHECK(lower > 0.02);  // the comb is seen by the check points (spacing 0.02·δ*)
      CHECK(th.bbp.resolution >= lower);
      CHECK_FALSE(th.bbp.monotone);
      CHECK(th.bbp.message.find("not monotone") != std::string::npos);
    }
    if (!th.bbp.monotone) CHECK(th.bbp.resolution > 0);
  }

  // Control: the same law without the comb (δ-independent): the event is smooth and monotone.
  opt.threshold_check = 0.2;
  hessian::Analyzer smooth(net, opt, hessian::constant_law(law));
  const auto th = smooth.thresholds();
  REQUIRE(th.status == Status::success);
  CHECK(th.bbp.value == Approx(delta_T).epsilon(test_tol::kNNScalarRoute));
  for (const auto* t : {&th.bbp, &th.nn}) {
    CHECK(t->monotone);
    CHECK(t->resolution == 0.0);
    CHECK(t->check_points == 20);
    CHECK(t->resolution_samples >= 22);  // the scan bracket ends and the check points at least
    CHECK(t->message.find("not monotone") == std::string::npos);
    // A smooth event: the local quadratic fit leaves only its Taylor remainder.
    REQUIRE(t->jitter_samples >= 6);
    CHECK(t->jitter < hessian::kJitterWarning);
    CHECK(t->message.find("not estimated") == std::string::npos);
  }

  // The same law handed out as δ-dependent (as the fixed point is), without the check: a jitter
  // left unestimated is noted in the threshold's message (a δ-independent law is not noted).
  opt.threshold_check = 0.0;
  const hessian::LawProvider same = [&law](double) {
    hessian::LawAt at;
    at.law = law;
    at.depends_on_delta = true;
    return at;
  };
  for (bool dependent : {false, true}) {
    CAPTURE(dependent);
    hessian::Analyzer a(net, opt, dependent ? same : hessian::constant_law(law));
    const auto tha = a.thresholds();
    REQUIRE(tha.status == Status::success);
    const auto& t = tha.bbp;
    CHECK(t.value == Approx(delta_T).epsilon(test_tol::kNNScalarRoute));
    const bool noted = t.message.find("jitter) was not estimated") != std::string::npos;
    CHECK(noted == (dependent && std::isnan(t.jitter)));
  }
}

TEST_CASE("threshold check options are validated", "[hessian][nn][resolution]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("z^2"), model::Noise{});
  const phase1::Network net(model::Activation::parse("tanh"), model::Loss::parse("square"), {1.0});
  const auto law = phase1::init_law(teacher, 1, phase1::InitSpec{});
  hessian::NNOptions opt;
  opt.hard = {0};
  for (double R : {-0.1, 0.6, std::nan("")}) {
    opt.threshold_check = R;
    CHECK_THROWS_AS(hessian::Analyzer(net, opt, hessian::constant_law(law)), InputError);
  }
  opt.threshold_check = 0.1;
  for (int n : {0, 21}) {
    opt.threshold_check_points = n;
    CHECK_THROWS_AS(hessian::Analyzer(net, opt, hessian::constant_law(law)), InputError);
  }
}

// event_jitter on synthetic values. A quadratic in δ is fitted exactly: jitter 0 (round-off).
// Adding ε·u with u = (−1, 1, 1, 0, −1, −1, 1) = P₃/6 on the seven equispaced points (P₃ = i³ − 7i,
// i = −3..3, the discrete orthogonal polynomial of degree 3: orthogonal to 1, i, i² there) leaves
// the fit unchanged and makes the residuals ε·u: Σu² = 6, n − 3 = 4, so s = ε√1.5 and
// jitter = ε√1.5/|b|.
TEST_CASE("event jitter of synthetic event values", "[hessian][nn][resolution]") {
  const double root = 2.0, h = 0.05, b = -0.4, c = 3.0, eps = 1e-3;
  const std::vector<double> u = {-1, 1, 1, 0, -1, -1, 1};
  std::vector<hessian::EventSampleValue> smooth, noisy;
  for (int i = -3; i <= 3; ++i) {
    const double x = 0.01 * i;  // δ/root − 1
    const double v = 0.002 + b * x + c * x * x;
    smooth.push_back({root * (1 + x), v});
    noisy.push_back({root * (1 + x), v + eps * u[i + 3]});
  }
  noisy.push_back({root * 1.2, 5.0});  // outside the window: ignored
  const auto js = hessian::event_jitter(smooth, root, h);
  CHECK(js.samples == 7);
  CHECK(js.jitter < 1e-12);
  CHECK(js.slope == Approx(b).epsilon(1e-12));
  const auto jn = hessian::event_jitter(noisy, root, h);
  CHECK(jn.samples == 7);
  CHECK(jn.slope == Approx(b).epsilon(1e-10));
  CHECK(jn.rms == Approx(eps * std::sqrt(1.5)).epsilon(1e-10));
  CHECK(jn.jitter == Approx(eps * std::sqrt(1.5) / std::fabs(b)).epsilon(1e-10));
  // Too few points, or too few distinct ones (the root search's cluster at the root counts once).
  CHECK(std::isnan(hessian::event_jitter({smooth.begin(), smooth.begin() + 5}, root, h).jitter));
  std::vector<hessian::EventSampleValue> cluster;
  for (int i = 0; i < 6; ++i) cluster.push_back({root * (1 + 1e-7 * i), 0.0});
  cluster.push_back({root * 1.01, -0.004});
  CHECK(std::isnan(hessian::event_jitter(cluster, root, h).jitter));
  // Points on one side only (as the root search leaves them: a cluster at the root and a few
  // beyond it) are not estimated; two more beyond −kJitterSpread·h on the other side are.
  std::vector<hessian::EventSampleValue> one_sided;
  for (double t : {-0.1, -0.02, 0.0, 0.3, 0.5, 0.7, 0.9}) one_sided.push_back({root * (1 + h * t), 0.002 + b * h * t + eps * t * t * t});
  const auto j1 = hessian::event_jitter(one_sided, root, h);
  CHECK(j1.samples == 7);
  CHECK(std::isnan(j1.jitter));
  for (double t : {-0.5, -0.9}) one_sided.push_back({root * (1 + h * t), 0.002 + b * h * t + eps * t * t * t});
  CHECK(std::isfinite(hessian::event_jitter(one_sided, root, h).jitter));
  CHECK_THROWS_AS(hessian::event_jitter(smooth, root, 0.0), InputError);
  CHECK_THROWS_AS(hessian::event_jitter({{1.0, std::nan("")}}, root, h), InputError);
}

// The fold search of the bulk's lower edge gives each evaluation a budget, tries the other end of
// its bracket, and falls back to bisection when an evaluation fails (stieltjes.cpp). Regression
// case: the fixed-point law of softplus m = 3 (fixed:1/3 each, ridge 0.2, min(z², 4), δ = 2) built
// with the fixed-size m = 3 kernel, on which the search had failed at one point just below the fold
// (numerical_issue at 0.005377226, bracket 2.4e-4 wide). Reference: the same law with u scaled by
// 1 ± 1e-14, whose searches had succeeded (0.005377232372); the edge moves continuously with the
// law.
TEST_CASE("the bulk edge's fold search survives a failed corrector", "[hessian][nn][validation]") {
  const auto teacher = phase1::teacher_nodes(model::Link::parse("min(z^2,4)"), model::Noise{});
  const phase1::Network net(model::Activation::parse("softplus"), model::Loss::parse("square"),
                            {1.0 / 3, 1.0 / 3, 1.0 / 3});
  phase1::FixedPointOptions fo;
  fo.ridge = 0.2;
  fo.hard = {0};
  const auto r = phase1::solve_fixed_point(teacher, net, 2.0, fo);
  REQUIRE(r.status == Status::success);
  std::vector<double> edges;
  for (double eps : {0.0, 1e-14, -1e-14}) {
    CAPTURE(eps);
    auto law = r.law;
    for (double& u : law.u) u *= 1 + eps;
    const spectral::StieltjesSolver s(hessian::weight_law(law, net, {0}), 2.0, 0.2, spectral::StieltjesOptions{});
    const auto e = s.lower_edge();
    REQUIRE(e.status == Status::success);
    CHECK(e.kind == spectral::EdgeKind::fold);
    edges.push_back(e.location);
  }
  CHECK(edges[0] == Approx(edges[1]).epsilon(1e-8));
  CHECK(edges[0] == Approx(edges[2]).epsilon(1e-8));
}
