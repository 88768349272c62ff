// The `deltacrit simulate` CLI as a user runs it: bad input exits with code 2 and a message naming
// the option; a small run returns the JSON shape of issue 4.
#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "catch_compat.hpp"
#include "cli_run.hpp"
#include "tolerances.hpp"

namespace {
using deltacrit::test::run_cli;

void expect_input_error(const std::string& args, const std::string& fragment) {
  INFO(args);
  const auto r = run_cli(args);
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find(fragment) != std::string::npos);
}
}  // namespace

TEST_CASE("simulate/cli: bad input exits with code 2 naming the option", "[simulate][cli]") {
  expect_input_error("simulate spectral --link 'z^2' --preprocess '1-1/y' --d 1 --delta 1", "--d");
  expect_input_error("simulate spectral --link 'z^2' --preprocess '1-1/y' --d 100 --delta 0", "--delta");
  expect_input_error("simulate spectral --link 'z^2' --preprocess '1-1/y' --d 10 --delta 0.01", "n = round(delta*d) = 0");
  expect_input_error("simulate spectral --link 'z^2' --preprocess 'mm' --d 100 --delta 1", "--preprocess");
  expect_input_error("simulate spectral --link 'z1*z2' --preprocess 'optimal' --d 100 --delta 1", "k = 1 only");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --lr 0", "--lr");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --width 9", "--width");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --width 2 --second-layer fixed:1,2,3", "--second-layer");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --loss logistic", "--loss");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --activation swish", "activation");
  expect_input_error("simulate gd --link 'z^2' --d 50 --delta 2 --steps 20000000", "--steps");
  expect_input_error("simulate gd --link 'z^2' --d 2000 --delta 4 --steps 100000 --max-seconds 1", "--max-seconds");
  expect_input_error("simulate hessian --link 'z^2' --d 50 --delta 2,3 --dump-law x.bin", "--dump-law");
  expect_input_error("simulate gd --link 'z1*z2' --d 50 --delta 2 --hard 3", "--hard");
}

TEST_CASE("simulate/cli: a small spectral run prints the JSON of issue 4", "[simulate][cli]") {
  const auto r = run_cli("simulate spectral --link 'z^2' --preprocess 'min(y,3)-1' --d 60 --delta 2,4 --seeds 2 --format json");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("status") == "success");
  CHECK(j.at("options").at("preprocess") == "min(y,3)-1");
  CHECK(j.contains("seconds"));
  REQUIRE(j.at("points").size() == 2);
  for (const auto& p : j.at("points")) {
    for (const char* key : {"delta", "n", "d", "seeds", "overlap_mean", "overlap_stderr", "subspace_overlap_matrix"})
      CHECK(p.contains(key));
    CHECK(p.at("seeds") == 2);
  }
}

TEST_CASE("simulate/cli: k = 2 runs report a 2x2 subspace overlap matrix whatever the raw shape", "[simulate][cli]") {
  // gd and hessian with 3 neurons: raw overlap matrices are 2×3 per run, the subspace matrix 2×2;
  // spectral with nev = 3 likewise. Consistency (an invariant of the definition): tr S/k = overlap per run,
  // hence for the means too.
  for (const char* args : {"simulate gd --link 'z1*z2' --width 3 --d 30 --delta 3 --steps 20 --lr 0.5 --init random:0.5 "
                           "--seeds 2 --format json",
                           "simulate spectral --link 'z1^2+z2^2' --preprocess 'min(y,6)-2' --nev 3 --d 40 --delta 4 "
                           "--seeds 2 --format json",
                           "simulate hessian --link 'z1*z2' --width 3 --d 20 --delta 3 --steps 20 --lr 0.5 --init random:0.5 "
                           "--seeds 2 --format json"}) {
    INFO(args);
    const auto r = run_cli(args);
    INFO(r.out);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    const auto& p = j.at("points")[0];
    CHECK(!p.contains("overlap_matrix"));
    for (const char* key : {"subspace_overlap_matrix", "subspace_overlap_matrix_stderr"}) {
      REQUIRE(p.at(key).size() == 2);
      CHECK(p.at(key)[0].size() == 2);
      CHECK(p.at(key)[1].size() == 2);
    }
    CHECK(p.at("principal_cos2").size() == 2);
    const auto& S = p.at("subspace_overlap_matrix");
    CHECK((S[0][0].get<double>() + S[1][1].get<double>()) / 2 == Approx(p.at("overlap_mean").get<double>()).epsilon(deltacrit::test_tol::kSubspaceKind));
    for (const auto& run : p.at("runs")) {
      CHECK(run.at("overlap_matrix").size() == 2);
      CHECK(run.at("overlap_matrix")[0].size() == 3);
      CHECK(run.at("subspace_overlap_matrix").size() == 2);
      CHECK(run.at("subspace_overlap_matrix")[0].size() == 2);
    }
  }
  const auto csv = run_cli("simulate spectral --link 'z1^2+z2^2' --preprocess 'min(y,6)-2' --d 40 --delta 4 --format csv");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.find("subspace_overlap_2_1,subspace_overlap_2_1_stderr") != std::string::npos);
  // The table shows the seed means of the principal cos², whose mean over a = 1, 2 is overlap_mean
  // (tr S/k, the invariant above).
  const auto table = run_cli("simulate spectral --link 'z1^2+z2^2' --preprocess 'min(y,6)-2' --d 40 --delta 4 --seeds 2");
  REQUIRE(table.code == 0);
  INFO(table.out);
  CHECK(table.out.find("principal_cos2_1") != std::string::npos);
  CHECK(table.out.find("principal_cos2_2") != std::string::npos);
  const auto js = nlohmann::json::parse(
      run_cli("simulate spectral --link 'z1^2+z2^2' --preprocess 'min(y,6)-2' --d 40 --delta 4 --seeds 2 --format json").out);
  const auto& q = js.at("points")[0];
  const double mean_cos2 = (q.at("principal_cos2")[0].get<double>() + q.at("principal_cos2")[1].get<double>()) / 2;
  CHECK(mean_cos2 == Approx(q.at("overlap_mean").get<double>()).epsilon(deltacrit::test_tol::kSubspaceKind));
}

TEST_CASE("simulate/cli: a small gd run reports the gd keys", "[simulate][cli]") {
  const auto r = run_cli("simulate gd --link 'tanh(z)' --d 30 --delta 5 --steps 50 --lr 0.5 --init random:0.5 --format json");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const auto& p = j.at("points")[0];
  for (const char* key : {"escape_step_mean", "learned_fraction", "train_loss", "test_loss"}) CHECK(p.contains(key));
}
