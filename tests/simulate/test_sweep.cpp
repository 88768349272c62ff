// Sweep machinery: means and standard errors against direct computation, failure accounting,
// interruption, the JSON keys of issue 4, and the hinge-fit threshold estimator on planted data.
#include <cmath>
#include <limits>

#include "catch_compat.hpp"
#include "deltacrit/simulate/sweep.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

namespace {
// A kind with a known answer: overlap = δ/10 + ε_s with ε_s drawn from the seed stream.
SeedKind planted_kind() {
  return [](const SeedContext& ctx) {
    SeedResult r;
    std::normal_distribution<double> normal;
    const double eps = 0.01 * normal(ctx.rng);
    r.status = Status::success;
    r.overlap = ctx.delta / 10 + eps;
    r.overlap_matrix = Eigen::MatrixXd::Constant(1, 2, r.overlap);
    r.subspace_matrix = Eigen::MatrixXd::Constant(1, 1, r.overlap);
    r.values["scalar"] = {2.0 * ctx.seed_index};
    r.values["pair"] = {1.0, ctx.seed_index == 1 ? std::numeric_limits<double>::quiet_NaN() : 3.0};
    return r;
  };
}
}  // namespace

TEST_CASE("simulate/sweep: means and standard errors over seeds", "[simulate][sweep]") {
  SweepOptions opts;
  opts.d = 10;
  opts.deltas = {1.0, 2.0};
  opts.seeds = 4;
  opts.seed = 5;
  const SweepReport rep = run_sweep(opts, planted_kind());
  REQUIRE(rep.status == Status::success);
  REQUIRE(rep.points.size() == 2);
  for (const auto& p : rep.points) {
    CHECK(p.n == static_cast<std::size_t>(std::llround(p.delta * 10)));
    REQUIRE(p.runs.size() == 4);
    double m = 0, ss = 0;
    for (const auto& r : p.runs) m += r.overlap;
    m /= 4;
    for (const auto& r : p.runs) ss += (r.overlap - m) * (r.overlap - m);
    CHECK(p.overlap_mean == Approx(m).epsilon(1e-14));
    CHECK(p.overlap_stderr == Approx(std::sqrt(ss / 3 / 4)).epsilon(1e-12));
    CHECK(p.subspace_matrix_mean(0, 0) == Approx(m).epsilon(1e-14));
    CHECK(p.subspace_matrix_stderr(0, 0) == Approx(std::sqrt(ss / 3 / 4)).epsilon(1e-12));
    CHECK(p.values.at("scalar").mean[0] == Approx(3.0));  // (0 + 2 + 4 + 6)/4
    CHECK(p.values.at("pair").mean[1] == Approx(3.0));    // NaN entry skipped
    CHECK(p.values.at("pair").count[1] == 3);
  }
  // Common random numbers: seed s gets the same stream at every δ.
  CHECK(rep.points[1].runs[2].overlap - rep.points[0].runs[2].overlap == Approx(0.1).epsilon(1e-12));
}

TEST_CASE("simulate/sweep: failed seeds are counted, not averaged; interruption keeps finished seeds", "[simulate][sweep]") {
  SweepOptions opts;
  opts.d = 10;
  opts.deltas = {1.0, 2.0, 3.0};
  opts.seeds = 3;
  std::atomic<bool> stop{false};
  int calls = 0;
  const SeedKind kind = [&](const SeedContext& ctx) {
    ++calls;
    SeedResult r;
    if (ctx.seed_index == 1) {
      r.status = Status::numerical_issue;
      r.message = "diverged at step 3";
      return r;
    }
    r.status = Status::success;
    r.overlap = 0.5;
    if (calls == 4) stop.store(true);
    return r;
  };
  const SweepReport rep = run_sweep(opts, kind, {}, &stop);
  CHECK(rep.interrupted);
  CHECK(rep.status != Status::success);
  REQUIRE(rep.points.size() == 2);
  CHECK(rep.points[0].seeds == 2);
  CHECK(rep.points[0].seeds_failed == 1);
  CHECK(rep.points[0].overlap_mean == 0.5);
  CHECK(rep.points[0].status == Status::numerical_issue);
  CHECK(rep.points[1].runs.size() == 1);
  const auto j = report_json(rep, {{"link", "z^2"}}, "test");
  CHECK(j.at("interrupted") == true);
  CHECK(j.at("points").size() == 2);
  CHECK(j.at("points")[0].at("runs")[1].at("message") == "diverged at step 3");
}

