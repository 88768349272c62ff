// `deltacrit nn` as a user runs it: bad input gives exit code 2 and a message naming the option;
// a good run prints the JSON keys issue 5 lists.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "catch_compat.hpp"
#include "cli_run.hpp"
#include "deltacrit/simulate/law_io.hpp"

namespace {

deltacrit::test::CliRun run_cli(const std::string& args) { return deltacrit::test::run_cli("nn " + args); }

std::string temp_path(const std::string& name) { return "/tmp/deltacrit_test_nn_" + name; }

}  // namespace

TEST_CASE("nn CLI rejects bad input with exit code 2 naming the option", "[hessian][cli]") {
  const std::string base = "--link 'min(z^2,4)' --hard 1 --delta 4 ";
  struct Case {
    std::string args, needle;
  };
  const std::vector<Case> cases = {
      {base + "--width 0", "--width"},
      {base + "--width 9", "--width"},
      {base + "--width 2 --second-layer fixed:1", "--second-layer"},
      {base + "--activation foo", "activation"},
      {base + "--loss logistic", "--loss"},
      {base + "--phase1 fixed-point", "ridge"},
      {base + "--phase1 fixed-point --ridge 0.05 --fp-weight-floor 1e-3", "--fp-weight-floor"},
      {base + "--phase1 fixed-point --ridge 0.05 --fp-principal-ratio 0.5", "--fp-principal-ratio"},
      {base + "--phase1 fixed-point --ridge 0.05 --fp-tol 1", "--fp-tol"},
      {base + "--threads 0", "--threads"},
      {"--link 'z1*z2' --hard 1,2 --delta 4 --z-k2-coarse-panel-points 1", "--z-k2-coarse-panel-points"},
      {base + "--phase1 magic", "--phase1"},
      {base + "--init random:0", "--init"},
      {"--link 'z' --delta 4", "--hard"},
      {base + "--hard 2", "--hard"},
      {base + "--phase1 empirical:/nonexistent/dir/law.bin", "--phase1"},
      {base + "--unit-norm", "--unit-norm"},
      {"--link 'min(z^2,4)' --hard 1 --delta -1", "--delta"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto r = run_cli(c.args);
    CHECK(r.code == 2);
    CHECK(r.out.find(c.needle) != std::string::npos);
  }
}

TEST_CASE("nn CLI rejects truncated and foreign law files", "[hessian][cli]") {
  deltacrit::simulate::EmpiricalLaw law;
  law.n = 50;
  law.m = 1;
  law.k = 1;
  law.hard = {1};
  law.delta = 2.0;
  law.d = 25;
  law.a = {1.0};
  for (int i = 0; i < 50; ++i) {
    const double z = -2.0 + 0.08 * i;
    law.y.push_back(z * z);
    law.u.push_back(0.1 * i - 2.5);
    law.z.push_back(z);
  }
  const std::string good = temp_path("good.law"), truncated = temp_path("truncated.law"), foreign = temp_path("foreign.law");
  deltacrit::simulate::write_law(law, good);
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() - 13);
    std::ofstream(foreign, std::ios::binary) << "this is not a deltacrit law file, just some text of sufficient length......"
                                              << std::string(300, 'x');
  }
  const auto ok = run_cli("--phase1 empirical:" + good + " --activation logcosh --delta 2 --format json");
  CHECK(ok.code != 2);
  for (const auto& path : {truncated, foreign}) {
    const auto r = run_cli("--phase1 empirical:" + path + " --delta 2");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("--phase1") != std::string::npos);
  }
  std::remove(good.c_str());
  std::remove(truncated.c_str());
  std::remove(foreign.c_str());
}

TEST_CASE("nn CLI JSON has the keys of issue 5", "[hessian][cli]") {
  const auto r = run_cli("--link 'min(z^2,4)' --activation quadratic --init small:0 --hard 1 --ridge 0.5 --find "
                        "--delta 2,8 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"options", "status", "seconds", "delta_bbp", "delta_nn", "delta_alg", "points"}) {
    CHECK(j.contains(key));
  }
  CHECK(j["status"] == "success");
  CHECK(j["delta_bbp"].is_number());
  REQUIRE(j["points"].size() == 2);
  for (const auto& p : j["points"]) {
    for (const char* key : {"delta", "lambda_out", "bulk_edge", "overlap", "escape_time_per_log_d"}) CHECK(p.contains(key));
    CHECK(p["lambda_out"].is_number());
  }
  CHECK(j["options"]["activation"] == "quadratic");
  CHECK(j["options"]["hard"] == "1");
  // The fixed-point law adds per-point keys: stability, consistency and how the point was found.
  const auto f = run_cli("--link 'min(z^2,4)' --activation logcosh --width 1 --ridge 0.05 --phase1 fixed-point "
                        "--delta 4,8 --format json");
  REQUIRE(f.code == 0);
  const auto jf = nlohmann::json::parse(f.out);
  CHECK(jf["options"]["fp_weight_floor"] == 1e-14);
  REQUIRE(jf["points"].size() == 2);
  for (const auto& p : jf["points"]) {
    CHECK(p["phase1_stable"].is_boolean());
    CHECK(p["law_consistent"].is_boolean());
    REQUIRE(p["phase1_branch"].is_string());
    CHECK(p["phase1_branch"].get<std::string>().rfind("fixed point (", 0) == 0);
    CHECK(p["phase1_quadrature_error"].is_number());
    CHECK(p["phase1_quadrature_error_relative"].is_number());
  }
  CHECK(jf["points"][1]["phase1_branch"] == jf["law"]["branch"]);
}

