// Data generation: invariants (orthonormal Θ*, z = XΘ*, y = g(z)), Gaussian statistics, the noise
// channels' rates against their definitions, reproducibility across thread counts, bad input.
#include <cmath>

#include "catch_compat.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/simulate/data.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

TEST_CASE("simulate/data: Θ* orthonormal, z = XΘ*, y = g(z) without noise", "[simulate][data]") {
  Parallel par(2);
  const auto link = model::Link::parse("z1*z2");
  const Dataset data = generate_dataset(link, model::Noise{}, 300, 700, 42, par);
  REQUIRE(data.theta.rows() == 300);
  REQUIRE(data.theta.cols() == 2);
  const Eigen::MatrixXd gram = data.theta.transpose() * data.theta;
  CHECK((gram - Eigen::MatrixXd::Identity(2, 2)).norm() < test_tol::kRoundoff);
  const RowMatrix z = data.train.X * data.theta;
  CHECK((z - data.train.z).norm() < test_tol::kRoundoff * z.norm());
  for (Eigen::Index i = 0; i < 700; ++i) CHECK(data.train.y[i] == z(i, 0) * z(i, 1));
}

TEST_CASE("simulate/data: entries of X are standard Gaussian", "[simulate][data]") {
  Parallel par(1);
  const Dataset data = generate_dataset(model::Link::parse("z^2"), model::Noise{}, 200, 1000, 7, par);
  const double N = 200.0 * 1000.0;
  const double mean = data.train.X.mean();
  const double var = data.train.X.array().square().mean() - mean * mean;
  const double m4 = data.train.X.array().pow(4).mean();
  // Standard errors: sd(mean) = 1/√N; sd(var) = √(2/N); sd(m4) = √(96/N) (E x⁸ − (E x⁴)² = 105 − 9).
  CHECK(std::fabs(mean) < 5.0 / std::sqrt(N));
  CHECK(std::fabs(var - 1.0) < 5.0 * std::sqrt(2.0 / N));
  CHECK(std::fabs(m4 - 3.0) < 5.0 * std::sqrt(96.0 / N));
  // z = Θ*ᵀx ~ N(0, 1) too.
  const double zvar = data.train.z.array().square().mean();
  CHECK(std::fabs(zvar - 1.0) < 5.0 * std::sqrt(2.0 / 1000.0));
}

TEST_CASE("simulate/data: bit-identical for any thread count", "[simulate][data]") {
  Parallel one(1), two(2), three(3);
  const auto link = model::Link::parse("z^2");
  const auto noise = model::Noise::parse("gaussian:0.5");
  const Dataset a = generate_dataset(link, noise, 123, 1500, 99, one);
  const Dataset b = generate_dataset(link, noise, 123, 1500, 99, two);
  const Dataset c = generate_dataset(link, noise, 123, 1500, 99, three);
  CHECK(a.train.X == b.train.X);
  CHECK(a.train.X == c.train.X);
  CHECK(a.train.y == b.train.y);
  CHECK(a.train.y == c.train.y);
  CHECK(a.theta == c.theta);
  const Dataset other = generate_dataset(link, noise, 123, 1500, 100, two);
  CHECK(other.train.X != a.train.X);
}

TEST_CASE("simulate/data: noise channels have their nominal rates", "[simulate][data]") {
  Parallel par(2);
  const int d = 20;
  const std::size_t n = 40000;
  // Rates are binomial proportions: tolerance 5 standard errors √(ε(1−ε)/n).
  SECTION("flip") {
    const double eps = 0.2;
    const auto link = model::Link::parse("sign(z)");
    const Dataset data = generate_dataset(link, model::Noise::parse("flip:0.2"), d, n, 3, par);
    std::size_t flipped = 0;
    for (Eigen::Index i = 0; i < data.train.y.size(); ++i) {
      const double z = data.train.z(i, 0);
      CHECK(std::fabs(data.train.y[i]) == 1.0);
      if (data.train.y[i] != (z > 0 ? 1.0 : -1.0)) ++flipped;
    }
    CHECK(std::fabs(double(flipped) / n - eps) < 5.0 * std::sqrt(eps * (1 - eps) / n));
  }
  SECTION("erase drops samples") {
    const double eps = 0.3;
    const Dataset data = generate_dataset(model::Link::parse("z^2"), model::Noise::parse("erase:0.3"), d, n, 4, par);
    CHECK(data.train.n_generated == n);
    const double kept = static_cast<double>(data.train.n()) / n;
    CHECK(std::fabs(kept - (1 - eps)) < 5.0 * std::sqrt(eps * (1 - eps) / n));
    // The kept samples are still consistent: z = XΘ*, y = z².
    const RowMatrix z = data.train.X * data.theta;
    CHECK((z - data.train.z).norm() < test_tol::kRoundoff * z.norm());
    CHECK((data.train.y.array() - z.col(0).array().square()).abs().maxCoeff() == 0.0);
  }
  SECTION("resample") {
    const double eps = 0.25;
    const Dataset data = generate_dataset(model::Link::parse("z^2"), model::Noise::parse("resample:0.25"), d, n, 5, par);
    std::size_t changed = 0;
    for (Eigen::Index i = 0; i < data.train.y.size(); ++i) {
      const double z = data.train.z(i, 0);
      if (data.train.y[i] != z * z) ++changed;
    }
    CHECK(std::fabs(double(changed) / n - eps) < 5.0 * std::sqrt(eps * (1 - eps) / n));
    // The replaced labels follow the marginal of y = z² (chi-square, mean 1).
    CHECK(std::fabs(data.train.y.mean() - 1.0) < 5.0 * std::sqrt(2.0 / n));
  }
  SECTION("gaussian") {
    const double var = 0.5;
    const Dataset data = generate_dataset(model::Link::parse("z^2"), model::Noise::parse("gaussian:0.5"), d, n, 6, par);
    double s2 = 0.0, s1 = 0.0;
    for (Eigen::Index i = 0; i < data.train.y.size(); ++i) {
      const double z = data.train.z(i, 0);
      const double e = data.train.y[i] - z * z;
      s1 += e;
      s2 += e * e;
    }
    CHECK(std::fabs(s1 / n) < 5.0 * std::sqrt(var / n));
    CHECK(std::fabs(s2 / n - var) < 5.0 * var * std::sqrt(2.0 / n));
  }
}

TEST_CASE("simulate/data: bad input names the option", "[simulate][data]") {
  Parallel par(1);
  const auto link = model::Link::parse("z^2");
  try {
    generate_dataset(link, model::Noise{}, 1, 10, 1, par);
    FAIL("d = 1 accepted");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "d");
  }
  try {
    generate_dataset(link, model::Noise{}, 10, 0, 1, par);
    FAIL("n = 0 accepted");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "n");
  }
  try {
    generate_dataset(link, model::Noise::parse("flip:0.1"), 10, 50, 1, par);
    FAIL("flip noise on non-binary labels accepted");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "noise");
    CHECK(std::string(e.what()).find("{-1, +1}") != std::string::npos);
  }
  try {
    generate_dataset(model::Link::parse("z1*z2*z3"), model::Noise{}, 2, 50, 1, par);
    FAIL("d < k accepted");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "d");
  }
}

