// Two-layer GD: the fused gradient against central finite differences of a naive risk written
// here, invariants of the projected/frozen dynamics, teacher recovery, divergence detection,
// thread invariance and bad input.
#include <cmath>

#include "catch_compat.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

namespace {
// R̂(W, a) = (1/n) Σ ℓ(y_i, Σ_j a_j σ(w_jᵀx_i)) + (λ/2)‖W‖², straight from the definition.
double naive_risk(const Samples& s, const model::Activation& act, const model::Loss& loss, const RowMatrix& Wt,
                  const std::vector<double>& a, double ridge) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < s.X.rows(); ++i) {
    double f = 0.0;
    for (Eigen::Index j = 0; j < Wt.rows(); ++j) {
      double u = 0.0;
      for (Eigen::Index t = 0; t < Wt.cols(); ++t) u += Wt(j, t) * s.X(i, t);
      f += a[j] * act.value(u);
    }
    sum += loss.value(s.y[i], f);
  }
  return sum / s.X.rows() + 0.5 * ridge * Wt.squaredNorm();
}
}  // namespace

TEST_CASE("simulate/gd: gradient equals finite differences of the risk", "[simulate][gd]") {
  Parallel par(2);
  struct Case {
    const char* activation;
    const char* loss;
    const char* link;
    int m;
  };
  const Case cases[] = {{"tanh", "square", "z^2", 1},     {"erf", "square", "z1*z2", 3},
                        {"softplus", "square", "z^2", 2}, {"logcosh", "square", "abs(z)", 4},
                        {"he:3", "square", "z^2", 2},     {"quadratic", "square", "z^2", 1},
                        {"tanh", "logistic", "sign(z)", 3}, {"erf", "logistic", "sign(z1*z2)", 2}};
  for (const auto& c : cases) {
    INFO(c.activation << " " << c.loss << " " << c.link << " m=" << c.m);
    const auto link = model::Link::parse(c.link);
    const Dataset data = generate_dataset(link, model::Noise{}, 7, 60, 3, par);
    const auto act = model::Activation::parse(c.activation);
    const auto loss = model::Loss::parse(c.loss);
    Rng rng = make_rng(5);
    std::normal_distribution<double> normal;
    RowMatrix Wt(c.m, 7);
    for (Eigen::Index i = 0; i < Wt.size(); ++i) Wt.data()[i] = 0.4 * normal(rng);
    std::vector<double> a(c.m);
    for (auto& v : a) v = normal(rng);
    const double ridge = 0.03;
    RowMatrix grad;
    std::vector<double> a_grad;
    const double data_term = risk_and_gradient(data.train, act, loss, Wt, a, ridge, &grad, &a_grad, par);
    CHECK(data_term + 0.5 * ridge * Wt.squaredNorm() ==
          Approx(naive_risk(data.train, act, loss, Wt, a, ridge)).epsilon(test_tol::kRoundoff));
    const double h = 1e-5;
    for (Eigen::Index e = 0; e < Wt.size(); ++e) {
      RowMatrix p = Wt, q = Wt;
      p.data()[e] += h;
      q.data()[e] -= h;
      const double fd = (naive_risk(data.train, act, loss, p, a, ridge) - naive_risk(data.train, act, loss, q, a, ridge)) / (2 * h);
      CHECK(grad.data()[e] == Approx(fd).margin(test_tol::kFiniteDifference));
    }
    for (int j = 0; j < c.m; ++j) {
      auto p = a, q = a;
      p[j] += h;
      q[j] -= h;
      const double fd = (naive_risk(data.train, act, loss, Wt, p, ridge) - naive_risk(data.train, act, loss, Wt, q, ridge)) / (2 * h);
      CHECK(a_grad[j] == Approx(fd).margin(test_tol::kFiniteDifference));
    }
  }
}

