// The `deltacrit se` command: JSON/CSV shape (issue 3), plots, exit codes and messages for bad input.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>

#include "catch_compat.hpp"
#include "cli_run.hpp"

namespace {
// Runs the CLI with `args` (shell words), capturing stdout+stderr.
deltacrit::test::CliRun cli(const std::string& args) { return deltacrit::test::run_cli(args); }

}  // namespace

TEST_CASE("se CLI: JSON has the options, status, seconds, summary keys and one point per delta", "[alg][se][cli]") {
  const auto r = cli("se --link 'abs(z)' --delta 0.4:1.2:0.4 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["link"] == "abs(z)");
  CHECK(j["noise"] == "none");
  CHECK(j["status"] == "success");
  CHECK(j["seconds"].is_number());
  CHECK(j["delta_alg"].get<double>() == Approx(0.5).epsilon(1e-9));
  CHECK(j["delta_spinodal"].get<double>() == Approx(1.128471).margin(1e-6));
  CHECK(j["q_spinodal"].get<double>() == Approx(0.84665).margin(1e-4));
  REQUIRE(j["points"].size() == 3);
  CHECK(j["points"][0]["delta"].get<double>() == Approx(0.4));
  CHECK(j["points"][0]["overlap"].get<double>() == 0.0);
  CHECK(j["points"][1]["overlap"].get<double>() == Approx(0.216227490).margin(1e-7));
  CHECK(j["points"][2]["overlap"].get<double>() == 1.0);
}

TEST_CASE("se CLI: a continuous transition reports delta_spinodal \"none\"", "[alg][se][cli]") {
  const auto r = cli("se --link 'sign(z)' --delta 1 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["delta_spinodal"] == "none");
  CHECK(j["delta_alg"].get<double>() == 0.0);
}

TEST_CASE("se CLI: CSV columns and the iteration cross-check", "[alg][se][cli]") {
  const auto r = cli("se --link 'abs(z)' --delta 1.0 --iterate --format csv");
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("delta,overlap,branch,status,iterated_overlap,iterations,residual\n", 0) == 0);
  CHECK(r.out.find("1,0.47626") != std::string::npos);
}

TEST_CASE("se CLI: k = 2 gives the overlap matrix per point", "[alg][se][cli]") {
  const auto r = cli("se --link 'z1^2+z2^2' --delta 0.5 --directions 32 --omega-nodes 6 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["k"] == 2);
  CHECK(j["delta_alg"].get<double>() == Approx(1.0).epsilon(1e-4));
  REQUIRE(j["points"][0]["overlap"].size() == 2);
  CHECK(j["points"][0]["overlap"][0].size() == 2);
  CHECK(j["points"][0]["overlap_trace"].get<double>() < 1e-6);
}

TEST_CASE("se CLI: --plot writes an SVG with the curve and the threshold markers", "[alg][se][cli]") {
  const std::string path = "se_cli_test_plot.svg";
  const auto r = cli("se --link 'abs(z)' --delta 0.4:1.6:0.1 --plot " + path);
  REQUIRE(r.code == 0);
  std::ifstream in(path);
  REQUIRE(in.good());
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("delta_alg = 0.5") != std::string::npos);
  CHECK(svg.find("spinodal = 1.1285") != std::string::npos);
  CHECK(svg.find("<path d=\" M") != std::string::npos);
  std::remove(path.c_str());
  const auto bad = cli("se --link 'abs(z)' --delta 1 --plot out.pdf");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("--plot") != std::string::npos);
}

TEST_CASE("se CLI: bad inputs exit with code 2 and name the option", "[alg][se][cli]") {
  struct Case {
    const char* args;
    const char* expect;
  };
  for (const Case c : {Case{"se --link 'abs(z)' --delta 1.2:0.5:0.1", "--delta"}, Case{"se --link 'abs(z)' --delta 0", "--delta"},
                       Case{"se --link 'abs(z)' --delta -1", "--delta"}, Case{"se --link 'abs(z)' --delta ''", "--delta"},
                       Case{"se --link 'abs(z)'", "--delta"}, Case{"se --delta 1", "--link"},
                       Case{"se --link 'abs(q)' --delta 1", "link"}, Case{"se --link 'abs(z)' --delta 1 --damping 0", "--damping"},
                       Case{"se --link 'abs(z)' --delta 1 --noise flip:0.1", "noise"},
                       Case{"se --link 'abs(z)' --delta 1 --seed 2", "--seed"}}) {
    INFO(c.args);
    const auto r = cli(c.args);
    CHECK(r.code == 2);
    CHECK(r.out.find(c.expect) != std::string::npos);
    CHECK(r.out.find("nan") == std::string::npos);
  }
}
