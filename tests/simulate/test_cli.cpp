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
    for (const char* key : {"delta", "n", "d", "seeds", "overlap_mean", "overlap_stderr", "overlap_matrix"})
      CHECK(p.contains(key));
    CHECK(p.at("seeds") == 2);
  }
}

TEST_CASE("simulate/cli: a small gd run reports the gd keys", "[simulate][cli]") {
  const auto r = run_cli("simulate gd --link 'tanh(z)' --d 30 --delta 5 --steps 50 --lr 0.5 --init random:0.5 --format json");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const auto& p = j.at("points")[0];
  for (const char* key : {"escape_step_mean", "learned_fraction", "train_loss", "test_loss"}) CHECK(p.contains(key));
}
