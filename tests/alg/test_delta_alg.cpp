// δ_alg beyond the reference table: classification of directions (trivial / easy / hard), the
// staircase on quadratic forms whose stages are known in closed form, honesty of the error
// estimate at coarse tolerances, and the CLI's exit codes and output hygiene.
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "catch_compat.hpp"
#include "cli_run.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"
#include "tolerances.hpp"

using namespace deltacrit;

namespace {
alg::AlgResult delta_of(const std::string& text, double tol, int k = 0) {
  alg::AlgOptions o;
  o.tol = tol;
  return alg::compute_delta_alg(model::Link::parse(text, k), {}, o);
}
}  // namespace

TEST_CASE("alg: a coordinate absent from the link is hard; the other is easy at 1/2", "[alg][classes]") {
  const auto r = delta_of("z1^2", 1e-5, 2);
  CHECK(r.delta_alg == Approx(0.5).epsilon(test_tol::kAlgK2));
  REQUIRE(r.directions.size() == 2);
  CHECK(r.directions[0].cls == alg::DirectionClass::easy);
  CHECK(std::fabs(r.directions[0].vector(0)) == Approx(1.0));
  CHECK(r.directions[1].cls == alg::DirectionClass::hard);
  CHECK(std::fabs(r.directions[1].vector(1)) == Approx(1.0));
  CHECK(r.stages.size() == 1);
  // E[G²] has a zero row and column for the hard direction.
  CHECK(std::fabs(r.G_square(1, 1)) < 1e-6);  // reconstruction accuracy at tol 1e-5
}

TEST_CASE("alg: quadratic forms learn eigen-directions in stages", "[alg][staircase]") {
  // z1² + z1 z2 = λ₊ s² + λ₋ t² in the eigenbasis of [[1, ½], [½, 0]] (λ± = (1 ± √2)/2): the first
  // stage learns the eigenvector of the larger |λ| (reference 0.50764727…), and once s is known
  // y determines t² (a shifted square): the second stage is at exactly 1/2.
  const auto r = delta_of("z1^2 + z1*z2", 1e-5);
  REQUIRE(r.stages.size() == 2);
  const double angle = 0.5 * std::atan2(1.0, 1.0);  // tan 2θ = 2·½ / (1 − 0)
  const Eigen::Vector2d v1(std::cos(angle), std::sin(angle));
  CHECK(std::fabs(r.stages[0].directions[0].dot(v1)) == Approx(1.0).epsilon(1e-6));
  CHECK(r.stages[1].delta == Approx(0.5).epsilon(test_tol::kAlgK2));
  // max(z1, z2) = (z1 + z2)/2 + |z1 − z2|/2: the sum is trivial, then |t| gives 1/2.
  const auto m = delta_of("max(z1,z2)", 1e-5);
  REQUIRE(m.stages.size() == 2);
  CHECK(m.stages[0].kind == alg::DirectionClass::trivial);
  CHECK(std::fabs(m.stages[0].directions[0](0)) == Approx(M_SQRT1_2).epsilon(1e-9));
  CHECK(m.stages[1].delta == Approx(0.5).epsilon(test_tol::kAlgK2));
  CHECK(m.delta_alg == 0.0);
}

TEST_CASE("alg: trivial part decided by symmetry, not by quadrature noise", "[alg][classes]") {
  // Even links: C = 0 exactly, so no direction is declared trivial (pitfall 1).
  for (const char* text : {"z^2", "cos(z)", "he(4,z)"}) {
    INFO(text);
    const auto r = delta_of(text, 1e-8);
    CHECK(r.trivial_gram(0, 0) == 0.0);
    CHECK(r.stages.front().kind == alg::DirectionClass::easy);
  }
  // A tiny odd part is still trivial (c ≈ 1e-6 is far above the quadrature noise).
  const auto r = delta_of("z^2 + 1e-3*z", 1e-8);
  CHECK(r.trivial_gram(0, 0) > 1e-7);
  CHECK(r.delta_alg == 0.0);
}

TEST_CASE("alg: the error estimate covers the true error at coarse tolerances", "[alg][honesty]") {
  // References: he(4, z) and cos(z) from tests/data/ref_alg.json (tools/ref_alg.py), z1 z2 from
  // the closed form 1/(1 + E[(a − 1)²]) (references.md).
  struct Case {
    const char* link;
    double tol, ref;
  };
  const Case cases[] = {{"he(4,z)", 1e-3, 0.6448504699023041},
                        {"cos(z)", 1e-4, 0.5090963825621286},
                        {"z1*z2", 1e-3, 0.5937510982222572},
                        {"z1^2 + z1*z2", 1e-3, 0.5076472741434599}};
  for (const auto& c : cases) {
    INFO(c.link << " at tol " << c.tol);
    const auto r = delta_of(c.link, c.tol);
    const double err = std::fabs(r.delta_alg - c.ref);
    INFO("error " << err << ", estimate " << r.error_estimate);
    CHECK(err <= r.error_estimate);
    CHECK(err <= c.tol * c.ref);
  }
}

// ---- CLI ----

namespace {
deltacrit::test::CliRun cli(const std::string& args) { return deltacrit::test::run_cli(args); }

}  // namespace

TEST_CASE("alg CLI: table output has no NaN and names the classes", "[alg][cli]") {
  for (const char* args : {"--link 'z^2'", "--link 'sign(z)'", "--link 'relu(z)' --noise erase:0.2",
                           "--link 'z1^2' --k 2 --tol 1e-3", "--link 'sign(z1*z2)' --noise flip:0.1 --tol 1e-4"}) {
    INFO(args);
    const auto r = cli(std::string("alg ") + args);
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find("nan") == std::string::npos);
    CHECK(r.out.find("delta_alg") != std::string::npos);
  }
  const auto unused = cli("alg --link 'z1^2' --k 2 --tol 1e-3");
  CHECK(unused.out.find("hard") != std::string::npos);
  CHECK(unused.out.find("z2 does not appear in the link") != std::string::npos);
  CHECK(cli("alg --link 'sign(z)'").out.find("trivial") != std::string::npos);
}

TEST_CASE("alg CLI: JSON stages and directions for the staircase of a quadratic form", "[alg][cli]") {
  const auto r = cli("alg --link 'z1^2 + z2' --tol 1e-4 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["delta_alg"] == 0.0);  // z2 is trivial
  REQUIRE(j["stages"].size() == 2);
  CHECK(j["stages"][0]["delta"] == 0.0);
  CHECK(j["stages"][1]["delta"].get<double>() == Approx(0.5).epsilon(test_tol::kAlgK2));
  REQUIRE(j["directions"].size() == 2);
  CHECK(j["directions"][0]["class"] == "trivial");
  CHECK(j["directions"][1]["class"] == "easy");
  CHECK(j["trivial_gram"].size() == 2);
}

TEST_CASE("alg CLI: missing --link and unknown options are bad input", "[alg][cli]") {
  CHECK(cli("alg").code == 2);
  CHECK(cli("alg --link 'z^2' --format xml").code == 2);
  const auto r = cli("alg --link 'z^2' --noise bogus:1");
  CHECK(r.code == 2);
  CHECK(r.out.find("noise") != std::string::npos);
}
