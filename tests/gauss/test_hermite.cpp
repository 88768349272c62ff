#include <cmath>

#include "catch_compat.hpp"
#include "deltacrit/gauss/hermite.hpp"
#include "deltacrit/gauss/quad.hpp"
#include "tolerances.hpp"

using namespace deltacrit;

TEST_CASE("Gauss-Hermite rule reproduces standard normal moments", "[gauss][hermite]") {
  // E[z^{2j}] = (2j − 1)!!, odd moments vanish; exact for 2j ≤ 2n − 1.
  for (int n : {1, 5, 20, 60}) {
    const auto& r = gauss::hermite_rule(n);
    REQUIRE(r.x.size() == static_cast<std::size_t>(n));
    double double_factorial = 1.0;
    for (int j = 0; 2 * j <= 2 * n - 1; ++j) {
      if (j > 0) double_factorial *= (2 * j - 1);
      double even = 0.0, odd = 0.0;
      for (int i = 0; i < n; ++i) {
        even += r.w[i] * std::pow(r.x[i], 2 * j);
        odd += r.w[i] * std::pow(r.x[i], 2 * j + 1);
      }
      CHECK(even == Approx(double_factorial).epsilon(test_tol::kQuadratureExact));
      CHECK(std::abs(odd) <= test_tol::kQuadratureExact * double_factorial * 10);
      if (j > 12) break;  // higher moments lose digits to cancellation in the check itself
    }
  }
}

TEST_CASE("Gauss-Hermite rejects out-of-range sizes", "[gauss][hermite]") {
  CHECK_THROWS_AS(gauss::hermite_rule(0), InputError);
  CHECK_THROWS_AS(gauss::hermite_rule(401), InputError);
  CHECK_THROWS_AS(gauss::hermite_tensor_rule(5, 4), InputError);
}

TEST_CASE("Tensor rule: E[z1^2 z2^4 z3^2] = 3 and weights sum to one", "[gauss][hermite]") {
  auto rule = gauss::hermite_tensor_rule(3, 6);
  double sum = 0.0, m = 0.0;
  for (std::size_t i = 0; i < rule.size(); ++i) {
    const double* z = &rule.x[i * 3];
    sum += rule.w[i];
    m += rule.w[i] * z[0] * z[0] * std::pow(z[1], 4) * z[2] * z[2];
  }
  CHECK(sum == Approx(1.0).epsilon(test_tol::kQuadratureExact));
  CHECK(m == Approx(3.0).epsilon(test_tol::kQuadratureExact));
}

TEST_CASE("Adaptive quadrature handles endpoint singularities and breakpoints", "[gauss][quad]") {
  // ∫_0^1 x^{−1/2} dx = 2; ∫_{−1}^{1} |x| dx = 1 with a kink at 0.
  auto r1 = gauss::integrate([](double x) { return 1.0 / std::sqrt(x); }, 0.0, 1.0);
  CHECK(r1.status == Status::success);
  CHECK(r1.value == Approx(2.0).epsilon(1e-10));
  auto r2 = gauss::integrate([](double x) { return std::abs(x); }, -1.0, 1.0, {0.0});
  CHECK(r2.value == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("Half-range Gauss-Hermite rule reproduces the half moments of N(0, 1)", "[gauss][hermite]") {
  // E[z^j; z > 0] = 2^{j/2} Γ((j + 1)/2) / (2√π), exact for j ≤ 2n − 1; every term is positive, so
  // the check loses no digits to cancellation.
  for (int n : {1, 2, 7, 12, 25, 40}) {
    const auto& r = gauss::half_hermite_rule(n);
    REQUIRE(r.x.size() == static_cast<std::size_t>(n));
    CHECK(r.x.front() > 0);
    for (int i = 1; i < n; ++i) CHECK(r.x[i] > r.x[i - 1]);
    for (int j = 0; j <= 2 * n - 1; ++j) {
      double q = 0.0;
      for (int i = 0; i < n; ++i) q += r.w[i] * std::pow(r.x[i], j);
      const double exact = std::pow(2.0, 0.5 * j) * std::tgamma(0.5 * (j + 1)) / (2.0 * std::sqrt(M_PI));
      CHECK(q == Approx(exact).epsilon(1e-12));
    }
  }
  // n = 1: the node is E[z | z > 0] = √(2/π) with weight 1/2.
  CHECK(gauss::half_hermite_rule(1).x[0] == Approx(std::sqrt(2.0 / M_PI)).epsilon(1e-14));
  CHECK(gauss::half_hermite_rule(1).w[0] == Approx(0.5).epsilon(1e-14));
  CHECK_THROWS_AS(gauss::half_hermite_rule(0), InputError);
  CHECK_THROWS_AS(gauss::half_hermite_rule(41), InputError);
}
