#pragma once
// `deltacrit simulate <kind>`: the shared options, the sweep runner (progress bar, Ctrl-C, output
// formats) and the registry through which each kind adds its sub-subcommand. A kind's file
// (cmd_simulate.cpp for spectral/gd/hessian; the GAMP kind in its own cmd_simulate_*.cpp) does:
//
//   const SimulateKindRegistration reg{"gamp", "GAMP on synthetic data", 10,
//     [](CLI::App& sub, CommandContext& ctx) {
//       auto common = std::make_shared<SimulateCommon>();
//       add_simulate_common_options(sub, *common);
//       ... kind options ...
//       sub.callback([common, &ctx] {
//         simulate::SeedKind kind = ...;               // (SeedContext) → SeedResult
//         nlohmann::json echo = common_options_json(*common);
//         echo["..."] = ...;                           // kind options
//         ctx.exit_code = run_simulation(*common, kind, echo, "gamp");
//       });
//     }};
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "deltacrit/simulate/sweep.hpp"
#include "link_options.hpp"
#include "output.hpp"

namespace deltacrit::cli {

// --link and --delta are required; there is no --k (k is inferred from the link).
struct SimulateCommon : LinkArgs {
  int d = 800;                 // --d
  int seeds = 1;               // --seeds
  std::uint64_t seed = 1;      // --seed
  int threads = 1;             // --threads
  double max_seconds = 0.0;    // --max-seconds (0 = no budget)
  int bootstrap = 1000;        // --bootstrap
  Format format = Format::table;
  std::string out;
};

// `noise`: the noise forms the kind supports (GAMP: gaussian for k = 1 only).
void add_simulate_common_options(CLI::App& sub, SimulateCommon& common, NoiseForms noise = NoiseForms::all);
// Parsed --link and --noise (InputError naming "link"/"noise").
// --solver of `simulate spectral` and `compare spectral`: auto, lanczos or dense (InputError otherwise).
simulate::SpectralOptions::Solver parse_solver(const std::string& s);
model::Link parse_common_link(const SimulateCommon& common);
model::Noise parse_common_noise(const SimulateCommon& common);
// Sweep options from the common ones (parses --delta; InputError naming the option).
simulate::SweepOptions sweep_options(const SimulateCommon& common);
nlohmann::json common_options_json(const SimulateCommon& common);

// Runs the sweep (progress bar on stderr when it is a terminal, Ctrl-C writes what is finished)
// and writes the report in the chosen format. Returns the exit code: 0, 3 (not converged /
// budget), 4 (numerical issue), 130 (interrupted).
int run_simulation(const SimulateCommon& common, const simulate::SeedKind& kind, const nlohmann::json& options_echo,
                   const std::string& kind_name);

struct SimulateKindInfo {
  std::string name;
  std::string description;
  int order;
  CommandSetup setup;
};

std::vector<SimulateKindInfo>& simulate_kind_registry();

struct SimulateKindRegistration {
  SimulateKindRegistration(std::string name, std::string description, int order, CommandSetup setup) {
    simulate_kind_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
  }
};

}  // namespace deltacrit::cli
