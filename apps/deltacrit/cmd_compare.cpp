// `deltacrit compare se|spectral`: the asymptotic prediction and the matching finite-d simulation
// on the same δ grid, side by side, with the agreement rule and the threshold extrapolation of
// compare/compare.hpp (docs/simulate.md, "Compare").
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <limits>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "command.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/alg/se.hpp"
#include "deltacrit/compare/compare.hpp"
#include "deltacrit/core/grid.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/simulate/gamp.hpp"
#include "deltacrit/simulate/spectral.hpp"
#include "deltacrit/simulate/sweep.hpp"
#include "deltacrit/spectral/spectral_method.hpp"
#include "link_options.hpp"
#include "output.hpp"
#include "plot.hpp"
#include "simulate_command.hpp"

namespace deltacrit::cli {
namespace {

// Set by SIGINT; the sweeps check it between seeds. A signal handler can only reach static storage.
std::atomic<bool> g_compare_interrupted{false};

extern "C" void on_compare_sigint(int) { g_compare_interrupted.store(true); }

struct CompareArgs : LinkArgs {
  std::string d = "800";  // one d or a list "400,800,1600"
  int seeds = 4;
  std::uint64_t seed = 1;
  int threads = 1;
  double max_seconds = 0.0;
  int bootstrap = 1000;
  double alpha = 1.0 / 3.0;
  compare::AgreementOptions agreement;
  Format format = Format::table;
  std::string out;
  std::string plot;
};

// Points of the prediction curve drawn by --plot when the prediction is cheap (k = 1).
constexpr int kCurvePoints = 200;

// What a kind provides: the prediction on a δ grid, its threshold, the per-seed simulation.
struct Prediction {
  std::vector<double> overlap;  // NaN where not defined (k ≥ 2 spectral)
  std::vector<Status> status;
};

struct KindSetup {
  std::string name;              // "se" / "spectral"
  std::string simulation;        // "gamp" / "spectral"
  std::string threshold_name;    // "delta_alg" / "delta_T"
  double threshold = 0.0;        // predicted threshold (+∞: none)
  nlohmann::json prediction_extra = nlohmann::json::object();
  std::function<Prediction(const std::vector<double>&)> predict;
  bool cheap_curve = true;       // the prediction is cheap enough for a fine plotting grid
  simulate::SeedKind kind;
  nlohmann::json options_echo = nlohmann::json::object();
};

std::vector<int> parse_dims(const std::string& text) {
  std::vector<int> dims;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::size_t used = 0;
    long v = 0;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) {
      throw InputError("--d", "--d: '" + item + "' is not an integer (give d >= 2 or a list such as 400,800,1600)");
    }
    if (v < 2 || v > 100000000) throw InputError("--d", "--d: " + item + " is out of range (accepted: d >= 2)");
    for (int e : dims)
      if (e == v) throw InputError("--d", "--d: " + item + " is repeated");
    dims.push_back(static_cast<int>(v));
  }
  if (dims.empty()) throw InputError("--d", "--d: give d >= 2 or a list such as 400,800,1600");
  if (dims.size() > 16) throw InputError("--d", "--d: at most 16 values");
  return dims;
}

