#include "link_options.hpp"

#include "deltacrit/core/status.hpp"

namespace deltacrit::cli {
namespace {

std::string need_note(Need need) {
  switch (need) {
    case Need::command: return " (required)";
    case Need::command_unless_empirical: return " (required unless --phase1 empirical:FILE)";
    case Need::optional:
    case Need::parser: break;  // CLI11 marks a parser-required option REQUIRED itself
  }
  return "";
}

}  // namespace

void add_link_options(CLI::App& sub, LinkArgs& args, const LinkOptionFlags& flags) {
  CLI::Option* link = sub.add_option("--link", args.link, "Link y = g(z): an expression in z (k = 1) or z1..z3" + need_note(flags.link));
  if (flags.link == Need::parser) link->required();
  if (flags.k) {
    CLI::Option* k = sub.add_option("--k", args.k, "Number of latent directions, 1..3 (0, the default: inferred from the link)");
    if (flags.k_range) k->check(CLI::Range(0, 3));
  }
  const std::string gaussian = flags.noise == NoiseForms::gaussian_k1_only ? "gaussian:VAR (k = 1 only)" : "gaussian:VAR";
  sub.add_option("--noise", args.noise,
                 "Output noise: none (default), " + gaussian + ", flip:EPS (+-1 labels), erase:EPS (drops the sample), resample:EPS");
}

void add_delta_option(CLI::App& sub, LinkArgs& args, const LinkOptionFlags& flags) {
  std::string help = "Sample ratios delta = n/d: a list 'a,b,c' or A:B:STEP, each > 0";
  if (flags.delta_sets_n) help += "; n = round(delta*d)";
  CLI::Option* delta = sub.add_option("--delta", args.delta, help + need_note(flags.delta));
  if (flags.delta == Need::parser) delta->required();
}

void require_link(const LinkArgs& args) {
  if (args.link.empty()) throw InputError("--link", "--link: give the link y = g(z), e.g. --link 'z^2'");
}

void require_delta(const LinkArgs& args) {
  if (args.delta.empty()) throw InputError("--delta", "--delta: give the points, e.g. --delta 0.4:1.6:0.05 or --delta 1.0");
}

}  // namespace deltacrit::cli
