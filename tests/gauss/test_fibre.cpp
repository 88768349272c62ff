#include <cmath>
#include <vector>

#include "catch_compat.hpp"
#include "deltacrit/gauss/fibre.hpp"

using deltacrit::gauss::Fibre1D;

namespace {
std::vector<double> roots_of(const Fibre1D& fib, double y) {
  std::vector<Fibre1D::Preimage> pre;
  fib.preimages(y, pre);
  std::vector<double> r;
  for (auto& p : pre) r.push_back(p.r);
  std::sort(r.begin(), r.end());
  return r;
}
}  // namespace

TEST_CASE("Fibre1D: z^2 has two monotone pieces and preimages ±sqrt(y) with slope 2 sqrt(y)", "[gauss][fibre]") {
  Fibre1D fib([](double z) { return z * z; }, -8.0, 8.0);
  REQUIRE(fib.pieces().size() == 2);
  CHECK(fib.plateaus().empty());
  CHECK(std::fabs(fib.pieces()[0].hi) < 1e-7);  // the critical point 0, refined by Brent
  std::vector<Fibre1D::Preimage> pre;
  fib.preimages(2.0, pre);
  REQUIRE(pre.size() == 2);
  for (auto& p : pre) {
    CHECK(std::fabs(std::fabs(p.r) - std::sqrt(2.0)) < 1e-14);
    CHECK(p.abs_slope == Approx(2 * std::sqrt(2.0)).epsilon(1e-11));
  }
}

TEST_CASE("Fibre1D: He_4 has four preimages below its local max and two above", "[gauss][fibre]") {
  // He_4(z) = z⁴ − 6z² + 3: critical points 0, ±√3; local max He_4(0) = 3, minima −6.
  auto he4 = [](double z) { return z * z * z * z - 6 * z * z + 3; };
  Fibre1D fib(he4, -9.0, 9.0);
  CHECK(fib.pieces().size() == 4);
  auto cv = fib.critical_values();
  CHECK(std::find_if(cv.begin(), cv.end(), [](double v) { return std::fabs(v + 6) < 1e-10; }) != cv.end());
  CHECK(std::find_if(cv.begin(), cv.end(), [](double v) { return std::fabs(v - 3) < 1e-10; }) != cv.end());
  for (double y : {-5.0, 0.0, 2.9}) {
    auto r = roots_of(fib, y);
    REQUIRE(r.size() == 4);
    // z² = 3 ± √(6 + y).
    CHECK(r[3] == Approx(std::sqrt(3 + std::sqrt(6 + y))).epsilon(1e-13));
    CHECK(r[2] == Approx(std::sqrt(3 - std::sqrt(6 + y))).epsilon(1e-12));
  }
  CHECK(roots_of(fib, 10.0).size() == 2);
}

TEST_CASE("Fibre1D: plateaus of relu, min(z^2,4) and sign are atoms with exact ends", "[gauss][fibre]") {
  Fibre1D relu([](double z) { return z > 0 ? z : 0.0; }, -7.3, 7.9);
  REQUIRE(relu.plateaus().size() == 1);
  CHECK(relu.plateaus()[0].value == 0.0);
  CHECK(std::fabs(relu.plateaus()[0].hi) < 1e-15);
  REQUIRE(relu.pieces().size() == 1);
  auto r = roots_of(relu, 0.5);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == Approx(0.5).epsilon(1e-15));

  Fibre1D clip([](double z) { return std::min(z * z, 4.0); }, -9.0, 9.0);
  REQUIRE(clip.plateaus().size() == 2);
  CHECK(std::fabs(clip.plateaus()[0].hi + 2.0) < 1e-14);
  CHECK(std::fabs(clip.plateaus()[1].lo - 2.0) < 1e-14);

  Fibre1D sgn([](double z) { return z > 0 ? 1.0 : (z < 0 ? -1.0 : 0.0); }, -8.0, 8.0);
  CHECK(sgn.pieces().size() <= 1);  // at most the jump cell, which has no preimages
  CHECK(sgn.plateaus().size() == 2);
  CHECK(roots_of(sgn, 0.3).empty());
}

TEST_CASE("Fibre1D: a jump inside a monotone run gives no false preimage", "[gauss][fibre]") {
  // z + sign(z) jumps from −1 to 1 at 0: values in (−1, 1) have no preimage.
  Fibre1D fib([](double z) { return z + (z > 0 ? 1.0 : -1.0); }, -8.0, 8.0);
  CHECK(roots_of(fib, 0.5).empty());
  auto r = roots_of(fib, 2.5);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == Approx(1.5).epsilon(1e-14));
}