// `noise`: the noise forms of the kind's prediction and simulation (SE and GAMP: gaussian for k = 1 only).
void add_common(CLI::App& sub, CompareArgs& a, NoiseForms noise) {
  LinkOptionFlags flags;
  flags.noise = noise;
  flags.delta = Need::parser;
  flags.delta_sets_n = true;
  add_link_options(sub, a, flags);
  sub.add_option("--d", a.d, "Dimension d >= 2, or a list '400,800,1600' (thresholds extrapolated to d -> inf) (default 800)");
  add_delta_option(sub, a, flags);
  sub.add_option("--seeds", a.seeds, "Seeds per delta and d (default 4)");
  sub.add_option("--seed", a.seed, "User seed of the simulation (default 1)");
  sub.add_option("--threads", a.threads, "Threads of the simulation kernels, 1..64 (default 1)");
  sub.add_option("--max-seconds", a.max_seconds, "Wall-clock budget of each sweep in seconds (0 = none)");
  sub.add_option("--bootstrap", a.bootstrap, "Bootstrap resamples of the empirical threshold interval (default 1000)");
  sub.add_option("--alpha", a.alpha, "Exponent of the extrapolation delta_c(d) = delta_inf + c d^-alpha, in (0, 2] (default 1/3)");
  sub.add_option("--sigmas", a.agreement.sigmas, "Agreement: |sim - pred| <= sigmas*stderr + allowance/sqrt(d) (default 3)");
  sub.add_option("--allowance", a.agreement.allowance, "Coefficient of the finite-size allowance allowance/sqrt(d) (default 2, as the GAMP tests)");
  sub.add_option("--critical-window", a.agreement.window, "Critical window |delta - threshold| <= window*threshold*d^(-1/3) (default 1)");
  add_format_option(sub, a.format, true);
  sub.add_option("--out", a.out, "Write the output to this file (default stdout)");
  sub.add_option("--plot", a.plot, "Draw prediction, simulated points with error bars and thresholds: FILE.svg or FILE.png");
}

void validate_common(const CompareArgs& a) {
  try {
    a.agreement.validate();
  } catch (const InputError& e) {
    const std::string opt = e.parameter() == "window" ? std::string("--critical-window") : "--" + e.parameter();
    throw InputError(opt, opt + ": " + e.what());
  }
  auto ends_with = [](const std::string& t, const std::string& e) {
    return t.size() >= e.size() && t.compare(t.size() - e.size(), e.size(), e) == 0;
  };
  if (!a.plot.empty() && !ends_with(a.plot, ".svg") && !ends_with(a.plot, ".png")) {
    throw InputError("--plot", "--plot: '" + a.plot + "' must end in .svg (written directly) or .png (through gnuplot)");
  }
  if (!(a.alpha > 0.0 && a.alpha <= 2.0)) {
    throw InputError("--alpha", "--alpha: " + fmt_number(a.alpha) + " is out of range (accepted: 0 < alpha <= 2)");
  }
}

nlohmann::json threshold_json(const simulate::ThresholdEstimate& t) {
  if (t.status == Status::not_computed) return {{"status", "not_computed"}, {"note", t.note}};
  nlohmann::json j{{"status", std::string(to_string(t.status))},
                   {"delta_c", t.delta_c},
                   {"lower", t.lower},
                   {"upper", t.upper},
                   {"resamples", t.resamples}};
  if (!t.note.empty()) j["note"] = t.note;
  return j;
}

nlohmann::json maybe_number(double v) {
  if (std::isnan(v)) return nullptr;
  return number_or_inf(v, "compare");
}

std::string cell(double v, int digits = 6) { return std::isnan(v) ? std::string("-") : fmt_number(v, digits); }

