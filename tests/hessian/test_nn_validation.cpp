// Issue 5, validation items 2–4 (tag [validation]): the δ_NN prediction against the finite-d
// simulator (Hessian spectrum at d = 800, gradient descent) and against δ_alg.
//
// Phase-1 point: the initialisation (init law). W is drawn uniformly on the sphere of radius S and
// orthogonal to θ_h (--freeze-hard), so u = Wᵀx has exactly the law N(0, WᵀW), WᵀW = S²I + O(S²/√d):
// the prediction and the experiment share the phase-1 law up to O(d^{-1/2}), and the comparison
// tests (R1)/(R2) and the escape mechanism.
#include <cmath>

#include "catch_compat.hpp"
#include "deltacrit/hessian/nn.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "deltacrit/simulate/hessian.hpp"
#include "tolerances.hpp"

using namespace deltacrit;

namespace {

struct Config {
  const char* activation;
  std::vector<double> a;
  double init_scale;
  double ridge;
};

hessian::Analyzer analyzer_for(const Config& c, const char* link_text, int u_points = 0) {
  const auto teacher = phase1::teacher_nodes(model::Link::parse(link_text), model::Noise{});
  const phase1::Network net(model::Activation::parse(c.activation), model::Loss::parse("square"), c.a);
  const phase1::InitSpec init{c.init_scale == 0 ? phase1::InitSpec::Kind::small : phase1::InitSpec::Kind::random,
                              c.init_scale};
  phase1::InitLawOptions io;
  io.u_rule.hermite_points = u_points;
  auto law = phase1::init_law(teacher, static_cast<int>(c.a.size()), init, io);
  hessian::NNOptions opt;
  opt.ridge = c.ridge;
  opt.hard = {0};
  return hessian::Analyzer(net, opt, hessian::constant_law(std::move(law)));
}

simulate::GdOptions gd_options(const Config& c) {
  simulate::GdOptions o;
  o.activation = model::Activation::parse(c.activation);
  o.loss = model::Loss::parse("square");
  o.width = static_cast<int>(c.a.size());
  o.second_layer.a = c.a;
  o.init = phase1::InitSpec{c.init_scale < 0.05 ? phase1::InitSpec::Kind::small : phase1::InitSpec::Kind::random,
                            c.init_scale};
  o.ridge = c.ridge;
  o.hard = {1};
  o.test_size = 0;
  return o;
}

struct FiniteD {
  double lambda = 0.0, overlap = 0.0;
};

// Lowest eigenpair of the finite-d Hessian at the initialisation point (zero GD steps).
FiniteD finite_d_hessian(const Config& c, const char* link_text, int d, double delta, std::uint64_t seed) {
  simulate::Parallel parallel(2);
  const auto link = model::Link::parse(link_text);
  const auto data = simulate::generate_dataset(link, model::Noise{}, d, static_cast<std::size_t>(std::lround(delta * d)),
                                               seed, parallel);
  auto o = gd_options(c);
  o.steps = 0;
  o.freeze_hard = true;
  const auto run = simulate::train_gd(data, nullptr, o, seed, parallel);
  REQUIRE(run.status == Status::success);
  simulate::HessianOperator H(data.train, run.Wt, c.a, o.activation, o.loss, c.ridge, parallel);
  simulate::HessianOptions ho;
  ho.nev = 2;
  Rng rng = make_rng(seed, 7);
  const auto res = simulate::hessian_spectrum(H, data.theta, {1}, ho, rng);
  REQUIRE(res.status == Status::success);
  return {res.eigenvalues[0], res.hard_overlaps[0]};
}

}  // namespace

