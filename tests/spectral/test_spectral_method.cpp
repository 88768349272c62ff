// Spectral-method predictions (spectral/spectral_method.hpp) against tools/ref_spectral.py
// (tests/data/ref_spectral.json), the Marchenko–Pastur edge, δ_alg, invariances and a second route.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "catch_compat.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/spectral/spectral_method.hpp"
#include "tolerances.hpp"

using namespace deltacrit;
namespace tol = deltacrit::test_tol;

namespace {
nlohmann::json load(const std::string& file) {
  std::ifstream in(std::string(DELTACRIT_TEST_DATA_DIR) + "/" + file);
  REQUIRE(in.good());
  nlohmann::json j;
  in >> j;
  return j;
}

// The reference's T column: an expression, or the δ-dependent MM choice written with the number δ.
std::string preprocess_of(const nlohmann::json& e) {
  const std::string id = e["id"];
  if (id.find(".opt.") != std::string::npos) return "optimal";
  if (id.find(".mm.") != std::string::npos) return "mm";
  return e["T"];
}
}  // namespace

TEST_CASE("spectral: y = z^2 reproduces every ref_spectral.json value", "[spectral][spectral_method]") {
  const auto j = load("ref_spectral.json");
  std::map<std::string, std::unique_ptr<spectral::SpectralPredictor>> cache;
  auto predictor = [&](const std::string& T) -> const spectral::SpectralPredictor& {
    auto& p = cache[T];
    if (!p) p = std::make_unique<spectral::SpectralPredictor>(model::Link::parse("z^2"), model::Noise{}, T);
    return *p;
  };
  int checked = 0;
  for (const auto& e : j["entries"]) {
    const std::string id = e["id"], qty = e["quantity"];
    const double value = e["value"];
    INFO(id << " = " << value);
    const auto& sp = predictor(preprocess_of(e));
    if (qty == "threshold" || id.find(".threshold") != std::string::npos) {
      const auto th = sp.threshold();
      REQUIRE(th.exists);
      CHECK(th.delta == Approx(value).epsilon(tol::kSpectralThreshold));
      ++checked;
      continue;
    }
    const auto p = sp.at(e["delta"]);
    CHECK(p.outlier == e["outlier"].get<bool>());
    double got = 0;
    if (qty == "lambda_bar") got = p.lambda_bar;
    else if (qty == "lambda_star") got = p.lambda_star;
    else if (qty == "bulk_edge") got = p.bulk_edge;
    else if (qty == "top_eigenvalue") got = p.top_eigenvalue;
    else if (qty == "overlap") got = p.overlap;
    else continue;
    CHECK(got == Approx(value).epsilon(tol::kSpectralValue).margin(1e-12));
    ++checked;
  }
  CHECK(checked >= 40);
}

TEST_CASE("spectral: references.md overlaps and thresholds for y = z^2", "[spectral][spectral_method]") {
  spectral::SpectralPredictor opt(model::Link::parse("z^2"), model::Noise{}, "optimal");
  CHECK(opt.at(1).overlap == Approx(0.23070).margin(5e-6));
  CHECK(opt.at(2).overlap == Approx(0.63888).margin(5e-6));
  CHECK(opt.at(5).overlap == Approx(0.95696).margin(5e-6));
  spectral::SpectralPredictor mm(model::Link::parse("z^2"), model::Noise{}, "mm");
  CHECK(mm.at(1).overlap == Approx(0.20604).margin(5e-6));
  CHECK(mm.at(2).overlap == Approx(0.48582).margin(5e-6));
  CHECK(spectral::SpectralPredictor(model::Link::parse("z^2"), model::Noise{}, "min(y,2)").threshold().delta ==
        Approx(1.05743).margin(5e-6));
  CHECK(spectral::SpectralPredictor(model::Link::parse("z^2"), model::Noise{}, "step(y-2)").threshold().delta ==
        Approx(0.91286).margin(5e-6));
}

TEST_CASE("spectral: T = 1 gives the Marchenko-Pastur edge (1 + 1/sqrt(delta))^2 and no outlier", "[spectral][spectral_method]") {
  spectral::SpectralPredictor sp(model::Link::parse("z^2"), model::Noise{}, "1");
  for (double delta : {0.5, 1.0, 3.0}) {
    const auto p = sp.at(delta);
    CHECK_FALSE(p.outlier);
    CHECK(p.bulk_edge == Approx(std::pow(1 + 1 / std::sqrt(delta), 2)).epsilon(1e-12));
    CHECK(p.overlap == 0.0);
  }
  CHECK_FALSE(sp.threshold().exists);
}

TEST_CASE("spectral: the optimal preprocessing reaches delta_alg (k = 1)", "[spectral][spectral_method]") {
  for (const char* link : {"abs(z)", "he(4,z)", "min(z^2,4)", "tanh(z)^2"}) {
    INFO(link);
    const auto l = model::Link::parse(link);
    spectral::SpectralPredictor sp(l, model::Noise{}, "optimal");
    const double delta_alg = alg::compute_delta_alg(l, model::Noise{}).delta_alg;
    CHECK(sp.threshold().delta == Approx(delta_alg).epsilon(1e-6));
    CHECK(sp.delta_alg() == Approx(delta_alg).epsilon(1e-6));
  }
}

