// The `deltacrit spectral` command: JSON/CSV shape (issue 3), "no transition", exit codes.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

#include "catch_compat.hpp"
#include "cli_run.hpp"

namespace {
deltacrit::test::CliRun cli(const std::string& args) { return deltacrit::test::run_cli(args); }

}  // namespace

TEST_CASE("spectral CLI: JSON keys (delta_threshold; delta, outlier, top_eigenvalue, bulk_edge, overlap)", "[spectral][spectral_method][cli]") {
  const auto r = cli("spectral --link 'z^2' --preprocess optimal --delta 0.4,1,2 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["preprocess"] == "optimal");
  CHECK(j["status"] == "success");
  CHECK(j["seconds"].is_number());
  CHECK(j["delta_threshold"].get<double>() == Approx(0.5).epsilon(1e-9));
  REQUIRE(j["points"].size() == 3);
  for (const char* key : {"delta", "outlier", "top_eigenvalue", "bulk_edge", "overlap"}) CHECK(j["points"][1].contains(key));
  CHECK_FALSE(j["points"][0]["outlier"].get<bool>());
  CHECK(j["points"][1]["overlap"].get<double>() == Approx(0.23069704375).epsilon(1e-8));
  CHECK(j["points"][2]["top_eigenvalue"].get<double>() == Approx(0.5).epsilon(1e-10));
}

TEST_CASE("spectral CLI: untrimmed T reports no transition with the reason; CSV columns", "[spectral][spectral_method][cli]") {
  const auto r = cli("spectral --link 'z^2' --preprocess y --delta 1 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["delta_threshold"] == "none");
  CHECK(j["threshold_reason"].get<std::string>().find("unbounded") != std::string::npos);
  CHECK(j["points"][0]["top_eigenvalue"] == "inf");
  const auto c = cli("spectral --link 'z^2' --preprocess 'min(y,2)' --delta 2 --format csv");
  REQUIRE(c.code == 0);
  CHECK(c.out.rfind("delta,outlier,top_eigenvalue,bulk_edge,overlap,status\n2,true,", 0) == 0);
}

TEST_CASE("spectral CLI: bad inputs exit with code 2 and name the option", "[spectral][spectral_method][cli]") {
  struct Case {
    const char* args;
    const char* expect;
  };
  for (const Case c : {Case{"spectral --link 'z^2' --preprocess '1/(y-y)' --delta 1", "preprocess"},
                       Case{"spectral --link 'z^2' --preprocess 'y +' --delta 1", "preprocess"},
                       Case{"spectral --link 'z^2' --delta 2:1:0.1", "--delta"},
                       Case{"spectral --link 'z^2' --delta 0", "--delta"},
                       Case{"spectral --link 'z1*z2' --preprocess 'y' --delta 1", "preprocess"},
                       Case{"spectral --preprocess optimal --delta 1", "--link"}}) {
    INFO(c.args);
    const auto r = cli(c.args);
    CHECK(r.code == 2);
    CHECK(r.out.find(c.expect) != std::string::npos);
  }
}