void run(const CompareArgs& args, const KindSetup& kind, CommandContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int> dims = parse_dims(args.d);
  simulate::SweepOptions base;
  base.deltas = parse_grid(args.delta, "--delta", 0.0, true, 1e6, 10000);
  base.seeds = args.seeds;
  base.seed = args.seed;
  base.threads = args.threads;
  base.max_seconds = args.max_seconds;
  base.bootstrap = args.bootstrap;
  for (int d : dims) {
    base.d = d;
    base.validate();
  }
  const std::vector<double>& deltas = base.deltas;
  const Prediction pred = kind.predict(deltas);
  Status status = Status::success;
  for (Status s : pred.status) status = worst(status, s);
  // A prediction that did not converge (e.g. the state evolution at δ within a few per cent of its
  // threshold, where the iteration slows down, pitfall 9) sets the overall status; say where.
  nlohmann::json messages = nlohmann::json::array();
  for (std::size_t i = 0; i < pred.status.size(); ++i) {
    if (pred.status[i] != Status::success) {
      messages.push_back(fmt::format("prediction at delta = {}: {} (its value is the last iterate)",
                                     fmt_number(deltas[i], 6), to_string(pred.status[i])));
    }
  }

  nlohmann::json j;
  nlohmann::json echo = kind.options_echo;
  echo["link"] = args.link;
  echo["noise"] = args.noise;
  echo["d"] = dims;
  echo["delta"] = args.delta;
  echo["seeds"] = args.seeds;
  echo["seed"] = args.seed;
  echo["threads"] = args.threads;
  echo["max_seconds"] = args.max_seconds;
  echo["bootstrap"] = args.bootstrap;
  echo["alpha"] = args.alpha;
  echo["sigmas"] = args.agreement.sigmas;
  echo["allowance"] = args.agreement.allowance;
  echo["window"] = args.agreement.window;
  j["kind"] = kind.name;
  j["simulation"] = kind.simulation;
  j["options"] = echo;
  nlohmann::json pj = kind.prediction_extra;
  pj["threshold_name"] = kind.threshold_name;
  pj["threshold"] = std::isfinite(kind.threshold) ? nlohmann::json(kind.threshold) : nlohmann::json("none");
  j["prediction"] = pj;

  std::ostringstream table;
  std::ostringstream csv;
  csv << "d,delta,n,prediction,sim_mean,sim_stderr,seeds,difference,tolerance,agree,in_window,status\n";
  table << fmt::format("compare {}: prediction `{}` vs simulation `{}`, link {}  noise {}\n", kind.name, kind.name,
                       kind.simulation, args.link, args.noise);
  table << fmt::format("predicted {} = {}\n", kind.threshold_name,
                       std::isfinite(kind.threshold) ? fmt_number(kind.threshold, 8) : std::string("none"));

  plot::Figure fig;
  fig.title = fmt::format("compare {}: link {}", kind.name, args.link);
  fig.xlabel = "delta = n/d";
  fig.ylabel = kind.name == "se" ? "overlap (SE: q* or tr M*/k; sim: squared overlap)" : "squared overlap of the top eigenvector";
  fig.ymin = 0.0;
  fig.ymax = 1.02;

  nlohmann::json runs = nlohmann::json::array();
  std::vector<compare::ThresholdAtD> empirical;
  int n_points = 0, n_agree = 0, n_disagree_outside = 0;
  bool interrupted = false, budget = false;
  g_compare_interrupted.store(false);
  auto previous = std::signal(SIGINT, on_compare_sigint);
  const bool tty = isatty(fileno(stderr)) != 0;
  for (int d : dims) {
    if (interrupted) break;
    simulate::SweepOptions o = base;
    o.d = d;
    if (tty) std::fprintf(stderr, "compare: d = %d, %zu delta x %d seeds...\n", d, deltas.size(), o.seeds);
    simulate::SweepReport rep;
    try {
      rep = simulate::run_sweep(o, kind.kind, {}, &g_compare_interrupted);
    } catch (...) {
      std::signal(SIGINT, previous);
      throw;
    }
    interrupted = interrupted || rep.interrupted;
    budget = budget || rep.budget_exhausted;
    status = worst(status, rep.status == Status::not_computed ? Status::numerical_issue : rep.status);
    nlohmann::json points = nlohmann::json::array();
    table << fmt::format("\nd = {}   ({} seeds per delta, {:.1f} s)\n", d, o.seeds, rep.seconds);
    table << fmt::format("{:>8} {:>7} {:>11} {:>11} {:>9} {:>6} {:>10} {:>6} {:>7}\n", "delta", "n", "prediction",
                         "sim mean", "stderr", "seeds", "tolerance", "agree", "window");
    plot::Series sim;
    sim.label = fmt::format("simulation {} d = {}", kind.simulation, d);
    sim.style = plot::Series::Style::points;
    for (std::size_t i = 0; i < rep.points.size(); ++i) {
      const auto& p = rep.points[i];
      const double prediction = pred.overlap[i];
      nlohmann::json jp{{"delta", p.delta},
                        {"n", p.n},
                        {"prediction", maybe_number(prediction)},
                        {"seeds", p.seeds},
                        {"seeds_requested", p.seeds_requested},
                        {"status", std::string(to_string(p.status))},
                        {"prediction_status", std::string(to_string(pred.status[i]))}};
      const bool have_sim = p.seeds > 0;
      const double se = p.seeds >= 2 ? p.overlap_stderr : 0.0;
      jp["sim_mean"] = have_sim ? nlohmann::json(p.overlap_mean) : nlohmann::json(nullptr);
      jp["sim_stderr"] = have_sim && p.seeds >= 2 ? nlohmann::json(se) : nlohmann::json(nullptr);
      std::string agree_cell = "-", window_cell = "-", tol_cell = "-";
      if (have_sim && !std::isnan(prediction)) {
        const auto a = compare::judge(p.delta, prediction, p.overlap_mean, se, d, kind.threshold, args.agreement);
        jp["difference"] = a.difference;
        jp["tolerance"] = a.tolerance;
        jp["agree"] = a.agree;
        jp["in_critical_window"] = a.in_window;
        ++n_points;
        if (a.agree) ++n_agree;
        if (!a.agree && !a.in_window) ++n_disagree_outside;
        agree_cell = a.agree ? "yes" : "no";
        window_cell = a.in_window ? "yes" : "no";
        tol_cell = fmt_number(a.tolerance, 3);
        csv << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", d, p.delta, p.n, prediction, p.overlap_mean,
                           p.seeds >= 2 ? fmt::format("{}", se) : std::string(""), p.seeds, a.difference, a.tolerance,
                           a.agree ? "true" : "false", a.in_window ? "true" : "false", to_string(p.status));
      } else {
        jp["agree"] = nullptr;
        csv << fmt::format("{},{},{},{},{},{},{},,,,,{}\n", d, p.delta, p.n,
                           std::isnan(prediction) ? std::string("") : fmt::format("{}", prediction),
                           have_sim ? fmt::format("{}", p.overlap_mean) : std::string(""),
                           have_sim && p.seeds >= 2 ? fmt::format("{}", se) : std::string(""), p.seeds,
                           to_string(p.status));
      }
      table << fmt::format("{:>8} {:>7} {:>11} {:>11} {:>9} {:>6} {:>10} {:>6} {:>7}\n", fmt_number(p.delta, 6), p.n,
                           cell(prediction), have_sim ? fmt_number(p.overlap_mean, 6) : std::string("-"),
                           have_sim && p.seeds >= 2 ? fmt_number(se, 2) : std::string("-"),
                           fmt::format("{}/{}", p.seeds, p.seeds_requested), tol_cell, agree_cell, window_cell);
      points.push_back(jp);
      if (have_sim) {
        sim.x.push_back(p.delta);
        sim.y.push_back(p.overlap_mean);
        sim.err.push_back(se);
      }
    }
    const auto& th = rep.threshold;
    if (th.status != Status::not_computed) {
      table << fmt::format("empirical threshold (hinge fit): delta_c = {}, 95% bootstrap interval [{}, {}]{}\n",
                           fmt_number(th.delta_c, 6), fmt_number(th.lower, 6), fmt_number(th.upper, 6),
                           th.note.empty() ? std::string() : "  (" + th.note + ")");
      if (th.resamples > 0) empirical.push_back({d, th.delta_c, th.lower, th.upper});
      fig.markers.push_back({th.delta_c, fmt::format("empirical d={}: {}", d, fmt_number(th.delta_c, 4))});
    } else {
      table << "empirical threshold: not estimated ("
            << (th.note.empty() ? std::string("needs at least 3 delta values and a rise above the noise") : th.note) << ")\n";
    }
    if (!sim.x.empty()) fig.series.push_back(sim);
    runs.push_back({{"d", d},
                    {"status", std::string(to_string(rep.status))},
                    {"seconds", rep.seconds},
                    {"interrupted", rep.interrupted},
                    {"budget_exhausted", rep.budget_exhausted},
                    {"points", points},
                    {"empirical_threshold", threshold_json(th)}});
  }
  std::signal(SIGINT, previous);
  j["runs"] = runs;
  j["agreement"] = {{"points", n_points},
                    {"agree", n_agree},
                    {"disagree_outside_window", n_disagree_outside},
                    {"rule", "|sim_mean - prediction| <= sigmas*stderr + allowance/sqrt(d); critical window "
                             "|delta - threshold| <= window*threshold*d^(-1/3)"}};
  table << fmt::format("\nagreement: {}/{} points agree; {} disagreements outside the critical window\n", n_agree,
                       n_points, n_disagree_outside);

  if (dims.size() >= 2) {
    const auto ex = compare::extrapolate_threshold(empirical, args.alpha);
    if (ex.status == Status::success) {
      j["extrapolation"] = {{"status", "success"},
                            {"alpha", ex.alpha},
                            {"delta_inf", ex.delta_inf},
                            {"delta_inf_stderr", ex.delta_inf_stderr},
                            {"lower", ex.lower},
                            {"upper", ex.upper},
                            {"c", ex.c},
                            {"c_stderr", ex.c_stderr},
                            {"chi2", ex.chi2},
                            {"dof", ex.dof},
                            {"points", ex.points},
                            {"note", ex.note}};
      table << fmt::format("extrapolation delta_c(d) = delta_inf + c d^-{}: delta_inf = {} +- {} (95% [{}, {}]), c = {} +- {}, "
                           "chi2 = {} on {} dof{}\n",
                           fmt_number(ex.alpha, 4), fmt_number(ex.delta_inf, 6), fmt_number(ex.delta_inf_stderr, 3),
                           fmt_number(ex.lower, 6), fmt_number(ex.upper, 6), fmt_number(ex.c, 4),
                           fmt_number(ex.c_stderr, 3), fmt_number(ex.chi2, 3), ex.dof,
                           ex.note.empty() ? std::string() : "; " + ex.note);
      fig.markers.push_back({ex.delta_inf, "extrapolated " + fmt_number(ex.delta_inf, 4)});
    } else {
      j["extrapolation"] = {{"status", "not_computed"}, {"alpha", args.alpha}, {"note", ex.note}};
      table << "extrapolation: not computed (" << ex.note << ")\n";
    }
  } else {
    j["extrapolation"] = nullptr;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  j["status"] = std::string(to_string(status));
  j["messages"] = messages;
  j["seconds"] = seconds;
  j["interrupted"] = interrupted;
  j["budget_exhausted"] = budget;
  for (const auto& m : messages) table << m.get<std::string>() << "\n";
  table << fmt::format("status {}, {:.1f} s\n", to_string(status), seconds);

  if (!args.plot.empty()) {
    plot::Series curve;
    curve.label = "prediction (" + kind.name + ")";
    if (kind.cheap_curve && deltas.size() >= 2) {
      const double lo = deltas.front(), hi = deltas.back();
      std::vector<double> fine;
      for (int i = 0; i < kCurvePoints; ++i) fine.push_back(lo + (hi - lo) * i / (kCurvePoints - 1));
      curve.x = fine;
      curve.y = kind.predict(fine).overlap;
    } else {
      curve.x = deltas;
      curve.y = pred.overlap;
    }
    fig.series.insert(fig.series.begin(), curve);
    if (std::isfinite(kind.threshold) && kind.threshold > 0) {
      fig.markers.insert(fig.markers.begin(), {kind.threshold, kind.threshold_name + " = " + fmt_number(kind.threshold, 5)});
    }
    plot::write(fig, args.plot);
  }

  std::string text;
  switch (args.format) {
    case Format::json: text = j.dump(2) + "\n"; break;
    case Format::csv: text = csv.str(); break;
    case Format::table: text = table.str(); break;
  }
  write_output(text, args.out);
  if (interrupted) {
    std::cerr << "deltacrit: interrupted; finished seeds were written\n";
    ctx.exit_code = 130;
    return;
  }
  if (budget) {
    std::cerr << "deltacrit: --max-seconds budget exhausted; finished seeds were written\n";
    ctx.exit_code = 3;
    return;
  }
  ctx.exit_code = exit_code_for(status);
}

