// deltacrit — thresholds for learning multi-index models (see README.md and docs/cli.md).
#include <algorithm>
#include <iostream>

#include "command.hpp"
#include "deltacrit/core/memory.hpp"
#include "deltacrit/core/status.hpp"

namespace deltacrit::cli {
std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}
}  // namespace deltacrit::cli

int main(int argc, char** argv) {
  using namespace deltacrit::cli;
  deltacrit::core::keep_freed_memory();  // reuse freed arrays across the δ of a scan (core/memory.hpp)
  CLI::App app{"deltacrit: computational thresholds (delta_alg, delta_NN) for multi-index models, "
               "with a finite-d simulator to check them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "deltacrit 0.1.0");
  CommandContext ctx;
  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  for (auto& info : registry) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    info.setup(*sub, ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const deltacrit::InputError& e) {
    std::cerr << "deltacrit: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "deltacrit: internal error: " << e.what() << "\n";
    return 4;
  }
  return ctx.exit_code;
}
