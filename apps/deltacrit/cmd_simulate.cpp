// `deltacrit simulate <kind>`: finite-d experiments (docs/simulate.md). Kinds here: spectral, gd,
// hessian; other modules add theirs through simulate_command.hpp.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "command.hpp"
#include "deltacrit/core/grid.hpp"
#include "deltacrit/phase1/network.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "deltacrit/simulate/hessian.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "output.hpp"
#include "simulate_command.hpp"

namespace deltacrit::cli {

std::vector<SimulateKindInfo>& simulate_kind_registry() {
  static std::vector<SimulateKindInfo> registry;
  return registry;
}

namespace {

// Set by SIGINT; the sweep checks it between seeds (and GD between steps). A signal handler can
// only reach static storage, hence the one file-scope flag of the CLI.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_sigint(int) { g_interrupted.store(true); }

}  // namespace

simulate::SpectralOptions::Solver parse_solver(const std::string& s) {
  using S = simulate::SpectralOptions::Solver;
  if (s == "auto") return S::automatic;
  if (s == "lanczos") return S::lanczos;
  if (s == "dense") return S::dense;
  throw InputError("--solver", "--solver: '" + s + "' is not recognised (accepted: auto, lanczos, dense)");
}

void add_simulate_common_options(CLI::App& sub, SimulateCommon& c, NoiseForms noise) {
  LinkOptionFlags flags;
  flags.k = false;
  flags.noise = noise;
  flags.delta = Need::parser;
  flags.delta_sets_n = true;
  add_link_options(sub, c, flags);
  sub.add_option("--d", c.d, "Dimension d >= 2 (default 800)");
  add_delta_option(sub, c, flags);
  sub.add_option("--seeds", c.seeds, "Independent seeds per delta (default 1); results are mean +- standard error");
  sub.add_option("--seed", c.seed, "User seed (default 1); seed index s uses stream s of it at every delta");
  sub.add_option("--threads", c.threads, "Threads for the row-parallel kernels, 1..64 (default 1); results do not depend on it");
  sub.add_option("--max-seconds", c.max_seconds, "Wall-clock budget in seconds (0 = none); what is finished is reported");
  sub.add_option("--bootstrap", c.bootstrap, "Bootstrap resamples for the empirical threshold interval (default 1000)");
  add_format_option(sub, c.format, true);
  sub.add_option("--out", c.out, "Write the output to this file (default stdout)");
}

model::Link parse_common_link(const SimulateCommon& c) { return model::Link::parse(c.link); }
model::Noise parse_common_noise(const SimulateCommon& c) { return model::Noise::parse(c.noise); }

simulate::SweepOptions sweep_options(const SimulateCommon& c) {
  simulate::SweepOptions o;
  o.d = c.d;
  if (c.d < 2) throw InputError("--d", "--d: " + std::to_string(c.d) + " is out of range (accepted: d >= 2)");
  o.deltas = parse_grid(c.delta, "--delta", 0.0, true, 1e6, 10000);
  o.seeds = c.seeds;
  o.seed = c.seed;
  o.threads = c.threads;
  o.max_seconds = c.max_seconds;
  o.bootstrap = c.bootstrap;
  o.validate();
  return o;
}

nlohmann::json common_options_json(const SimulateCommon& c) {
  nlohmann::json j;
  j["link"] = c.link;
  j["noise"] = c.noise;
  j["d"] = c.d;
  j["delta"] = c.delta;
  j["seeds"] = c.seeds;
  j["seed"] = c.seed;
  j["threads"] = c.threads;
  j["max_seconds"] = c.max_seconds;
  j["bootstrap"] = c.bootstrap;
  return j;
}

int run_simulation(const SimulateCommon& common, const simulate::SeedKind& kind, const nlohmann::json& options_echo,
                   const std::string& kind_name) {
  const simulate::SweepOptions options = sweep_options(common);
  const bool tty = isatty(fileno(stderr)) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  bool drew = false;
  auto progress = [&](int done, int total) {
    if (!tty) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < 1.0 && done < total) return;
    if (!drew && done == total) return;
    constexpr int kBar = 30;
    const int filled = total > 0 ? kBar * done / total : kBar;
    std::fprintf(stderr, "\r[%-*s] %d/%d seeds, %.1f s", kBar, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 done, total, s);
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
    drew = true;
  };
  g_interrupted.store(false);
  auto previous = std::signal(SIGINT, on_sigint);
  simulate::SweepReport report;
  try {
    report = simulate::run_sweep(options, kind, progress, &g_interrupted);
  } catch (...) {
    std::signal(SIGINT, previous);
    throw;
  }
  std::signal(SIGINT, previous);
  if (drew && report.interrupted) std::fprintf(stderr, "\n");
  std::string text;
  switch (common.format) {
    case Format::json: text = simulate::report_json(report, options_echo, kind_name).dump(2) + "\n"; break;
    case Format::csv: text = simulate::report_csv(report); break;
    case Format::table: text = simulate::report_table(report, kind_name); break;
  }
  write_output(text, common.out);
  if (report.interrupted) {
    std::cerr << "deltacrit: interrupted; finished seeds were written\n";
    return 130;
  }
  if (report.budget_exhausted) {
    std::cerr << "deltacrit: --max-seconds budget exhausted; finished seeds were written\n";
    return 3;
  }
  return exit_code_for(report.status == Status::not_computed ? Status::numerical_issue : report.status);
}