KindSetup se_setup(const CompareArgs& args, const simulate::GampOptions& gamp, int directions) {
  KindSetup s;
  s.name = "se";
  s.simulation = "gamp";
  s.threshold_name = "delta_alg";
  const model::Link link = model::Link::parse(args.link, args.k);
  const model::Noise noise = model::Noise::parse(args.noise);
  simulate::GampOptions g = gamp;
  g.denoiser.directions = directions;
  g.validate();
  s.kind = simulate::gamp_kind(simulate::GampConfig{link, noise, g});
  s.options_echo = {{"max_iter", g.max_iterations}, {"tol", g.tol}, {"damping", g.damping},
                    {"seed_overlap", g.seed}, {"window", g.stationary_window},
                    {"stationary_tol", g.stationary_tol}, {"directions", directions}};
  const int k = link.k();
  s.prediction_extra["k"] = k;
  if (k == 1) {
    auto se = std::make_shared<alg::StateEvolution1D>(link, noise);
    s.threshold = se->delta_alg();
    const auto spin = se->spinodal();
    s.prediction_extra["delta_spinodal"] = spin.exists ? nlohmann::json(spin.delta) : nlohmann::json("none");
    s.prediction_extra["quantity"] = "q*(delta) from psi(q) (docs/se.md)";
    s.predict = [se](const std::vector<double>& ds) {
      Prediction p;
      for (double d : ds) {
        const auto r = se->overlap(d);
        p.overlap.push_back(r.overlap);
        p.status.push_back(r.status);
      }
      return p;
    };
  } else {
    alg::MatrixSEOptions mopt;
    mopt.denoiser.directions = directions;
    mopt.validate();
    auto mse = std::make_shared<alg::MatrixStateEvolution>(link, noise, mopt);
    s.threshold = alg::compute_delta_alg(link, noise, {}).delta_alg;
    s.prediction_extra["quantity"] = "tr M*(delta)/k by the matrix recursion from M_0 = 1e-4 I (docs/se.md)";
    s.cheap_curve = false;
    s.predict = [mse](const std::vector<double>& ds) {
      alg::IterationOptions it;
      it.max_iterations = 400;
      it.full_tol = 1e-3;
      Prediction p;
      for (double d : ds) {
        const auto r = mse->iterate(d, it);
        p.overlap.push_back(r.overlap.trace() / r.overlap.rows());
        p.status.push_back(r.status);
      }
      return p;
    };
  }
  s.prediction_extra["delta_alg"] = number_or_inf(s.threshold, "delta_alg");
  return s;
}

