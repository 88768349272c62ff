#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/activation.hpp"
#include "deltacrit/model/expression.hpp"
#include "deltacrit/model/link.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using model::Expression;
using model::Link;

TEST_CASE("Expressions evaluate built-in and added functions", "[model][expression]") {
  Expression e("relu(x) + he(3, x) + log(exp(2)) + pow(x, 2) + sign(-x) + step(x)", {"x"}, "test");
  const double x = 1.5;
  // relu(1.5) = 1.5; He_3(x) = x³ − 3x; log is natural; sign(−1.5) = −1; step(1.5) = 1.
  const double expected = 1.5 + (x * x * x - 3 * x) + 2.0 + x * x - 1.0 + 1.0;
  std::vector<double> v{x};
  CHECK(e(v) == Approx(expected).epsilon(1e-14));
  CHECK(e.used_variables() == std::vector<std::string>{"x"});
}

TEST_CASE("Expression errors quote the text and the position", "[model][expression]") {
  try {
    Expression e("z1*+", {"z1"}, "link");
    FAIL("no exception");
  } catch (const InputError& err) {
    CHECK(err.parameter() == "link");
    CHECK(std::string(err.what()).find("'z1*+'") != std::string::npos);
    CHECK(std::string(err.what()).find("position") != std::string::npos);
  }
  try {
    Expression e("w + 1", {"z"}, "link");
    FAIL("no exception");
  } catch (const InputError& err) {
    CHECK(std::string(err.what()).find("unknown name 'w'") != std::string::npos);
  }
  CHECK_THROWS_AS(Expression("  ", {"z"}, "link"), InputError);
}