TEST_CASE("nn CLI reports no transition for an unbounded D", "[hessian][cli][unbounded]") {
  const auto r = run_cli("--link 'z^2' --activation quadratic --width 1 --second-layer fixed:1 --init small:0.01 "
                         "--phase1 init --find --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["delta_nn"] == "none");
  CHECK(j["delta_bbp"] == "none");
  CHECK(j["no_transition"] == true);
  CHECK(j["no_transition_reason"].get<std::string>().find("unbounded below") != std::string::npos);
  CHECK(j["diagnostics"]["D_unbounded_below"] == true);
  const auto t = run_cli("--link 'z^2' --activation quadratic --init small:0.01 --find");
  REQUIRE(t.code == 0);
  CHECK(t.out.find("no transition") != std::string::npos);
  // tanh at small init: the note says the Hessian does not see y (sigma''(0) = 0).
  const auto h = run_cli("--link 'min(z^2,4)' --activation tanh --init small:0.01 --find");
  REQUIRE(h.code == 0);
  CHECK(h.out.find("sigma''(0) = 0") != std::string::npos);
}

// The resolution keys: the quadratic small-init law has a smooth event (δ-independent law, the
// scalar spectral route of test_nn.cpp), so the check points agree with one crossing: 0, monotone.
TEST_CASE("nn CLI reports the threshold resolution", "[hessian][cli][resolution]") {
  const auto r = run_cli("--link 'min(z^2,4)' --activation quadratic --init small:0 --hard 1 --ridge 0.5 --find "
                         "--threshold-check 0.1 --threshold-check-points 3 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"delta_bbp", "delta_nn"}) {
    INFO(key);
    const std::string k = key;
    CHECK(j[k].is_number());
    CHECK(j[k + "_resolution"] == 0.0);
    CHECK(j[k + "_monotone"] == true);
    CHECK(j[k + "_resolution_span"][0] == j[k]);
    CHECK(j[k + "_resolution_points"].get<int>() >= 8);  // scan bracket ends + 2·3 check points
  }
  CHECK(j["options"]["threshold_check"] == 0.1);
  const auto csv = run_cli("--link 'min(z^2,4)' --activation quadratic --init small:0 --hard 1 --ridge 0.5 --find "
                           "--format csv");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.find("status,resolution\n") != std::string::npos);
  for (const std::string bad : {"--threshold-check 0.7", "--threshold-check -1", "--threshold-check-points 0"}) {
    INFO(bad);
    const auto b = run_cli("--link 'min(z^2,4)' --hard 1 --find " + bad);
    CHECK(b.code == 2);
    CHECK(b.out.find(bad.substr(0, bad.find(' '))) != std::string::npos);
  }
}

// δ_alg of a link with a trivial direction (E[z1 y] ≠ 0 for tanh(z1) + min(z2², 4)) is 0, whatever
// the accuracy of the later stages, and its hard direction is z2 (E[z2 | y] = 0: y is even in z2).
// The CLI reports both also where the alg analysis ended not_converged (its channel integration
// budget, session 18), with a note and the caveat in hard_source.
TEST_CASE("nn CLI reports delta_alg = 0 and the hard direction for a link with a trivial direction", "[hessian][cli]") {
  const auto r = run_cli("--link 'tanh(z1) + min(z2^2,4)' --activation quadratic --init small:0 --delta 2 --format json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["delta_alg"].is_number());
  CHECK(j["delta_alg"].get<double>() == 0.0);
  CHECK(j["options"]["hard"] == "2");
  if (j.contains("delta_alg_note")) {
    CHECK(j["delta_alg_note"].get<std::string>().find("did not converge") != std::string::npos);
    CHECK(j["options"]["hard_source"].get<std::string>().find("did not converge") != std::string::npos);
  }
}