KindSetup spectral_setup(const CompareArgs& args, const std::string& preprocess, const std::string& solver,
                         simulate::SpectralOptions opts) {
  KindSetup s;
  s.name = "spectral";
  s.simulation = "spectral";
  s.threshold_name = "delta_T";
  if (preprocess == "mm") {
    throw InputError("--preprocess", "--preprocess: 'mm' (delta-dependent) has no finite-d counterpart in `simulate spectral`; "
                                     "use 'optimal' or an expression in y");
  }
  const model::Link link = model::Link::parse(args.link, args.k);
  const model::Noise noise = model::Noise::parse(args.noise);
  opts.solver = parse_solver(solver);
  for (int d : parse_dims(args.d)) opts.validate(d, link.k());
  auto sp = std::make_shared<spectral::SpectralPredictor>(link, noise, preprocess);
  const auto th = sp->threshold();
  s.threshold = th.exists ? th.delta : std::numeric_limits<double>::infinity();
  s.prediction_extra["delta_alg"] = number_or_inf(sp->delta_alg(), "delta_alg");
  s.prediction_extra["threshold_reason"] = th.reason;
  s.prediction_extra["quantity"] = link.k() == 1 ? "squared overlap of the top eigenvector (A/B/C formulas, docs/spectral.md)"
                                                 : "k >= 2: only the threshold is predicted (overlap null)";
  s.predict = [sp](const std::vector<double>& ds) {
    Prediction p;
    for (double d : ds) {
      const auto r = sp->at(d);
      p.overlap.push_back(r.defined ? r.overlap : std::nan(""));
      p.status.push_back(r.status);
    }
    return p;
  };
  simulate::Preprocessing T = preprocess == "optimal" ? simulate::Preprocessing::optimal(link, noise)
                                                      : simulate::Preprocessing::expression(preprocess);
  s.kind = simulate::spectral_kind(simulate::SpectralConfig{link, noise, T, opts});
  s.options_echo = {{"preprocess", preprocess}, {"solver", solver}, {"nev", opts.nev}, {"tol", opts.tol}, {"ncv", opts.ncv}};
  return s;
}