// Issue 5, validation 2. Three configurations (σ, m ∈ {1, 2, 4}), each above δ_BBP (outlier) and
// comfortably below it (no outlier). Tolerance from finite size: an isolated outlier and its
// squared overlap fluctuate by O(d^{-1/2}) in units of the spectral scale w = max(|λ_out|, |ζ₋|)
// (one seed here; measured seed-to-seed spread at d = 800 is ≤ 0.04·w). We allow 3/√d·w for the
// eigenvalue and 3/√d for the overlap; below the threshold the lowest eigenvector must carry no
// macroscopic overlap (< 0.15 at d = 800). For m ≥ 3 the Gauss–Hermite rule for u converges slowly
// and from opposite sides for even and odd node counts (docs/nn.md): the prediction is the mean of
// the 8- and 9-node rules and half their difference is added to the tolerance.
TEST_CASE("finite-d Hessian at the init point matches (R1)/(R2)", "[validation][hessian][nn][finite-d]") {
  const int d = 800;
  const double tol = 3.0 / std::sqrt(static_cast<double>(d));
  struct Case {
    Config c;
    double above, below;
  };
  const std::vector<Case> cases = {
      {{"quadratic", {1.0, 0.5}, 1.0, 0.2}, 16.0, 0.7},
      {{"logcosh", {1.0}, 1.0, 0.0}, 8.0, 0.8},
      {{"logcosh", {0.25, 0.25, 0.25, 0.25}, 1.0, 0.0}, 8.0, 0.45},
  };
  for (const auto& cs : cases) {
    INFO(cs.c.activation << " m = " << cs.c.a.size());
    auto an = analyzer_for(cs.c, "min(z^2, 4)");
    const auto th = an.thresholds();
    REQUIRE(th.bbp.status == Status::success);
    REQUIRE(cs.below < 0.8 * th.bbp.value);
    REQUIRE(cs.above > 2.0 * th.bbp.value);
    auto p = an.point(cs.above);
    REQUIRE(p.outlier);
    double quad_lambda = 0.0, quad_overlap = 0.0;
    if (cs.c.a.size() >= 3) {
      const auto p8 = analyzer_for(cs.c, "min(z^2, 4)", 8).point(cs.above);
      const auto p9 = analyzer_for(cs.c, "min(z^2, 4)", 9).point(cs.above);
      REQUIRE((p8.outlier && p9.outlier));
      p.lambda_out = 0.5 * (p8.lambda_out + p9.lambda_out);
      p.overlap = 0.5 * (p8.overlap + p9.overlap);
      p.bulk_edge = 0.5 * (p8.bulk_edge + p9.bulk_edge);
      quad_lambda = 0.5 * std::fabs(p8.lambda_out - p9.lambda_out);
      quad_overlap = 0.5 * std::fabs(p8.overlap - p9.overlap);
    }
    const double w = std::max(std::fabs(p.lambda_out), std::fabs(p.bulk_edge));
    const FiniteD fd = finite_d_hessian(cs.c, "min(z^2, 4)", d, cs.above, 11);
    CHECK(std::fabs(fd.lambda - p.lambda_out) <= tol * w + quad_lambda);
    CHECK(std::fabs(fd.overlap - p.overlap) <= tol + quad_overlap);
    const auto q = an.point(cs.below);
    CHECK_FALSE(q.outlier);
    const FiniteD fb = finite_d_hessian(cs.c, "min(z^2, 4)", d, cs.below, 12);
    CHECK(fb.overlap < 0.15);
  }
}