namespace {

struct NetworkArgs {
  std::string activation = "tanh";
  std::string loss = "square";
  int width = 1;
  std::string second_layer;
  std::string init = "small:0.01";
  double ridge = 0.0;
  double lr = 0.1;
  long steps = 1000;
  long record_every = 0;
  bool unit_norm = false;
  std::string hard;
  bool freeze_hard = false;
  std::size_t test_size = 1000;
  double escape_level = 0.1;
  double learned_level = 0.3;
};

void add_network_options(CLI::App& sub, NetworkArgs& a, bool with_test) {
  sub.add_option("--activation", a.activation, "relu, tanh (default), erf, quadratic, he:K, softplus, logcosh");
  sub.add_option("--loss", a.loss, "square (default) or logistic (labels +-1)");
  sub.add_option("--width", a.width, "Width m, 1..8 (default 1)");
  sub.add_option("--second-layer", a.second_layer, "fixed:V1,..,Vm (default fixed:1 for m = 1, fixed:1/m,.. otherwise) or trained");
  sub.add_option("--init", a.init, "small:S or random:S: each w_j uniform on the sphere of radius S (default small:0.01)");
  sub.add_option("--ridge", a.ridge, "Ridge lambda >= 0: risk + (lambda/2)|W|_F^2 (default 0)");
  sub.add_option("--lr", a.lr, "Learning rate > 0 (default 0.1)");
  sub.add_option("--steps", a.steps, "Full-batch GD steps, 0..1e7 (default 1000)");
  sub.add_option("--record-every", a.record_every, "Record the time series every K steps (default steps/100)");
  sub.add_flag("--unit-norm", a.unit_norm, "Riemannian GD with every neuron on the unit sphere");
  sub.add_option("--hard", a.hard, "Hard latent directions, 1-based, e.g. 2,3 (escape/learned refer to them)");
  sub.add_flag("--freeze-hard", a.freeze_hard, "Zero the gradient along the hard directions (init orthogonal to them)");
  if (with_test) sub.add_option("--test-size", a.test_size, "Fresh test samples for the test loss (default 1000; 0 = none)");
  sub.add_option("--escape-level", a.escape_level, "Hard overlap that defines the escape step (default 0.1)");
  sub.add_option("--learned-level", a.learned_level, "Final overlap that counts as learned (default 0.3)");
}

simulate::GdConfig make_gd_config(const SimulateCommon& common, const NetworkArgs& a) {
  simulate::GdConfig cfg{parse_common_link(common), parse_common_noise(common), {}};
  auto& o = cfg.options;
  o.activation = model::Activation::parse(a.activation);
  o.loss = model::Loss::parse(a.loss);
  if (a.width < 1 || a.width > simulate::kMaxWidth) {
    throw InputError("--width", "--width: " + std::to_string(a.width) + " is out of range (accepted: 1..8)");
  }
  o.width = a.width;
  o.second_layer = phase1::parse_second_layer(a.second_layer, a.width);
  o.init = phase1::parse_init(a.init);
  o.ridge = a.ridge;
  o.lr = a.lr;
  o.steps = a.steps;
  o.record_every = a.record_every;
  o.unit_norm = a.unit_norm;
  o.hard = parse_hard_indices(a.hard, cfg.link.k());
  o.freeze_hard = a.freeze_hard;
  o.test_size = a.test_size;
  o.escape_level = a.escape_level;
  o.learned_level = a.learned_level;
  o.validate(cfg.link.k());
  return cfg;
}

// Refuses runs that cannot fit the --max-seconds budget even at an optimistic speed.
void check_budget(const SimulateCommon& common, const simulate::GdOptions& o) {
  if (common.max_seconds <= 0) return;
  const auto sweep = sweep_options(common);
  double total = 0.0;
  for (double delta : sweep.deltas) {
    const auto n = static_cast<std::size_t>(std::llround(delta * common.d));
    total += sweep.seeds * simulate::gd_seconds_lower_bound(n, common.d, o.width, o.steps, common.threads);
  }
  if (total > common.max_seconds) {
    std::ostringstream msg;
    msg.precision(3);
    msg << "--steps: " << o.steps << " steps over this sweep need at least " << total
        << " s even at an optimistic speed, more than --max-seconds " << common.max_seconds
        << " (lower --steps, --seeds or the delta range, or raise --max-seconds)";
    throw InputError("--steps", msg.str());
  }
}

nlohmann::json network_json(const NetworkArgs& a, const simulate::GdOptions& o) {
  nlohmann::json j;
  j["activation"] = a.activation;
  j["loss"] = a.loss;
  j["width"] = a.width;
  j["second_layer"] = o.second_layer.text();
  j["init"] = o.init.text();
  j["ridge"] = a.ridge;
  j["lr"] = a.lr;
  j["steps"] = a.steps;
  j["record_every"] = a.record_every;
  j["unit_norm"] = a.unit_norm;
  j["hard"] = o.hard;
  j["freeze_hard"] = a.freeze_hard;
  j["escape_level"] = a.escape_level;
  j["learned_level"] = a.learned_level;
  return j;
}

const SimulateKindRegistration spectral_registration{
    "spectral", "Top eigenvector(s) of D = (1/n) sum T(y_i) x_i x_i^T and their overlap with Theta*", 1,
    [](CLI::App& sub, CommandContext& ctx) {
      auto common = std::make_shared<SimulateCommon>();
      auto preprocess = std::make_shared<std::string>();
      auto solver = std::make_shared<std::string>("auto");
      auto opts = std::make_shared<simulate::SpectralOptions>();
      add_simulate_common_options(sub, *common);
      sub.add_option("--preprocess", *preprocess, "Preprocessing T(y): an expression in y, e.g. '1 - 1/y', or optimal (1 - 1/E[z^2|y], k = 1) (required)")->required();
      sub.add_option("--nev", opts->nev, "Top eigenvectors used (default 0 = k)");
      sub.add_option("--solver", *solver, "auto (default), lanczos (matrix-free) or dense (d <= 4000)");
      sub.add_option("--tol", opts->tol, "Lanczos relative residual tolerance (default 1e-9)");
      sub.add_option("--ncv", opts->ncv, "Lanczos basis size (default 0 = auto)");
      sub.callback([common, preprocess, solver, opts, &ctx] {
        if (*preprocess == "mm") {
          throw InputError("--preprocess", "--preprocess: 'mm' (Mondelli-Montanari, delta-dependent) is not wired in; "
                                               "use 'optimal' or give T as an expression in y");
        }
        sweep_options(*common);
        opts->solver = parse_solver(*solver);
        const model::Link link = parse_common_link(*common);
        const model::Noise noise = parse_common_noise(*common);
        simulate::SpectralConfig cfg{link, noise,
                                     *preprocess == "optimal" ? simulate::Preprocessing::optimal(link, noise)
                                                              : simulate::Preprocessing::expression(*preprocess),
                                     *opts};
        opts->validate(common->d, cfg.link.k());
        nlohmann::json echo = common_options_json(*common);
        echo["preprocess"] = *preprocess;
        echo["nev"] = opts->nev;
        echo["solver"] = *solver;
        echo["tol"] = opts->tol;
        echo["ncv"] = opts->ncv;
        ctx.exit_code = run_simulation(*common, simulate::spectral_kind(cfg), echo, "spectral");
      });
    }};

const SimulateKindRegistration gd_registration{
    "gd", "Two-layer network trained by full-batch gradient descent: overlaps, losses, escape step", 2,
    [](CLI::App& sub, CommandContext& ctx) {
      auto common = std::make_shared<SimulateCommon>();
      auto net = std::make_shared<NetworkArgs>();
      add_simulate_common_options(sub, *common);
      add_network_options(sub, *net, true);
      sub.callback([common, net, &ctx] {
        sweep_options(*common);
        const simulate::GdConfig cfg = make_gd_config(*common, *net);
        check_budget(*common, cfg.options);
        nlohmann::json echo = common_options_json(*common);
        echo.update(network_json(*net, cfg.options));
        echo["test_size"] = net->test_size;
        ctx.exit_code = run_simulation(*common, simulate::gd_kind(cfg), echo, "gd");
      });
    }};

const SimulateKindRegistration hessian_registration{
    "hessian", "Lowest Hessian eigenpairs at a GD-trained point (phase 1), overlaps, dense spectrum, law dump", 3,
    [](CLI::App& sub, CommandContext& ctx) {
      auto common = std::make_shared<SimulateCommon>();
      auto net = std::make_shared<NetworkArgs>();
      auto hopts = std::make_shared<simulate::HessianOptions>();
      auto dump = std::make_shared<std::string>();
      add_simulate_common_options(sub, *common);
      add_network_options(sub, *net, false);
      sub.add_option("--nev", hopts->nev, "Lowest eigenpairs (default 3)");
      sub.add_option("--tol", hopts->tol, "Lanczos relative residual tolerance (default 1e-8)");
      sub.add_option("--ncv", hopts->ncv, "Lanczos basis size (default 0 = auto)");
      sub.add_option("--spectrum", hopts->spectrum_bins, "Also the full dense spectrum as a histogram with this many bins (d*m <= 4000)");
      sub.add_option("--dump-law", *dump, "Write the empirical (y_i, u_i, z_i, D_i) to FILE (single --delta and --seeds 1)");
      sub.callback([common, net, hopts, dump, &ctx] {
        net->test_size = 0;
        const auto sweep = sweep_options(*common);
        simulate::HessianConfig cfg{make_gd_config(*common, *net), *hopts, *dump};
        hopts->validate(common->d * net->width);
        if (!dump->empty() && (sweep.deltas.size() != 1 || sweep.seeds != 1)) {
          throw InputError("--dump-law", "--dump-law: writes the law of one run; give a single --delta value and --seeds 1");
        }
        check_budget(*common, cfg.gd.options);
        nlohmann::json echo = common_options_json(*common);
        echo.update(network_json(*net, cfg.gd.options));
        echo["nev"] = hopts->nev;
        echo["tol"] = hopts->tol;
        echo["ncv"] = hopts->ncv;
        echo["spectrum"] = hopts->spectrum_bins;
        echo["dump_law"] = *dump;
        ctx.exit_code = run_simulation(*common, simulate::hessian_kind(cfg), echo, "hessian");
      });
    }};

const CommandRegistration registration{
    "simulate", "Finite-d experiments: spectral estimator, two-layer GD, Hessian spectra (sweeps over delta x seeds)", 50,
    [](CLI::App& sub, CommandContext& ctx) {
      sub.require_subcommand(1);
      auto& kinds = simulate_kind_registry();
      std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
      for (auto& kind : kinds) {
        CLI::App* k = sub.add_subcommand(kind.name, kind.description);
        kind.setup(*k, ctx);
      }
    }};

}  // namespace
}  // namespace deltacrit::cli