const CommandRegistration registration{
    "compare", "Prediction (se / spectral) vs finite-d simulation (gamp / spectral) on one delta grid, thresholds, extrapolation in d", 55,
    [](CLI::App& sub, CommandContext& ctx) {
      {
        CLI::App* se = sub.add_subcommand("se", "State evolution q*(delta) (k = 1) or tr M*/k (k >= 2) vs `simulate gamp`");
        auto args = std::make_shared<CompareArgs>();
        auto gamp = std::make_shared<simulate::GampOptions>();
        auto directions = std::make_shared<int>(0);
        add_common(*se, *args, NoiseForms::gaussian_k1_only);
        se->add_option("--max-iter", gamp->max_iterations, "GAMP iterations at most (default 300)");
        se->add_option("--tol", gamp->tol, "GAMP stopping tolerance on Q = W^T W / d (default 1e-6)");
        se->add_option("--damping", gamp->damping, "GAMP damping in (0, 1] (default 1)");
        se->add_option("--seed-overlap", gamp->seed, "GAMP uninformed start W^T W / d = seed*I (default 1e-12)");
        se->add_option("--window", gamp->stationary_window, "GAMP stationary-regime window (default 30)");
        se->add_option("--stationary-tol", gamp->stationary_tol, "GAMP stationary-regime tolerance (default 0.02; 0 = off)");
        se->add_option("--directions", *directions, "k >= 2: rays of the denoisers, for SE and GAMP (0 = automatic)");
        se->callback([args, gamp, directions, &ctx] {
          validate_common(*args);
          parse_dims(args->d);
          run(*args, se_setup(*args, *gamp, *directions), ctx);
        });
      }
      {
        CLI::App* sp = sub.add_subcommand("spectral", "Spectral-method prediction (A/B/C) vs `simulate spectral` with the same --preprocess");
        auto args = std::make_shared<CompareArgs>();
        auto preprocess = std::make_shared<std::string>("optimal");
        auto solver = std::make_shared<std::string>("auto");
        auto opts = std::make_shared<simulate::SpectralOptions>();
        add_common(*sp, *args, NoiseForms::all);
        sp->add_option("--preprocess", *preprocess, "T(y): optimal (default) or an expression in y");
        sp->add_option("--solver", *solver, "auto (default), lanczos or dense (d <= 4000)");
        sp->add_option("--nev", opts->nev, "Top eigenvectors (default 0 = k)");
        sp->add_option("--tol", opts->tol, "Lanczos relative residual tolerance (default 1e-9)");
        sp->add_option("--ncv", opts->ncv, "Lanczos basis size (default 0 = auto)");
        sp->callback([args, preprocess, solver, opts, &ctx] {
          validate_common(*args);
          parse_dims(args->d);
          run(*args, spectral_setup(*args, *preprocess, *solver, *opts), ctx);
        });
      }
      // An unknown kind lands here (CLI11 would only say "a subcommand is required").
      auto kind = std::make_shared<std::string>();
      sub.add_option("kind", *kind, "se or spectral");
      sub.allow_extras();
      for (CLI::App* k : sub.get_subcommands({})) k->allow_extras(false);
      sub.callback([&sub, kind] {
        if (!sub.get_subcommands().empty()) return;
        throw InputError("kind", "compare: " + (kind->empty() ? std::string("give a kind") : "unknown kind '" + *kind + "'") +
                                     " (accepted: se, spectral)");
      });
    }};

}  // namespace
}  // namespace deltacrit::cli