TEST_CASE("simulate/gd: gradient is bit-identical for 1, 2 and 3 threads", "[simulate][gd]") {
  Parallel p1(1), p2(2), p3(3);
  const Dataset data = generate_dataset(model::Link::parse("z^2"), model::Noise{}, 200, 3000, 9, p2);
  RowMatrix Wt = RowMatrix::Random(3, 200) * 0.1;
  const std::vector<double> a = {0.3, -0.2, 0.5};
  const auto act = model::Activation::parse("tanh");
  const auto loss = model::Loss::parse("square");
  RowMatrix g1, g2, g3;
  const double l1 = risk_and_gradient(data.train, act, loss, Wt, a, 0.0, &g1, nullptr, p1);
  const double l2 = risk_and_gradient(data.train, act, loss, Wt, a, 0.0, &g2, nullptr, p2);
  const double l3 = risk_and_gradient(data.train, act, loss, Wt, a, 0.0, &g3, nullptr, p3);
  CHECK(g1 == g2);
  CHECK(g1 == g3);
  CHECK(l1 == l2);
  CHECK(l1 == l3);
}

TEST_CASE("simulate/gd: frozen hard directions stay at zero overlap; unit norm is kept", "[simulate][gd]") {
  Parallel par(2);
  GdConfig config{model::Link::parse("z1^2 + z2*z3"), model::Noise{}, {}};
  config.options.width = 2;
  config.options.hard = {2, 3};
  config.options.freeze_hard = true;
  config.options.unit_norm = true;
  config.options.init = phase1::parse_init("random:1");
  config.options.lr = 0.2;
  config.options.steps = 60;
  config.options.test_size = 0;
  const Dataset data = generate_dataset(config.link, config.noise, 50, 400, 4, par);
  const GdRun run = train_gd(data, nullptr, config.options, 17, par);
  REQUIRE(run.status == Status::success);
  const Eigen::MatrixXd hard_cols = data.theta.rightCols(2);
  CHECK((run.Wt * hard_cols).cwiseAbs().maxCoeff() < test_tol::kRoundoff);
  for (int j = 0; j < 2; ++j) CHECK(run.Wt.row(j).norm() == Approx(1.0).epsilon(test_tol::kRoundoff));
  CHECK(run.final_record.hard_overlap < test_tol::kRoundoff);
  CHECK(run.escape_step == -1);
  CHECK_FALSE(run.learned);
}

TEST_CASE("simulate/gd: a student recovers its teacher", "[simulate][gd]") {
  // y = tanh(θ*ᵀx): the student f = tanh(wᵀx) has zero risk at w = θ*, the global minimum.
  Parallel par(2);
  GdConfig config{model::Link::parse("tanh(z)"), model::Noise{}, {}};
  config.options.init = phase1::parse_init("random:0.5");
  config.options.lr = 1.0;
  config.options.steps = 400;
  config.options.test_size = 500;
  const SeedKind kind = gd_kind(config);
  Rng rng = make_rng(3, 0);
  SeedContext ctx{rng, 0, 40, 800, 20.0, par, nullptr, 1e9};
  const SeedResult r = kind(ctx);
  REQUIRE(r.status == Status::success);
  CHECK(r.overlap > 0.999);
  CHECK(r.values.at("train_loss")[0] < 1e-4);
  CHECK(r.values.at("test_loss")[0] < 1e-3);
  CHECK(r.values.at("learned_fraction")[0] == 1.0);
  // The escape step is the first step above the level: consistent with the recorded series.
  const auto& series = r.details.at("series");
  const long escape = r.details.at("escape_step").get<long>();
  for (const auto& rec : series) {
    if (rec.at("step").get<long>() < escape) CHECK(rec.at("overlap").get<double>() <= config.options.escape_level);
    if (rec.at("step").get<long>() == escape) CHECK(rec.at("overlap").get<double>() > config.options.escape_level);
  }
}

TEST_CASE("simulate/gd: trained second layer and ridge", "[simulate][gd]") {
  Parallel par(1);
  GdConfig config{model::Link::parse("z^2"), model::Noise{}, {}};
  config.options.width = 2;
  config.options.second_layer = phase1::parse_second_layer("trained", 2);
  config.options.ridge = 0.1;
  config.options.steps = 50;
  config.options.test_size = 0;
  const Dataset data = generate_dataset(config.link, config.noise, 20, 200, 2, par);
  const GdRun run = train_gd(data, nullptr, config.options, 1, par);
  REQUIRE(run.status == Status::success);
  CHECK(run.a[0] != 0.5);
  // The training loss decreases (small step on a smooth risk).
  CHECK(run.series.back().train_loss < run.series.front().train_loss);
}