TEST_CASE("spectral: z-space rule and the alg channel law agree (two routes)", "[spectral][spectral_method]") {
  spectral::SpectralMethodOptions o;
  o.channel_law = true;
  for (const char* link : {"z^2", "he(4,z)"}) {
    spectral::SpectralPredictor a(model::Link::parse(link), model::Noise{}, "optimal");
    spectral::SpectralPredictor b(model::Link::parse(link), model::Noise{}, "optimal", o);
    for (double delta : {0.9, 2.5}) {
      CHECK(a.at(delta).overlap == Approx(b.at(delta).overlap).epsilon(1e-6));
      CHECK(a.at(delta).top_eigenvalue == Approx(b.at(delta).top_eigenvalue).epsilon(1e-6));
    }
  }
}

TEST_CASE("spectral: invariances (T -> 3T; erasures scale delta_T by 1/(1-eps))", "[spectral][spectral_method]") {
  spectral::SpectralPredictor a(model::Link::parse("z^2"), model::Noise{}, "min(y,2)");
  spectral::SpectralPredictor b(model::Link::parse("z^2"), model::Noise{}, "3*min(y,2)");
  for (double delta : {1.5, 3.0}) {
    CHECK(b.at(delta).overlap == Approx(a.at(delta).overlap).epsilon(1e-9));
    CHECK(b.at(delta).top_eigenvalue == Approx(3 * a.at(delta).top_eigenvalue).epsilon(1e-9));
  }
  spectral::SpectralPredictor e(model::Link::parse("z^2"), model::Noise::parse("erase:0.25"), "min(y,2)");
  CHECK(e.threshold().delta == Approx(a.threshold().delta / 0.75).epsilon(1e-7));
}

TEST_CASE("spectral: untrimmed T is reported as no transition, with the reason", "[spectral][spectral_method]") {
  spectral::SpectralPredictor sp(model::Link::parse("z^2"), model::Noise{}, "y");
  CHECK(sp.unbounded());
  const auto th = sp.threshold();
  CHECK_FALSE(th.exists);
  CHECK(th.reason.find("unbounded above") != std::string::npos);
  const auto p = sp.at(2.0);
  CHECK_FALSE(p.outlier);
  CHECK(p.overlap == 0.0);
  CHECK(std::isinf(p.top_eigenvalue));
  // log y is unbounded too (slowly); 1 − 1/y and tanh(y) are bounded.
  CHECK(spectral::SpectralPredictor(model::Link::parse("z^2"), model::Noise{}, "log(y)").unbounded());
  CHECK_FALSE(spectral::SpectralPredictor(model::Link::parse("z^2"), model::Noise{}, "1-1/y").unbounded());
  CHECK(spectral::SpectralPredictor(model::Link::parse("z^2"), model::Noise{}, "1-1/y").tau() == Approx(1.0).epsilon(1e-9));
}

TEST_CASE("spectral: k = 2 optimal threshold equals delta_alg (arXiv 2502.02545)", "[spectral][spectral_method]") {
  spectral::SpectralPredictor sp(model::Link::parse("z1*z2"), model::Noise{}, "optimal");
  CHECK(sp.threshold().delta == Approx(0.593751098).epsilon(1e-4));
  CHECK(sp.at(1.0).outlier);
  CHECK_FALSE(sp.at(0.5).outlier);
}

TEST_CASE("spectral: bad inputs are InputErrors naming the parameter", "[spectral][spectral_method]") {
  auto name_of = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return e.parameter();
    }
    return std::string("no throw");
  };
  const auto z2 = model::Link::parse("z^2");
  CHECK(name_of([&] { spectral::SpectralPredictor(z2, model::Noise{}, "1/(y-y)"); }) == "preprocess");
  CHECK(name_of([&] { spectral::SpectralPredictor(z2, model::Noise{}, "y +"); }) == "preprocess");
  CHECK(name_of([&] { spectral::SpectralPredictor(z2, model::Noise{}, "x"); }) == "preprocess");
  CHECK(name_of([&] { spectral::SpectralPredictor(z2, model::Noise{}, ""); }) == "preprocess");
  CHECK(name_of([&] { spectral::SpectralPredictor(model::Link::parse("z1*z2"), model::Noise{}, "y"); }) == "preprocess");
  spectral::SpectralPredictor sp(z2, model::Noise{}, "optimal");
  CHECK(name_of([&] { sp.at(0.0); }) == "delta");
  CHECK(name_of([&] { sp.at(-1.0); }) == "delta");
  CHECK(name_of([&] { sp.at(INFINITY); }) == "delta");
  // mm below δ_u: defined = false, no numbers, a note.
  spectral::SpectralPredictor mm(z2, model::Noise{}, "mm");
  const auto p = mm.at(0.3);
  CHECK_FALSE(p.defined);
  CHECK_FALSE(p.outlier);
  CHECK_FALSE(p.note.empty());
}
