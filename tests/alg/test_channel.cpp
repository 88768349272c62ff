// The channel law (alg/channel.hpp): invariants that hold for every link (mass 1, E[z|y] and
// E[zzᵀ|y] average to 0 and I, PSD conditional covariances), exact atoms, symmetry zeros, the
// output-noise transforms against their closed forms, the closed-form laws, and bad options.
#include <Eigen/Eigenvalues>

#include <cmath>

#include "catch_compat.hpp"
#include "deltacrit/alg/channel.hpp"
#include "deltacrit/alg/closed_form.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"
#include "tolerances.hpp"

using namespace deltacrit;

namespace {

alg::ChannelLaw law_of(const char* text, const char* noise, double tol) {
  alg::ChannelOptions o;
  o.tol = tol;
  return alg::build_channel_law(model::Link::parse(text), model::Noise::parse(noise), o);
}

// E_y[m1] = E[z] = 0 and E_y[m2] = E[zzᵀ] = I (tower property), Σ w = 1, and every node has a
// PSD conditional covariance m2 − m1 m1ᵀ.
void check_invariants(const alg::ChannelLaw& law, double tol) {
  const int k = law.k;
  Eigen::VectorXd m1 = Eigen::VectorXd::Zero(k);
  Eigen::MatrixXd m2 = Eigen::MatrixXd::Zero(k, k);
  double mass = 0, min_eig = 0;
  for (const auto& n : law.nodes) {
    REQUIRE(n.weight > 0);
    mass += n.weight;
    m1 += n.weight * Eigen::VectorXd(n.m1);
    m2 += n.weight * Eigen::MatrixXd(n.m2);
    const Eigen::MatrixXd cov = Eigen::MatrixXd(n.m2) - Eigen::VectorXd(n.m1) * Eigen::VectorXd(n.m1).transpose();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(cov);
    min_eig = std::min(min_eig, es.eigenvalues().minCoeff() * n.weight);
  }
  CHECK(std::fabs(mass - 1.0) < tol);
  CHECK(m1.norm() < tol);
  CHECK((m2 - Eigen::MatrixXd::Identity(k, k)).norm() < tol);
  CHECK(min_eig > -tol);
}

}  // namespace

TEST_CASE("channel: tower-property invariants for k = 1, 2, 3 links", "[alg][channel]") {
  // Tolerances: the solver tolerance of each case (relative functionals), times a small factor
  // for the round-off of summing thousands of nodes.
  for (const char* text : {"z^2", "relu(z)", "he(4,z)", "sign(z)", "cos(3*z)", "min(z^2,4)", "z + sign(z)"}) {
    INFO(text);
    const auto law = law_of(text, "none", 1e-9);
    CHECK(law.status == Status::success);
    check_invariants(law, 1e-8);
  }
  for (const char* text : {"z1*z2", "sign(z1*z2)", "z1^2 + z1*z2", "relu(z1)*z2", "z1 + z1*z2"}) {
    INFO(text);
    const auto law = law_of(text, "none", 1e-5);
    CHECK(law.status == Status::success);
    check_invariants(law, 1e-4);
  }
}

TEST_CASE("channel: atoms of relu and sign are exact Gaussian integrals", "[alg][channel]") {
  // relu: P(y = 0) = 1/2, E[z | z < 0] = −√(2/π), E[z² | z < 0] = 1.
  const auto relu = law_of("relu(z)", "none", 1e-9);
  int atoms = 0;
  for (const auto& n : relu.nodes) {
    if (!n.atom) continue;
    ++atoms;
    CHECK(n.y == 0.0);
    CHECK(n.weight == Approx(0.5).epsilon(1e-14));
    CHECK(n.m1(0) == Approx(-std::sqrt(2 / M_PI)).epsilon(1e-12));
    CHECK(n.m2(0, 0) == Approx(1.0).epsilon(1e-12));
  }
  CHECK(atoms == 1);
  // sign(z1 z2): two atoms of mass 1/2 with E[z1 z2 | ±1] = ±2/π, diagonal 1 (closed form).
  const auto s = law_of("sign(z1*z2)", "none", 1e-6);
  REQUIRE(s.nodes.size() == 2);
  for (const auto& n : s.nodes) {
    CHECK(n.atom);
    CHECK(n.weight == Approx(0.5).epsilon(1e-9));
    CHECK(n.m2(0, 1) == Approx(2 * n.y / M_PI).epsilon(1e-8));
    CHECK(n.m2(0, 0) == Approx(1.0).epsilon(1e-8));
    CHECK(n.m1.norm() == 0.0);  // zero by the symmetry z → −z
  }
}