TEST_CASE("simulate/gd: divergence is detected and reported per seed", "[simulate][gd]") {
  Parallel par(1);
  GdConfig config{model::Link::parse("z^2"), model::Noise{}, {}};
  config.options.activation = model::Activation::parse("quadratic");
  config.options.init = phase1::parse_init("random:1");
  config.options.lr = 50.0;
  config.options.steps = 200;
  const SeedKind kind = gd_kind(config);
  Rng rng = make_rng(1, 0);
  SeedContext ctx{rng, 0, 30, 90, 3.0, par, nullptr, 1e9};
  const SeedResult r = kind(ctx);
  CHECK(r.status == Status::numerical_issue);
  CHECK(r.message.find("diverged") != std::string::npos);
  CHECK(r.values.empty());
}

TEST_CASE("simulate/gd: bad options name the option", "[simulate][gd]") {
  auto expect = [](const char* option, auto&& fn) {
    try {
      fn();
      FAIL("accepted bad " << option);
    } catch (const InputError& e) {
      CHECK(e.parameter() == option);
    }
  };
  GdOptions base;
  expect("--width", [&] { auto o = base; o.width = 0; o.validate(1); });
  expect("--width", [&] { auto o = base; o.width = 9; o.validate(1); });
  expect("--second-layer", [&] { auto o = base; o.width = 2; o.second_layer.a = {1, 2, 3}; o.validate(1); });
  expect("--second-layer", [&] { phase1::parse_second_layer("fixed:1,2", 3); });
  expect("--lr", [&] { auto o = base; o.lr = 0; o.validate(1); });
  expect("--lr", [&] { auto o = base; o.lr = -1; o.validate(1); });
  expect("--steps", [&] { auto o = base; o.steps = kMaxSteps + 1; o.validate(1); });
  expect("--hard", [&] { auto o = base; o.hard = {2}; o.validate(1); });
  expect("--freeze-hard", [&] { auto o = base; o.freeze_hard = true; o.validate(2); });
  expect("--init", [&] { auto o = base; o.unit_norm = true; o.init.scale = 0; o.validate(1); });
  expect("activation", [&] { model::Activation::parse("sigmoidal"); });
  expect("loss", [&] { model::Loss::parse("hinge"); });
  expect("--loss", [&] {
    GdConfig c{model::Link::parse("z^2"), model::Noise{}, {}};
    c.options.loss = model::Loss::parse("logistic");
    gd_kind(c);
  });
  expect("--loss", [&] {
    GdConfig c{model::Link::parse("sign(z)"), model::Noise::parse("gaussian:0.1"), {}};
    c.options.loss = model::Loss::parse("logistic");
    gd_kind(c);
  });
  // Logistic loss with ±1 labels and flip noise is fine.
  GdConfig ok{model::Link::parse("sign(z)"), model::Noise::parse("flip:0.1"), {}};
  ok.options.loss = model::Loss::parse("logistic");
  CHECK_NOTHROW(gd_kind(ok));
}

TEST_CASE("simulate/gd: Activation::value_and_d1 equals value and d1", "[simulate][gd]") {
  for (const char* name : {"relu", "tanh", "erf", "quadratic", "he:1", "he:2", "he:5", "he:8", "softplus", "logcosh"}) {
    const auto act = model::Activation::parse(name);
    for (double x : {-30.0, -7.5, -2.0, -0.3, 0.0, 1e-9, 0.4, 1.7, 6.0, 40.0}) {
      INFO(name << " x=" << x);
      double d1 = 0.0;
      const double v = act.value_and_d1(x, &d1);
      CHECK(v == Approx(act.value(x)).epsilon(1e-14).margin(1e-300));
      CHECK(d1 == Approx(act.d1(x)).epsilon(1e-14).margin(1e-15));
    }
  }
}
