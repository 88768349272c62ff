// GAMP on finite-d data (simulate/gamp.hpp) against the state evolution (alg/se.hpp).
#include <cmath>
#include <vector>

#include "catch_compat.hpp"
#include "deltacrit/alg/se.hpp"
#include "deltacrit/simulate/gamp.hpp"
#include "deltacrit/simulate/sweep.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
namespace tol = deltacrit::test_tol;

namespace {
// Mean and standard error of the GAMP overlap over `seeds` seeds (sweep machinery, 2 threads).
std::pair<double, double> gamp_overlap(const char* link, double delta, int d, int seeds, double seed_overlap = 1e-12) {
  simulate::GampConfig cfg{model::Link::parse(link), model::Noise{}, {}};
  cfg.options.seed = seed_overlap;
  simulate::SweepOptions so;
  so.d = d;
  so.deltas = {delta};
  so.seeds = seeds;
  so.seed = 20261129;
  so.threads = 2;
  so.bootstrap = 0;
  const auto rep = simulate::run_sweep(so, simulate::gamp_kind(cfg));
  REQUIRE(rep.points.size() == 1);
  REQUIRE(rep.points[0].seeds >= seeds - 1);
  return {rep.points[0].overlap_mean, rep.points[0].overlap_stderr};
}
}  // namespace

TEST_CASE("gamp: sign(z) at d = 400 follows q*(delta) of the state evolution", "[simulate][gamp]") {
  alg::StateEvolution1D se(model::Link::parse("sign(z)"), model::Noise{});
  const double q = se.overlap(1.5).overlap;
  const auto [mean, err] = gamp_overlap("sign(z)", 1.5, 400, 4);
  // d = 400: finite-size allowance 2/√d = 0.1.
  CHECK(std::fabs(mean - q) < 3 * err + 0.1);
}

TEST_CASE("gamp: results do not depend on the thread count", "[simulate][gamp]") {
  const auto link = model::Link::parse("abs(z)");
  simulate::Parallel p1(1), p2(2);
  const auto data = simulate::generate_dataset(link, model::Noise{}, 300, 450, 7, p1);
  simulate::GampOptions o;
  o.max_iterations = 40;
  Rng r1 = make_rng(3), r2 = make_rng(3);
  const auto a = simulate::run_gamp(data, link, model::Noise{}, o, p1, r1);
  const auto b = simulate::run_gamp(data, link, model::Noise{}, o, p2, r2);
  CHECK(a.iterations == b.iterations);
  CHECK(a.W == b.W);
}

TEST_CASE("gamp: below delta_alg the estimate decays to the uninformative point", "[simulate][gamp]") {
  const auto link = model::Link::parse("abs(z)");
  simulate::Parallel par(2);
  const auto data = simulate::generate_dataset(link, model::Noise{}, 400, 120, 11, par);  // δ = 0.3 < 0.5
  simulate::GampOptions o;
  o.seed = 1e-4;
  Rng rng = make_rng(5);
  const auto r = simulate::run_gamp(data, link, model::Noise{}, o, par, rng);
  CHECK(r.status == Status::success);
  CHECK(r.Q(0, 0) < 1e-6);
}

TEST_CASE("gamp: bad options are InputErrors naming the option", "[simulate][gamp]") {
  simulate::GampOptions o;
  o.damping = 1.5;
  try {
    o.validate();
    FAIL("no throw");
  } catch (const InputError& e) {
    CHECK(e.parameter() == "--damping");
  }
  o = {};
  o.max_iterations = 0;
  CHECK_THROWS_AS(o.validate(), InputError);
  o = {};
  o.seed = 0;
  CHECK_THROWS_AS(o.validate(), InputError);
}

TEST_CASE("gamp: d = 2000 reproduces the state evolution within error bars", "[simulate][gamp][validation]") {
  // Points away from the thresholds, where the finite-d fixed point is reached reliably
  // (docs/se.md: at δ = 0.8 for |z| a fraction of the seeds ends on a non-informative finite-d
  // fixed point). Tolerance: 3 standard errors + the O(d^{-1/2}) finite-size allowance.
  struct Case {
    const char* link;
    double delta;
    int seeds;
  };
  for (const Case c : {Case{"abs(z)", 1.0, 8}, Case{"abs(z)", 1.5, 3}, Case{"sign(z)", 1.0, 3}, Case{"relu(z)", 0.5, 3}}) {
    INFO(c.link << " delta = " << c.delta);
    alg::StateEvolution1D se(model::Link::parse(c.link), model::Noise{});
    const double q = se.overlap(c.delta).overlap;
    const auto [mean, err] = gamp_overlap(c.link, c.delta, 2000, c.seeds);
    INFO("GAMP " << mean << " +- " << err << ", SE " << q);
    CHECK(std::fabs(mean - q) < 3 * err + tol::kGampFiniteSize);
  }
}