// Issue 5, validation 3. At the small-init saddle W ≈ 0 with σ'(0) = 0 (quadratic, log cosh) the
// escape along θ_h is driven by the negative outlier: above δ_NN gradient descent reaches a hard
// overlap > 0.3, the escape (overlap 0.1) within a factor 3 of the predicted time log d/(2r),
// r = min(ζ₋, 0) − λ_out (the bulk is negative at this saddle, so the normalised overlap grows at
// the gap rate; gradient-flow time = lr × steps); below δ_NN the overlap stays small over a
// horizon of several escape times.
TEST_CASE("gradient descent learns the hard direction above delta_NN only", "[validation][hessian][nn][gd]") {
  const int d = 800;
  for (const Config& c : {Config{"quadratic", {1.0}, 0.01, 0.0}, Config{"logcosh", {0.5, 0.5}, 0.01, 0.0}}) {
    INFO(c.activation);
    Config limit = c;
    limit.init_scale = 0.0;
    auto an = analyzer_for(limit, "min(z^2, 4)");
    const auto th = an.thresholds();
    REQUIRE(th.nn.status == Status::success);
    const double above = 12.0 * th.nn.value, below = 0.5 * th.nn.value;
    const auto p = an.point(above);
    REQUIRE(p.outlier);
    REQUIRE(p.lambda_out < 0);
    const double t_esc = p.escape_time_relative_per_log_d * std::log(static_cast<double>(d));
    auto o = gd_options(c);
    o.lr = 0.1 / std::fabs(p.lambda_out);
    o.steps = static_cast<long>(std::ceil(6.0 * t_esc / o.lr)) + 50;
    simulate::Parallel parallel(2);
    const auto link = model::Link::parse("min(z^2, 4)");
    for (double delta : {above, below}) {
      const auto data = simulate::generate_dataset(link, model::Noise{}, d, static_cast<std::size_t>(std::lround(delta * d)),
                                                   21, parallel);
      const auto run = simulate::train_gd(data, nullptr, o, 21, parallel);
      REQUIRE(run.status == Status::success);
      double best = 0.0;
      for (const auto& r : run.series) best = std::max(best, r.hard_overlap);
      if (delta == above) {
        CHECK(best > 0.3);
        REQUIRE(run.escape_step >= 0);
        // The escape (overlap 0.1) happens within a factor 3 of the prediction.
        CHECK(run.escape_step * o.lr < 3.0 * t_esc);
        CHECK(run.escape_step * o.lr > t_esc / 3.0);
      } else {
        CHECK(best < 0.1);
      }
    }
  }
}

namespace {
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
// δ_alg for y = min(z², 4) (k = 1, E[z|y] = 0): 1/E_y[(E[z²|y] − 1)²] (Mondelli & Montanari
// arXiv 1708.05932). For |z| < 2, E[z²|y] = y; the plateau |z| > 2 is an atom with
// E[z² | |z| > 2] = (2φ(2)·2 + P)/P, P = P(|z| > 2). Closed-form truncated moments.
double delta_alg_min_z2_4() {
  const double a = 2.0, P = 2 * (1 - Phi(a));
  const double m0 = 2 * Phi(a) - 1, m2 = m0 - 2 * a * phi(a), m4 = 3 * m0 - 2 * phi(a) * (a * a * a + 3 * a);
  const double inner = m4 - 2 * m2 + m0;
  const double z2_out = (2 * (a * phi(a) + 1 - Phi(a))) / P;
  return 1.0 / (inner + P * (z2_out - 1) * (z2_out - 1));
}
}  // namespace

// Issue 5, validation 4: the Hessian of a two-layer network cannot detect the hard direction below
// the computational threshold, δ_NN ≥ δ_alg (a negative outlier would give a spectral estimator
// beating δ_alg). Table in docs/nn.md.
TEST_CASE("delta_NN is at least delta_alg", "[validation][hessian][nn][alg]") {
  const double delta_alg = delta_alg_min_z2_4();
  const std::vector<Config> configs = {
      {"quadratic", {1.0}, 0.0, 0.0},         {"quadratic", {1.0, 0.5}, 0.0, 0.5},
      {"logcosh", {1.0}, 0.0, 0.0},           {"he:4", {1.0}, 0.0, 0.0},
      {"quadratic", {1.0, 0.5}, 1.0, 0.2},    {"logcosh", {1.0}, 1.0, 0.0},
      {"logcosh", {0.5, 0.5}, 1.0, 0.0},      {"tanh", {0.5, 0.5}, 1.0, 0.0},
      {"logcosh", {0.25, 0.25, 0.25, 0.25}, 1.0, 0.0},
  };
  for (const auto& c : configs) {
    INFO(c.activation << " m = " << c.a.size() << " S = " << c.init_scale);
    auto an = analyzer_for(c, "min(z^2, 4)");
    const auto th = an.thresholds();
    REQUIRE(th.nn.status == Status::success);
    CHECK(th.nn.value >= delta_alg);
  }
}