// An interrupted sweep has not computed every requested δ: its status must not be success even
// when every finished seed succeeded (the same sweep run to the end is success).
TEST_CASE("simulate/sweep: an interrupted sweep of successful seeds is not success", "[simulate][sweep]") {
  SweepOptions opts;
  opts.d = 10;
  opts.deltas = {1.0, 2.0};
  opts.seeds = 2;
  for (bool interrupt : {false, true}) {
    CAPTURE(interrupt);
    std::atomic<bool> stop{false};
    int calls = 0;
    const SeedKind kind = [&](const SeedContext&) {
      SeedResult r;
      r.status = Status::success;
      r.overlap = 0.5;
      if (interrupt && ++calls == 1) stop.store(true);
      return r;
    };
    const SweepReport rep = run_sweep(opts, kind, {}, &stop);
    CHECK(rep.interrupted == interrupt);
    CHECK(rep.status == (interrupt ? Status::not_converged : Status::success));
    CHECK(report_json(rep, {}, "test").at("status") == (interrupt ? "not_converged" : "success"));
  }
}

TEST_CASE("simulate/sweep: JSON carries the keys of issue 4", "[simulate][sweep]") {
  SweepOptions opts;
  opts.d = 10;
  opts.deltas = {1.0};
  opts.seeds = 1;
  const SweepReport rep = run_sweep(opts, planted_kind());
  const auto j = report_json(rep, {{"link", "z^2"}, {"d", 10}}, "planted");
  for (const char* key : {"options", "status", "seconds", "points"}) CHECK(j.contains(key));
  CHECK(j.at("options").at("link") == "z^2");
  const auto& p = j.at("points")[0];
  for (const char* key : {"delta", "n", "d", "seeds", "overlap_mean", "overlap_stderr", "subspace_overlap_matrix", "scalar"})
    CHECK(p.contains(key));
  CHECK(p.at("overlap_stderr").is_null());  // one seed: no standard error, never a NaN
  CHECK(report_table(rep, "planted").find("overlap_mean") != std::string::npos);
  CHECK(report_csv(rep).find("delta,n,d,seeds") == 0);
}

TEST_CASE("simulate/sweep: the hinge fit recovers a planted threshold", "[simulate][sweep]") {
  // overlap_s(δ) = 0.02 + 0.4·max(0, δ − 1.3) + noise (sd 0.01), 10 seeds, δ on 0.5..3.
  std::vector<double> deltas;
  for (double x = 0.5; x <= 3.0001; x += 0.25) deltas.push_back(x);
  std::vector<std::vector<double>> ov(deltas.size());
  Rng rng = make_rng(12);
  std::normal_distribution<double> normal;
  for (std::size_t p = 0; p < deltas.size(); ++p)
    for (int s = 0; s < 10; ++s) ov[p].push_back(0.02 + 0.4 * std::max(0.0, deltas[p] - 1.3) + 0.01 * normal(rng));
  const ThresholdEstimate est = estimate_threshold(deltas, ov, 500, 3);
  REQUIRE(est.status == Status::success);
  CHECK(est.delta_c == Approx(1.3).margin(0.05));
  CHECK(est.lower <= 1.3);
  CHECK(est.upper >= 1.3);
  CHECK(est.upper - est.lower < 0.2);
  CHECK(est.slope == Approx(0.4).margin(0.02));
  // Flat data: no threshold.
  std::vector<std::vector<double>> flat(deltas.size(), std::vector<double>(3, 0.1));
  CHECK(estimate_threshold(deltas, flat, 100, 1).status == Status::not_computed);
}

TEST_CASE("simulate/sweep: bad sweep options name the option", "[simulate][sweep]") {
  auto expect = [](const char* option, SweepOptions o) {
    try {
      o.validate();
      FAIL("accepted bad " << option);
    } catch (const InputError& e) {
      CHECK(e.parameter() == option);
    }
  };
  SweepOptions ok;
  ok.deltas = {1.0};
  CHECK_NOTHROW(ok.validate());
  auto o = ok;
  o.d = 1;
  expect("--d", o);
  o = ok;
  o.deltas = {0.0};
  expect("--delta", o);
  o = ok;
  o.deltas = {-1.0};
  expect("--delta", o);
  o = ok;
  o.d = 10;
  o.deltas = {0.01};  // n = round(0.1) = 0
  expect("--delta", o);
  o = ok;
  o.seeds = 0;
  expect("--seeds", o);
  o = ok;
  o.threads = 0;
  expect("--threads", o);
  o = ok;
  o.max_seconds = -1;
  expect("--max-seconds", o);
}
