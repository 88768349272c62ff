#pragma once
// Subcommand registry of the `deltacrit` CLI. Each cmd_<name>.cpp registers itself with a
// static `CommandRegistration`, so adding a command touches no shared file.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace deltacrit::cli {

// Filled by a command's callback; main() returns `exit_code`.
//   0 success, 2 invalid input, 3 a computation did not converge (result printed with its status),
//   4 a numerical failure, 130 interrupted.
struct CommandContext {
  int exit_code = 0;
};

using CommandSetup = std::function<void(CLI::App& sub, CommandContext& ctx)>;

struct CommandInfo {
  std::string name;
  std::string description;
  int order;  // position in --help
  CommandSetup setup;
};

std::vector<CommandInfo>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, int order, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
  }
};

}  // namespace deltacrit::cli