TEST_CASE("channel: sign-flip symmetries zero the conditional moments exactly", "[alg][channel]") {
  // z1 z2 is invariant under (z1, z2) → (−z1, −z2): E[z|y] = 0 exactly, not to quadrature noise.
  const auto law = law_of("z1*z2", "none", 1e-4);
  for (const auto& n : law.nodes) CHECK(n.m1.norm() == 0.0);
  // z1² + z2: invariant under z1 → −z1, so E[z1|y] = 0 and E[z1 z2|y] = 0 exactly; E[z2|y] ≠ 0.
  const auto law2 = law_of("z1^2 + z2", "none", 1e-4);
  double c22 = 0;
  for (const auto& n : law2.nodes) {
    CHECK(n.m1(0) == 0.0);
    CHECK(n.m2(0, 1) == 0.0);
    c22 += n.weight * n.m1(1) * n.m1(1);
  }
  CHECK(c22 > 0.1);
}

TEST_CASE("channel: closed-form laws agree with the generic laws on E[G (x) G]", "[alg][channel][closed-form]") {
  for (const char* text : {"z^2", "z1*z2", "abs(z1*z2)", "z1^2+z2^2"}) {
    INFO(text);
    const auto link = model::Link::parse(text);
    const auto cf = alg::closed_form_channel_law(link);
    REQUIRE(cf.has_value());
    const auto gen = alg::build_channel_law(link, {}, alg::ChannelOptions{link.k() == 1 ? 1e-9 : 1e-6});
    const double tol = link.k() == 1 ? test_tol::kAlgK1 : test_tol::kAlgK2;
    const int k = link.k();
    auto gg = [&](const alg::ChannelLaw& l) {
      Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(k, k);
      for (const auto& n : l.nodes) {
        const Eigen::MatrixXd G = Eigen::MatrixXd(n.m2) - Eigen::MatrixXd::Identity(k, k);
        acc += n.weight * G * G;
      }
      return acc;
    };
    CHECK((gg(*cf) - gg(gen)).norm() < tol * gg(*cf).norm());
    CHECK(cf->total_weight() == Approx(1.0).epsilon(1e-12));
  }
  CHECK_FALSE(alg::closed_form_channel_law(model::Link::parse("z1*z2*z3")).has_value());
}

