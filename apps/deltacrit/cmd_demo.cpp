// `deltacrit demo`: δ_alg for classic links with the time each took — the README's first command.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "command.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/model/link.hpp"
#include "output.hpp"

namespace deltacrit::cli {
namespace {

struct DemoLink {
  const char* text;
  const char* noise;
  double tol;
  const char* known;  // the value references.md gives, for the reader's comparison
};

void run(CommandContext& ctx) {
  const DemoLink links[] = {
      {"z^2", "none", 1e-8, "0.5"},
      {"abs(z)", "none", 1e-8, "0.5"},
      {"z^2", "gaussian:1", 1e-6, "0.646591"},
      {"sign(z)", "none", 1e-8, "0 (trivial)"},
      {"z1*z2", "none", 1e-5, "0.593751098"},
      {"sign(z1*z2)", "none", 1e-5, "pi^2/4 = 2.467401"},
      {"z1^2+z2^2+z3^2", "none", 1e-3, "1.5"},
      {"sign(z1*z2*z3)", "none", 1e-3, "inf (hard)"},
      {"z1^2+sign(z1*z2*z3)", "none", 1e-3, "0.575166, then ~pi^2/4"},
  };
  std::cout << fmt::format("{:<22} {:<11} {:>13} {:>9}  {:<26} {:>8}  {}\n", "link", "noise", "delta_alg",
                           "± err", "stages", "seconds", "reference");
  Status overall = Status::success;
  for (const auto& l : links) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto link = model::Link::parse(l.text);
    alg::AlgOptions opt;
    opt.tol = l.tol;
    const auto r = alg::compute_delta_alg(link, model::Noise::parse(l.noise), opt);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string stages;
    for (const auto& st : r.stages) stages += (stages.empty() ? "" : ", ") + fmt_number(st.delta, 6);
    if (stages.empty()) stages = "-";
    std::cout << fmt::format("{:<22} {:<11} {:>13} {:>9}  {:<26} {:>8.3f}  {}\n", l.text, l.noise,
                             fmt_number(r.delta_alg, 10), fmt_number(r.error_estimate, 2), stages, s, l.known);
    std::cout.flush();
    overall = worst(overall, r.status);
  }
  ctx.exit_code = exit_code_for(overall);
}

const CommandRegistration registration{"demo", "delta_alg of classic links with timings (README demo)", 5,
                                       [](CLI::App& sub, CommandContext& ctx) {
                                         sub.callback([&ctx] { run(ctx); });
                                       }};

}  // namespace
}  // namespace deltacrit::cli
