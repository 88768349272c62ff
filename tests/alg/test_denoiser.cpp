// Output denoisers g_out(y, ω, V) (alg/denoiser.hpp) against closed forms, finite differences, the
// Nishimori identities and brute-force quadrature oracles.
#include <Eigen/LU>

#include <cmath>
#include <vector>

#include "catch_compat.hpp"
#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/gauss/hermite.hpp"
#include "deltacrit/gauss/quad.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
namespace tol = deltacrit::test_tol;

namespace {
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

// E_{z ~ N(ω, V)}[f(g(z))] on [ω − 12√V, ω + 12√V] with breakpoints (adaptive, slow but certain).
double gauss_expect(const std::function<double(double)>& f, double omega, double V, std::vector<double> breaks = {}) {
  const double s = std::sqrt(V);
  auto r = gauss::integrate([&](double z) { return f(z) * phi((z - omega) / s) / s; }, omega - 12 * s, omega + 12 * s, breaks,
                            {1e-14, 1e-12, 4000});
  return r.value;
}
}  // namespace

TEST_CASE("denoiser: |z| posterior is y tanh(y w / V) (two symmetric preimages)", "[alg][denoiser]") {
  alg::ScalarDenoiser den(model::Link::parse("abs(z)"), model::Noise{});
  for (double y : {0.1, 0.7, 2.3}) {
    for (double omega : {-1.2, 0.0, 0.4}) {
      for (double V : {1.0, 0.3, 1e-3, 1e-6}) {
        const auto p = den.posterior(y, omega, V);
        const double mean = y * std::tanh(y * omega / V);
        const double var = y * y - mean * mean;
        CHECK(p.mean == Approx(mean).margin(1e-12 * y));
        CHECK(p.var == Approx(var).margin(1e-12 * y * y));
        CHECK(p.g_out == Approx((mean - omega) / V).epsilon(1e-10).margin(1e-9));
        CHECK(p.dg_out == Approx((var / V - 1) / V).epsilon(1e-10).margin(1e-9 / V));
      }
    }
  }
}

TEST_CASE("denoiser: relu atom y = 0 is the truncated Gaussian, stable far in the tail", "[alg][denoiser]") {
  alg::ScalarDenoiser den(model::Link::parse("relu(z)"), model::Noise{});
  REQUIRE(den.atoms().size() == 1);
  CHECK(den.atoms()[0].probability == Approx(0.5).epsilon(1e-12));
  for (double omega : {-2.0, 0.0, 0.5, 3.0, 30.0}) {
    for (double V : {1.0, 0.04, 1e-4}) {
      const double s = std::sqrt(V), a = omega / s;
      const auto p = den.posterior(0.0, omega, V);
      // E[z | z ≤ 0] = ω − √V R(a), R = φ(a)/Φ(−a) the inverse Mills ratio, from its continued
      // fraction R = a + 1/(a + 2/(a + 3/(a + …))) for a ≥ 5 (erfc loses it there); Var = V(1 + aR − R²)
      // computed as V·(1 − R·d) with d = R − a from the same continued fraction.
      double mills = 0, d = 0;
      if (a < 5) {
        mills = phi(a) / Phi(-a);
        d = mills - a;
      } else {
        double cf = a;
        for (int j = 200; j >= 2; --j) cf = a + j / cf;
        d = 1 / cf;
        mills = a + d;
      }
      CHECK(p.mean == Approx(omega - s * mills).epsilon(1e-9).margin(1e-12));
      // 1 − R d = 1 − a d − d²: for large a use d(a + d) = 1 − v with v from the series in
      // 1/a² (cancellation-free truth: exact up to 1e-10 relative for a ≥ 30).
      double var = V * (1 - mills * d);
      if (a >= 30) {
        const double x = 1 / (a * a);
        var = V * x * (1 + x * (-6 + x * (50 + x * (-518 + x * 6354))));
      }
      CHECK(p.var == Approx(var).epsilon(a < 30 ? 1e-7 : 1e-8).margin(1e-15));
      CHECK(std::isfinite(p.log_evidence));
    }
  }
}

