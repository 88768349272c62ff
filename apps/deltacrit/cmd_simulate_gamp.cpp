// `deltacrit simulate gamp`: Bayes-optimal GAMP on synthetic data, with the denoisers of the state
// evolution (docs/se.md), to check `deltacrit se` at finite d.
#include <memory>
#include <string>

#include "deltacrit/simulate/gamp.hpp"
#include "simulate_command.hpp"

namespace deltacrit::cli {
namespace {

const SimulateKindRegistration gamp_registration{
    "gamp", "Bayes-optimal GAMP (same denoisers as `se`); overlap after convergence", 0,
    [](CLI::App& sub, CommandContext& ctx) {
      auto common = std::make_shared<SimulateCommon>();
      auto opts = std::make_shared<simulate::GampOptions>();
      add_simulate_common_options(sub, *common, NoiseForms::gaussian_k1_only);
      sub.add_option("--max-iter", opts->max_iterations, "GAMP iterations at most (default 300)");
      sub.add_option("--tol", opts->tol, "Stop when ||Q_{t+1} - Q_t||_F < tol, Q = W^T W / d (default 1e-6)");
      sub.add_option("--damping", opts->damping, "Damping eta in (0, 1] (default 1: undamped)");
      sub.add_option("--seed-overlap", opts->seed, "Uninformed start with W^T W / d = seed*I (default 1e-12)");
      sub.add_option("--window", opts->stationary_window, "Stationary-regime window in iterations (default 30)");
      sub.add_option("--stationary-tol", opts->stationary_tol, "Accept a run whose tr Q/k spans less than this over the window (default 0.02; 0 = off)");
      auto precision = std::make_shared<std::string>("auto");
      sub.add_option("--precision", *precision,
                     "Precision A_hat: nishimori = (1/d) sum g g^T (positive semi-definite), derivative = -(1/d) sum dg, "
                     "auto (default) = nishimori for k >= 2, derivative for k = 1");
      sub.add_option("--directions", opts->denoiser.directions, "k >= 2: rays of the denoiser (0 = automatic)");
      sub.callback([common, opts, precision, &ctx] {
        opts->precision = simulate::parse_precision(*precision);
        opts->validate();
        simulate::GampConfig cfg{parse_common_link(*common), parse_common_noise(*common), *opts};
        nlohmann::json echo = common_options_json(*common);
        echo["max_iter"] = opts->max_iterations;
        echo["tol"] = opts->tol;
        echo["damping"] = opts->damping;
        echo["seed_overlap"] = opts->seed;
        echo["directions"] = opts->denoiser.directions;
        echo["window"] = opts->stationary_window;
        echo["stationary_tol"] = opts->stationary_tol;
        echo["precision"] = *precision;
        ctx.exit_code = run_simulation(*common, simulate::gamp_kind(cfg), echo, "gamp");
      });
    }};

}  // namespace
}  // namespace deltacrit::cli
