#pragma once
// The model options --link, --k, --noise and --delta of the subcommands alg, se, spectral, nn,
// compare and simulate: registered here once, so that their names, checks and help texts agree.
// Each command says through LinkOptionFlags which of them it offers and how it insists on them.
#include <CLI/CLI.hpp>

#include <string>

namespace deltacrit::cli {

// Values of the model options; a command's argument struct derives from it.
struct LinkArgs {
  std::string link;            // --link: y = g(z), an expression in z (k = 1) or z1..z3
  int k = 0;                   // --k: number of latent directions 1..3; 0 infers it from the link
  std::string noise = "none";  // --noise: none, gaussian:VAR, flip:EPS, erase:EPS, resample:EPS
  std::string delta;           // --delta: sample ratios n/d, a list 'a,b,c' or A:B:STEP ("" = not given)
};

// How a command insists on --link or --delta.
enum class Need {
  optional,                  // may be omitted
  parser,                    // CLI11 ->required(): omitting it is a parse error ("--link is required")
  command,                   // the command calls require_link / require_delta (InputError naming the option)
  command_unless_empirical,  // --link of nn: required by the command unless --phase1 empirical:FILE
};

// Noise forms a command can evaluate.
enum class NoiseForms {
  all,               // none, gaussian:VAR, flip:EPS, erase:EPS, resample:EPS
  gaussian_k1_only,  // state evolution and GAMP: gaussian:VAR for k = 1 only (the ray denoiser for
                     // k >= 2 needs a deterministic link)
};

struct LinkOptionFlags {
  Need link = Need::parser;
  bool k = true;        // offer --k
  bool k_range = true;  // reject --k outside 0..3 while parsing; false: Link::parse rejects it, naming k
  NoiseForms noise = NoiseForms::all;
  Need delta = Need::optional;  // for add_delta_option (command_unless_empirical is for --link only)
  bool delta_sets_n = false;    // finite-d runs: the help says n = round(delta*d)
};

// Registers --link, --k (when flags.k) and --noise, in this order.
void add_link_options(CLI::App& sub, LinkArgs& args, const LinkOptionFlags& flags);
// Registers --delta; separate from add_link_options so a command keeps it next to related options.
void add_delta_option(CLI::App& sub, LinkArgs& args, const LinkOptionFlags& flags);

// InputError naming --link when no link is given (also catches --link '').
void require_link(const LinkArgs& args);
// InputError naming --delta when no points are given (also catches --delta '').
void require_delta(const LinkArgs& args);

}  // namespace deltacrit::cli