TEST_CASE("denoiser: far-tail truncated-Gaussian variance matches mpmath", "[alg][denoiser]") {
  // mpmath (40 digits): for N(0,1) on [30, ∞), 1 + aR − R² = 0.0011037715118900910011…; the
  // relu atom with ω = 30√V puts its plateau (−∞, 0] at a = 30 standard deviations.
  alg::ScalarDenoiser den(model::Link::parse("relu(z)"), model::Noise{});
  const double V = 0.01;
  const auto p = den.posterior(0.0, 30 * std::sqrt(V), V);
  CHECK(p.var / V == Approx(0.0011037715118900910).epsilon(1e-9));
}

TEST_CASE("denoiser: dg_out is the omega-derivative of g_out (finite differences)", "[alg][denoiser]") {
  struct Case {
    const char* link;
    const char* noise;
    double y;
  };
  for (const Case c : {Case{"he(4,z)", "none", 1.3}, Case{"he(4,z)", "none", -4.0}, Case{"relu(z)", "none", 0.0},
                       Case{"relu(z)", "none", 0.8}, Case{"min(z^2,4)", "none", 4.0}, Case{"min(z^2,4)", "none", 1.5},
                       Case{"sign(z)", "flip:0.1", 1.0}, Case{"z^2", "resample:0.3", 0.9},
                       Case{"z^2", "gaussian:0.5", 1.1}}) {
    INFO(c.link << " " << c.noise << " y = " << c.y);
    alg::ScalarDenoiser den(model::Link::parse(c.link), model::Noise::parse(c.noise));
    const auto lab = den.prepare(c.y);
    for (double omega : {-0.7, 0.2, 1.1}) {
      for (double V : {0.9, 0.2}) {
        const double h = 1e-5;
        const double fd = (den.posterior(lab, omega + h, V).g_out - den.posterior(lab, omega - h, V).g_out) / (2 * h);
        CHECK(den.posterior(lab, omega, V).dg_out == Approx(fd).epsilon(tol::kFiniteDifference).margin(tol::kFiniteDifference));
      }
    }
  }
}

TEST_CASE("denoiser: Nishimori identities E[g_out | w] = 0 and E[g_out^2] = -E[dg_out]", "[alg][denoiser]") {
  // For fixed (ω, V) and z ~ N(ω, V), y = g(z): the score has mean zero and its variance equals
  // minus the mean derivative. Integrated in z with the atoms handled by the plateau intervals.
  for (const char* text : {"he(4,z)", "relu(z)", "min(z^2,4)", "abs(z)"}) {
    INFO(text);
    alg::ScalarDenoiser den(model::Link::parse(text), model::Noise{});
    for (double omega : {-0.6, 0.9}) {
      for (double V : {0.7, 0.05}) {
        std::vector<double> breaks = den.fibre().structure_points();
        double e1 = 0, e2 = 0, ed = 0;
        // Continuous part: z on the monotone pieces.
        for (const auto& piece : den.fibre().pieces()) {
          auto f = [&](double z) {
            const auto p = den.posterior(den.link_value(z), omega, V);
            return p;
          };
          const double s = std::sqrt(V);
          const double lo = std::max(piece.lo, omega - 12 * s), hi = std::min(piece.hi, omega + 12 * s);
          if (!(hi > lo)) continue;
          auto integ = [&](auto field) {
            return gauss::integrate([&](double z) { return field(f(z)) * phi((z - omega) / s) / s; }, lo, hi, {},
                                    {1e-13, 1e-11, 4000})
                .value;
          };
          e1 += integ([](const alg::ScalarPosterior& p) { return p.g_out; });
          e2 += integ([](const alg::ScalarPosterior& p) { return p.g_out * p.g_out; });
          ed += integ([](const alg::ScalarPosterior& p) { return p.dg_out; });
        }
        for (const auto& a : den.atoms()) {
          const auto p = den.posterior(a.value, omega, V);
          const double prob = std::exp(p.log_evidence);
          e1 += prob * p.g_out;
          e2 += prob * p.g_out * p.g_out;
          ed += prob * p.dg_out;
        }
        const double scale = 1.0 / V;
        CHECK(std::fabs(e1) < 1e-8 * scale);
        CHECK(e2 == Approx(-ed).epsilon(1e-8));
      }
    }
  }
}