TEST_CASE("channel: noise transforms match their closed forms", "[alg][channel][noise]") {
  // references.md: erasure δ/(1 − ε), resampling δ/(1 − ε)²; flip of sign(z1 z2): the atoms mix,
  // E[z1 z2 | ±1] = ±(1 − 2ε)·2/π, so δ = π²/(4(1 − 2ε)²).
  auto delta = [](const char* text, const char* noise, double tol) {
    alg::AlgOptions o;
    o.tol = tol;
    return alg::compute_delta_alg(model::Link::parse(text), model::Noise::parse(noise), o);
  };
  const double pi2 = M_PI * M_PI / 4;
  CHECK(delta("sign(z1*z2)", "erase:0.3", 1e-5).delta_alg == Approx(pi2 / 0.7).epsilon(test_tol::kAlgK2));
  CHECK(delta("sign(z1*z2)", "resample:0.3", 1e-5).delta_alg == Approx(pi2 / 0.49).epsilon(test_tol::kAlgK2));
  CHECK(delta("sign(z1*z2)", "flip:0.2", 1e-5).delta_alg == Approx(pi2 / 0.36).epsilon(test_tol::kAlgK2));
  CHECK(delta("z1*z2", "erase:0.5", 1e-5).delta_alg ==
        Approx(2 * delta("z1*z2", "none", 1e-5).delta_alg).epsilon(test_tol::kAlgK2));
  // Flip keeps the trivial part of sign(z) up to (1 − 2ε)²: c = (2/π)(1 − 2ε)².
  const auto f = delta("sign(z)", "flip:0.1", 1e-8);
  CHECK(f.trivial_gram(0, 0) == Approx(2 / M_PI * 0.64).epsilon(test_tol::kAlgK1));
  // The erased label is an atom with z independent of it.
  const auto law = law_of("z^2", "erase:0.25", 1e-8);
  int erased = 0;
  for (const auto& n : law.nodes) {
    if (!n.erased) continue;
    ++erased;
    CHECK(n.atom);
    CHECK(n.weight == 0.25);
    CHECK(n.m2(0, 0) == 1.0);
    CHECK(std::isnan(n.y));
  }
  CHECK(erased == 1);
}

TEST_CASE("channel: Gaussian output noise interpolates between the clean law and pure noise", "[alg][channel][noise]") {
  // z + N(0, Δ): E[z|y] = y/(1 + Δ), c = E[E[z|y]²] = 1/(1 + Δ) (Gaussian conjugacy), for k = 1
  // and for the z1 coordinate of k = 2 with z2 absent from the link.
  for (double var : {0.1, 1.0, 4.0}) {
    INFO(var);
    alg::AlgOptions o;
    o.tol = 1e-8;
    model::Noise n;
    n.kind = model::Noise::Kind::gaussian;
    n.param = var;
    const auto r = alg::compute_delta_alg(model::Link::parse("z"), n, o);
    CHECK(r.trivial_gram(0, 0) == Approx(1 / (1 + var)).epsilon(test_tol::kAlgK1));
  }
  alg::AlgOptions o;
  o.tol = 1e-5;
  const auto r = alg::compute_delta_alg(model::Link::parse("z1", 2), model::Noise::parse("gaussian:1"), o);
  CHECK(r.trivial_gram(0, 0) == Approx(0.5).epsilon(test_tol::kAlgK2));
  CHECK(std::fabs(r.trivial_gram(1, 1)) < 1e-9);
  // The direction z2 does not enter the link: hard.
  REQUIRE(r.directions.size() == 2);
  CHECK(r.directions[1].cls == alg::DirectionClass::hard);
}

TEST_CASE("channel: flip noise needs ±1 labels", "[alg][channel][noise]") {
  try {
    law_of("z^2", "flip:0.1", 1e-6);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "noise");
    CHECK(std::string(e.what()).find("{-1, +1}") != std::string::npos);
  }
}

TEST_CASE("channel: options are validated", "[alg][channel]") {
  const auto link = model::Link::parse("z^2");
  auto expect = [&](alg::ChannelOptions o, const char* field) {
    try {
      alg::build_channel_law(link, {}, o);
      FAIL("no exception for " << field);
    } catch (const InputError& e) {
      CHECK(e.parameter() == field);
    }
  };
  alg::ChannelOptions o;
  o.tol = 0;
  expect(o, "tol");
  o = {};
  o.tol = 0.5;
  expect(o, "tol");
  o = {};
  o.radius = 3;
  expect(o, "radius");
  o = {};
  o.fibre_grid = 10;
  expect(o, "fibre_grid");
  alg::AlgOptions a;
  a.staircase_nodes = 3;
  try {
    alg::compute_delta_alg(link, {}, a);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "staircase_nodes");
  }
}