TEST_CASE("Malformed expressions get a plain description and a position inside the text", "[model][expression]") {
  // Each row: the text, the 1-based position of the offending character (counted by hand), and a
  // phrase the message must contain.
  struct Row {
    const char* text;
    int position;
    const char* phrase;
  };
  const Row rows[] = {
      {"z1*+", 4, "unexpected end of expression after '+'"},
      {"z1*", 3, "unexpected end of expression after '*'"},
      {"+", 1, "unexpected end of expression after '+'"},
      {"(z1+z2", 1, "'(' is never closed"},
      {"z1*(z2", 4, "'(' is never closed"},
      {"z1)", 3, "unexpected ')'"},
      {"z1 z2", 4, "unexpected variable 'z2'"},
      {"z1**z2", 4, "unexpected operator '*'"},
      {"sin(z1,z2)", 1, "too many arguments for function 'sin'"},
      {"he(2)", 1, "too few arguments for function 'he'"},
      {"z1#2", 3, "unexpected character '#'"},
      {"z1,z2", 3, "',' outside a function call"},
      {"foo(z1)", 1, "unknown function 'foo'"},
      {"3..2", 3, "unexpected number '.2'"},
      {"z1?z2", 3, "'?' without a ':'"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    try {
      Expression e(row.text, {"z1", "z2"}, "link");
      FAIL("no exception");
    } catch (const InputError& err) {
      const std::string what = err.what();
      INFO(what);
      CHECK(err.parameter() == "link");
      CHECK(what.rfind("link: cannot parse '" + std::string(row.text) + "'", 0) == 0);
      CHECK(what.find("at position " + std::to_string(row.position) + ":") != std::string::npos);
      CHECK(what.find(row.phrase) != std::string::npos);
      CHECK(what.find("Internal error") == std::string::npos);
      const std::size_t len = std::string(row.text).size();
      CHECK(row.position >= 1);
      CHECK(static_cast<std::size_t>(row.position) <= len);
      // The caret line points at the same character.
      const std::size_t caret = what.rfind('^');
      const std::size_t line = what.rfind('\n', caret);
      REQUIRE(caret != std::string::npos);
      CHECK(caret - line - 1 == 4 + static_cast<std::size_t>(row.position - 1));
    }
  }
}

TEST_CASE("Link infers k and rejects inconsistent or non-finite links", "[model][link]") {
  CHECK(Link::parse("z^2").k() == 1);
  CHECK(Link::parse("z1*z2").k() == 2);
  CHECK(Link::parse("sign(z1*z2*z3)").k() == 3);
  CHECK(Link::parse("z1*z2", 3).k() == 3);
  CHECK_THROWS_AS(Link::parse("z1*z2", 1), InputError);
  CHECK_THROWS_AS(Link::parse("z + z2"), InputError);
  CHECK_THROWS_AS(Link::parse("z4"), InputError);
  CHECK_THROWS_AS(Link::parse("z", 4), InputError);
  CHECK_THROWS_AS(Link::parse("log(z)"), InputError);
  CHECK_THROWS_AS(Link::parse("sqrt(z1)*z2"), InputError);
  Link l = Link::parse("z1*z2 + z3");
  const double z[3] = {2.0, 3.0, -1.0};
  CHECK(l(z) == 5.0);
  Link copy = l;  // independent parser storage
  const double w[3] = {1.0, 1.0, 1.0};
  CHECK(copy(w) == 2.0);
  CHECK(l(z) == 5.0);
}

TEST_CASE("Link lists the latents its expression does not use", "[model][link]") {
  CHECK(Link::parse("z^2").unused_latents().empty());
  CHECK(Link::parse("z1*z2").unused_latents().empty());
  CHECK(Link::parse("z1*z3").unused_latents() == std::vector<int>{2});
  CHECK(Link::parse("z1^2", 3).unused_latents() == std::vector<int>{2, 3});
  CHECK(Link::parse("sign(z1*z2*z3)").unused_latents().empty());
}

TEST_CASE("Noise specifications parse with ranges", "[model][noise]") {
  using model::Noise;
  CHECK(Noise::parse("gaussian:0.25").kind == Noise::Kind::gaussian);
  CHECK(Noise::parse("gaussian:0.25").param == 0.25);
  CHECK(Noise::parse("none").kind == Noise::Kind::none);
  CHECK(Noise::parse("erase:0.1").kind == Noise::Kind::erase);
  CHECK_THROWS_AS(Noise::parse("gaussian:-1"), InputError);
  CHECK_THROWS_AS(Noise::parse("flip:0.5"), InputError);
  CHECK_THROWS_AS(Noise::parse("erase:1"), InputError);
  CHECK_THROWS_AS(Noise::parse("cauchy:1"), InputError);
  CHECK_THROWS_AS(Noise::parse("gaussian:abc"), InputError);
}

TEST_CASE("Activation and loss derivatives match finite differences", "[model][activation]") {
  const double h = 1e-5;
  for (const char* name : {"tanh", "erf", "quadratic", "he:3", "softplus", "logcosh", "relu"}) {
    auto a = model::Activation::parse(name);
    for (double x : {-2.3, -0.7, 0.4, 1.9}) {
      INFO(name << " at " << x);
      const double fd1 = (a.value(x + h) - a.value(x - h)) / (2 * h);
      const double fd2 = (a.d1(x + h) - a.d1(x - h)) / (2 * h);
      CHECK(a.d1(x) == Approx(fd1).margin(test_tol::kFiniteDifference));
      CHECK(a.d2(x) == Approx(fd2).margin(test_tol::kFiniteDifference));
    }
  }
  CHECK_THROWS_AS(model::Activation::parse("he:9"), InputError);
  CHECK_THROWS_AS(model::Activation::parse("sigmoidal"), InputError);
  for (const char* name : {"square", "logistic"}) {
    auto l = model::Loss::parse(name);
    for (double y : {-1.0, 1.0}) {
      for (double f : {-1.2, 0.3, 2.5}) {
        const double fd1 = (l.value(y, f + h) - l.value(y, f - h)) / (2 * h);
        const double fd2 = (l.d1(y, f + h) - l.d1(y, f - h)) / (2 * h);
        CHECK(l.d1(y, f) == Approx(fd1).margin(test_tol::kFiniteDifference));
        CHECK(l.d2(y, f) == Approx(fd2).margin(test_tol::kFiniteDifference));
      }
    }
  }
}

// The fused evaluation (one tanh/exp for σ, σ', σ'') must equal the separate ones up to round-off,
// also far in the tails where 1 − tanh² cancels (there the fused sech² = 4e/(1 + e)² is the more
// accurate; the separate d2 loses relative accuracy but not absolute).
TEST_CASE("fused activation value, d1, d2 equal the separate ones", "[model][activation]") {
  for (const char* name : {"tanh", "erf", "quadratic", "he:3", "softplus", "logcosh", "relu"}) {
    const auto a = model::Activation::parse(name);
    for (double x : {-40.0, -7.5, -2.3, -0.7, 0.0, 1e-9, 0.4, 1.9, 9.0, 40.0}) {
      INFO(name << " at " << x);
      double d1 = 0.0, d2 = 0.0;
      const double v = a.value_d1_d2(x, &d1, &d2);
      CHECK(v == Approx(a.value(x)).epsilon(1e-14).margin(1e-300));
      CHECK(d1 == Approx(a.d1(x)).epsilon(1e-14).margin(1e-15));
      CHECK(d2 == Approx(a.d2(x)).epsilon(1e-13).margin(1e-15));
    }
  }
}

// tanh's σ, σ' = sech², σ'' = −2 tanh sech² against long-double closed forms (tanhl, 1/coshl²) to
// a few ulp in relative terms, on both sides of the switch at |x| = 0.55 between std::tanh and the
// exp form and far in the tails (where 1 − tanh² would keep only its absolute accuracy).
TEST_CASE("tanh and its derivatives are accurate to a few ulp", "[model][activation]") {
  const auto a = model::Activation::parse("tanh");
  std::vector<double> xs = {1e-300, 1e-9, 0.1, 0.5499999999, 0.55, 0.5500000001, 1.0, 3.0, 10.0, 19.0, 40.0, 300.0};
  for (int i = 1; i <= 400; ++i) xs.push_back(0.01 * i);
  for (const double x0 : xs) {
    for (const double x : {x0, -x0}) {
      INFO("x = " << x);
      const long double tl = std::tanh(static_cast<long double>(x));
      const long double cl = std::cosh(static_cast<long double>(x));
      const long double s2 = 1.0L / (cl * cl);
      double d1 = 0.0, d2 = 0.0;
      const double v = a.value_d1_d2(x, &d1, &d2);
      const double tol = 4.0 * std::numeric_limits<double>::epsilon();
      CHECK(std::fabs(v - static_cast<double>(tl)) <= tol * std::fabs(static_cast<double>(tl)));
      CHECK(std::fabs(d1 - static_cast<double>(s2)) <= tol * static_cast<double>(s2));
      const double d2_ref = static_cast<double>(-2.0L * tl * s2);
      CHECK(std::fabs(d2 - d2_ref) <= 2.0 * tol * std::fabs(d2_ref));
      CHECK(a.value(x) == v);
      CHECK(a.d1(x) == d1);
      CHECK(a.d2(x) == d2);
    }
  }
}

// The suprema of |σ|, |σ'|, |σ''| used by the fixed-point prox's convexity certificate: a dense
// grid on [−30, 30] (step 1e-4) must stay below each bound and reach it to 1e-7, and the unbounded
// ones must be +inf.
TEST_CASE("activation suprema bound a dense grid and are attained", "[model][activation]") {
  const double inf = std::numeric_limits<double>::infinity();
  for (const char* name : {"tanh", "erf", "softplus", "logcosh", "quadratic", "he:3", "relu"}) {
    INFO(name);
    const auto a = model::Activation::parse(name);
    double mv = 0.0, m1 = 0.0, m2 = 0.0;
    for (int i = -300000; i <= 300000; ++i) {
      const double x = 1e-4 * i;
      mv = std::max(mv, std::fabs(a.value(x)));
      m1 = std::max(m1, std::fabs(a.d1(x)));
      m2 = std::max(m2, std::fabs(a.d2(x)));
    }
    const double bounds[3] = {a.sup_abs_value(), a.sup_abs_d1(), a.sup_abs_d2()};
    const double grid[3] = {mv, m1, m2};
    for (int q = 0; q < 3; ++q) {
      INFO("derivative order " << q);
      if (std::isinf(bounds[q])) continue;
      CHECK(grid[q] <= bounds[q] * (1 + 1e-15));
      CHECK(grid[q] >= bounds[q] - 1e-7);
    }
  }
  CHECK(model::Activation::parse("softplus").sup_abs_value() == inf);
  CHECK(model::Activation::parse("logcosh").sup_abs_value() == inf);
  CHECK(model::Activation::parse("quadratic").sup_abs_d1() == inf);
  CHECK(model::Activation::parse("he:3").sup_abs_d2() == inf);
  CHECK(model::Activation::parse("relu").sup_abs_d2() == inf);
}

// The ranges of σ and σ'' on an interval used by the interval convexity certificate of the
// fixed-point prox: on intervals with ends drawn from a fixed grid over [−9, 9] (around and away
// from the critical points), a dense sampling of the interval (10⁴ points plus the ends) must lie
// within each range (to round-off: 1e-14) and reach both of its ends to 1e-6 (the sampling's
// spacing, ≤ 1.8e-3, misses an interior extreme by up to ~5e-7); unavailable ranges are (−∞, +∞).
TEST_CASE("activation ranges on an interval hold and are attained", "[model][activation]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double ends[] = {-9.0, -3.1, -1.0, -0.7, -0.6584789484624085, -0.3, 0.0, 0.2, 0.65, 0.9, 1.0, 1.7, 4.0, 9.0};
  for (const char* name : {"tanh", "erf", "softplus", "logcosh", "quadratic", "relu"}) {
    const auto act = model::Activation::parse(name);
    for (const double a : ends) {
      for (const double b : ends) {
        if (b < a) continue;
        INFO(name << " on [" << a << ", " << b << "]");
        const auto [v, s] = act.ranges(a, b);
        double v_lo = inf, v_hi = -inf, s_lo = inf, s_hi = -inf;
        for (int i = 0; i <= 10000; ++i) {
          const double x = i == 10000 ? b : a + (b - a) * i / 10000.0;
          v_lo = std::min(v_lo, act.value(x));
          v_hi = std::max(v_hi, act.value(x));
          s_lo = std::min(s_lo, act.d2(x));
          s_hi = std::max(s_hi, act.d2(x));
        }
        // The ends are evaluated by value_d1_d2, equal to value() and d2() up to round-off.
        const double ro = 1e-14;
        CHECK(v.lo <= v_lo + ro * (1 + std::fabs(v_lo)));
        CHECK(v.hi >= v_hi - ro * (1 + std::fabs(v_hi)));
        CHECK(v_lo - v.lo <= 1e-6);
        CHECK(v.hi - v_hi <= 1e-6);
        if (std::string(name) == "relu") {
          CHECK(s.lo == -inf);
          CHECK(s.hi == inf);
          continue;
        }
        CHECK(s.lo <= s_lo + ro);
        CHECK(s.hi >= s_hi - ro);
        CHECK(s_lo - s.lo <= 1e-6);
        CHECK(s.hi - s_hi <= 1e-6);
      }
    }
  }
  const auto he = model::Activation::parse("he:3");
  CHECK(he.ranges(0.0, 1.0).value.lo == -inf);
  CHECK(he.ranges(0.0, 1.0).d2.hi == inf);
  const auto th = model::Activation::parse("tanh");
  CHECK(th.ranges(0.0, inf).d2.lo == -inf);
  CHECK(th.ranges(1.0, 0.0).value.hi == inf);  // reversed ends
}