TEST_CASE("denoiser: gaussian-noise posterior equals a brute-force z-integral", "[alg][denoiser]") {
  const double Delta = 0.3;
  alg::ScalarDenoiser den(model::Link::parse("z^2"), model::Noise::parse("gaussian:0.3"));
  for (double y : {-0.4, 0.5, 3.0}) {
    for (double omega : {0.0, 1.2}) {
      for (double V : {1.0, 0.01}) {
        auto lik = [&](double z) { return std::exp(-0.5 * (y - z * z) * (y - z * z) / Delta); };
        const double Z = gauss_expect(lik, omega, V);
        const double m = gauss_expect([&](double z) { return z * lik(z); }, omega, V) / Z;
        const double m2 = gauss_expect([&](double z) { return (z - m) * (z - m) * lik(z); }, omega, V) / Z;
        const auto p = den.posterior(y, omega, V);
        CHECK(p.mean == Approx(m).epsilon(1e-9).margin(1e-11));
        CHECK(p.var == Approx(m2).epsilon(1e-8));
        CHECK(p.log_evidence == Approx(std::log(Z) - 0.5 * std::log(2 * M_PI * Delta)).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("denoiser: resample and flip mixtures against their definitions", "[alg][denoiser]") {
  const double eps = 0.25;
  alg::ScalarDenoiser clean(model::Link::parse("z^2"), model::Noise{});
  alg::ScalarDenoiser mixed(model::Link::parse("z^2"), model::Noise::parse("resample:0.25"));
  // p(y) of y = z² is e^{−y/2}/√(2πy); the mixture weights are (1−ε)p(y|ω,V) and ε p(y).
  const double y = 1.7, omega = 0.8, V = 0.4;
  const auto c = clean.posterior(y, omega, V);
  const double py = std::exp(-y / 2) / std::sqrt(2 * M_PI * y);
  const double w1 = (1 - eps) * std::exp(c.log_evidence), w2 = eps * py;
  const double mean = (w1 * c.mean + w2 * omega) / (w1 + w2);
  const auto r = mixed.posterior(y, omega, V);
  CHECK(r.mean == Approx(mean).epsilon(1e-12));
  CHECK(r.log_evidence == Approx(std::log(w1 + w2)).epsilon(1e-12));

  alg::ScalarDenoiser flip(model::Link::parse("sign(z)"), model::Noise::parse("flip:0.1"));
  // y = +1: (1 − ε) N(ω,V) on (0, ∞) + ε N(ω,V) on (−∞, 0).
  const double s = std::sqrt(V), a = omega / s;
  const double Pp = Phi(a), Pm = Phi(-a);
  const double mp = omega + s * phi(a) / Pp, mm = omega - s * phi(a) / Pm;
  const double expected = (0.9 * Pp * mp + 0.1 * Pm * mm) / (0.9 * Pp + 0.1 * Pm);
  CHECK(flip.posterior(1.0, omega, V).mean == Approx(expected).epsilon(1e-12));
  CHECK_THROWS_AS(alg::ScalarDenoiser(model::Link::parse("z^2"), model::Noise::parse("flip:0.1")), InputError);
}

TEST_CASE("denoiser: ray route (k = 1) agrees with the scalar route", "[alg][denoiser]") {
  alg::ScalarDenoiser s(model::Link::parse("he(4,z)"), model::Noise{});
  alg::RayDenoiser r(model::Link::parse("he(4,z)"), model::Noise{});
  for (double y : {-3.0, 1.0, 5.0}) {
    const auto ls = s.prepare(y);
    const auto lr = r.prepare(y);
    for (double omega : {-0.5, 0.7}) {
      const auto ps = s.posterior(ls, omega, 0.6);
      const auto pr = r.posterior(lr, alg::GaussianPrior::make(Eigen::VectorXd::Constant(1, omega), Eigen::MatrixXd::Constant(1, 1, 0.6), 1e-14));
      CHECK(pr.mean(0) == Approx(ps.mean).epsilon(1e-9).margin(1e-10));
      CHECK(pr.cov(0, 0) == Approx(ps.var).epsilon(1e-8));
      CHECK(pr.g_out(0) == Approx(ps.g_out).epsilon(1e-8).margin(1e-9));
    }
  }
}

TEST_CASE("denoiser: k = 2 ray route for z1 z2 against the exact fibre parametrisation z2 = y/z1", "[alg][denoiser]") {
  // Co-area along the fibre parametrised by z1: ∫ δ(y − z1 z2) f(z) dz = ∫ f(z1, y/z1)/|z1| dz1.
  alg::RayDenoiser den(model::Link::parse("z1*z2"), model::Noise{});
  Eigen::MatrixXd V(2, 2);
  V << 0.7, 0.1, 0.1, 0.5;
  Eigen::VectorXd omega(2);
  omega << 0.4, -0.3;
  const auto prior = alg::GaussianPrior::make(omega, V, 1e-14);
  for (double y : {-1.1, 0.6, 2.5}) {
    auto density = [&](double z1, double z2) {
      Eigen::Vector2d d(z1 - omega(0), z2 - omega(1));
      return std::exp(-0.5 * d.dot(prior.V_inv * d)) / (2 * M_PI * std::sqrt(V.determinant()));
    };
    auto integ = [&](const std::function<double(double, double)>& f) {
      double total = 0;
      for (auto [a, b] : {std::pair{-40.0, 0.0}, std::pair{0.0, 40.0}}) {
        total += gauss::integrate([&](double z1) { return z1 == 0 ? 0.0 : f(z1, y / z1) * density(z1, y / z1) / std::fabs(z1); },
                                  a, b, {}, {1e-15, 1e-12, 4000})
                     .value;
      }
      return total;
    };
    const double Z = integ([](double, double) { return 1.0; });
    const double m1 = integ([](double a, double) { return a; }) / Z;
    const double m2 = integ([](double, double b) { return b; }) / Z;
    const auto p = den.posterior(den.prepare(y), prior);
    // Accuracy of the default 128-ray discretisation (docs/se.md): ~1e-3 relative.
    CHECK(std::exp(p.log_evidence) == Approx(Z).epsilon(3e-3));
    CHECK(p.mean(0) == Approx(m1).epsilon(3e-3).margin(2e-3));
    CHECK(p.mean(1) == Approx(m2).epsilon(3e-3).margin(2e-3));
  }
}

TEST_CASE("denoiser: k = 2 atoms of sign(z1 z2) are quadrant probabilities (diagonal V)", "[alg][denoiser]") {
  alg::RayDenoiser den(model::Link::parse("sign(z1*z2)"), model::Noise{});
  REQUIRE(den.atoms().size() == 2);
  Eigen::VectorXd omega(2);
  omega << 0.5, -0.2;
  Eigen::MatrixXd V = Eigen::Vector2d(0.6, 0.9).asDiagonal();
  const auto p = den.posterior(den.prepare(1.0), alg::GaussianPrior::make(omega, V, 1e-14));
  const double a = omega(0) / std::sqrt(0.6), b = omega(1) / std::sqrt(0.9);
  const double pp = Phi(a) * Phi(b), mm = Phi(-a) * Phi(-b);
  CHECK(std::exp(p.log_evidence) == Approx(pp + mm).epsilon(1e-3));
  const double m1 = (pp * (omega(0) + std::sqrt(0.6) * phi(a) / Phi(a)) + mm * (omega(0) - std::sqrt(0.6) * phi(a) / Phi(-a))) / (pp + mm);
  CHECK(p.mean(0) == Approx(m1).epsilon(2e-3));
}

TEST_CASE("denoiser: bad inputs are InputErrors naming the parameter", "[alg][denoiser]") {
  alg::DenoiserOptions o;
  o.radius = 2;
  try {
    alg::ScalarDenoiser(model::Link::parse("abs(z)"), model::Noise{}, o);
    FAIL("no throw");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "radius");
  }
  CHECK_THROWS_AS(alg::ScalarDenoiser(model::Link::parse("z1*z2"), model::Noise{}), InputError);
  CHECK_THROWS_AS(alg::RayDenoiser(model::Link::parse("z1*z2"), model::Noise::parse("gaussian:0.1")), InputError);
  alg::ScalarDenoiser den(model::Link::parse("abs(z)"), model::Noise{});
  CHECK_THROWS_AS(den.prepare(std::nan("")), InputError);
  CHECK_THROWS_AS(den.prepare(INFINITY), InputError);
}
