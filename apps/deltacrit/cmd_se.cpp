// `deltacrit se`: Bayes-GAMP state evolution — the overlap q*(δ) (k = 1) or M*(δ) (k ≤ 3) reached
// from an uninformed start, δ_alg and the spinodal (docs/se.md).
#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "command.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/alg/se.hpp"
#include "deltacrit/core/grid.hpp"
#include "deltacrit/model/link.hpp"
#include "link_options.hpp"
#include "output.hpp"
#include "plot.hpp"

namespace deltacrit::cli {
namespace {

struct SEArgs : LinkArgs {
  bool iterate = false;
  double seed = 1e-4;
  double damping = 1.0;
  int max_iter = 0;
  double iter_tol = 1e-9;
  double full_tol = 0.0;
  int scan_points = 80;
  double q_tol = 1e-11;
  int directions = 0;
  int omega_nodes = 0;
  Format format = Format::table;
  std::string out;
  std::string plot;
};

nlohmann::json matrix_json(const Eigen::MatrixXd& M) {
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < M.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (int j = 0; j < M.cols(); ++j) r.push_back(number_or_inf(M(i, j), "overlap matrix"));
    rows.push_back(r);
  }
  return rows;
}

void run(const SEArgs& args, CommandContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  require_link(args);
  require_delta(args);
  const auto link = model::Link::parse(args.link, args.k);
  const auto noise = model::Noise::parse(args.noise);
  const auto deltas = parse_grid(args.delta, "--delta", 0.0, true, 1e6, 10000);
  alg::IterationOptions it_opt;
  it_opt.seed = args.seed;
  it_opt.damping = args.damping;
  it_opt.max_iterations = args.max_iter > 0 ? args.max_iter : (link.k() == 1 ? 2000 : 400);
  it_opt.tol = args.iter_tol;
  it_opt.full_tol = args.full_tol > 0 ? args.full_tol : (link.k() == 1 ? 1e-6 : 1e-3);
  try {
    it_opt.validate();
  } catch (const InputError& e) {
    const std::string map = e.parameter() == "seed" ? "--seed" : e.parameter() == "damping" ? "--damping"
                            : e.parameter() == "max_iterations" ? "--max-iter"
                            : e.parameter() == "full_tol"       ? "--full-tol" : "--iter-tol";
    throw InputError(map, map + ": " + e.what());
  }
  const int k = link.k();

  nlohmann::json j;
  j["link"] = args.link;
  j["k"] = k;
  j["noise"] = noise.text();
  j["delta"] = args.delta;
  j["seed"] = args.seed;
  j["damping"] = args.damping;
  Status status = Status::success;
  std::vector<std::string> notes;
  std::vector<double> xs, ys;
  double delta_alg = 0.0;
  alg::Spinodal spin;
  std::vector<alg::Spinodal> jumps_k1;
  nlohmann::json points = nlohmann::json::array();
  std::ostringstream table;

  if (k == 1) {
    alg::SEOptions opt;
    opt.scan_points = args.scan_points;
    opt.q_tol = args.q_tol;
    try {
      opt.validate();
    } catch (const InputError& e) {
      const std::string map = e.parameter() == "scan_points" ? "--scan-points" : "--q-tol";
      throw InputError(map, map + ": " + e.what());
    }
    alg::StateEvolution1D se(link, noise, opt);
    delta_alg = se.delta_alg();
    spin = se.spinodal();
    j["delta_alg"] = number_or_inf(delta_alg, "delta_alg");
    j["trivial"] = se.trivial();
    j["trivial_c"] = se.c();
    if (spin.exists) {
      j["delta_spinodal"] = spin.delta;
      j["q_spinodal"] = spin.q;
      j["q_after_jump"] = spin.q_after;
    } else {
      j["delta_spinodal"] = "none";
      j["q_spinodal"] = "none";
    }
    nlohmann::json jumps = nlohmann::json::array();
    jumps_k1 = se.jumps();
    for (const auto& jm : jumps_k1) jumps.push_back({{"delta", jm.delta}, {"q_before", jm.q}, {"q_after", jm.q_after}});
    table << fmt::format("link {}  noise {}  k = 1\n", args.link, noise.text());
    table << fmt::format("delta_alg = psi(0+) = {}{}\n", fmt_number(delta_alg, 10), se.trivial() ? "  (trivial: E[z|y] != 0)" : "");
    table << (spin.exists ? fmt::format("spinodal: sup psi = {} at q = {} (q* jumps to {})\n", fmt_number(spin.delta, 10),
                                        fmt_number(spin.q, 8), fmt_number(spin.q_after, 8))
                          : std::string("spinodal: none (psi is non-decreasing: continuous transition)\n"));
    table << fmt::format("{:>12} {:>14} {:>14} {:>10}", "delta", "overlap q*", "branch", "status");
    if (args.iterate) table << fmt::format(" {:>14} {:>8} {:>10}", "iterated q", "iters", "residual");
    table << "\n";
    for (double d : deltas) {
      const auto p = se.overlap(d);
      status = worst(status, p.status);
      nlohmann::json jp{{"delta", d},
                        {"overlap", p.overlap},
                        {"branch", p.branch},
                        {"bracket", {p.bracket[0], p.bracket[1]}},
                        {"status", std::string(to_string(p.status))}};
      table << fmt::format("{:>12} {:>14} {:>14} {:>10}", fmt_number(d, 8), fmt_number(p.overlap, 10), p.branch,
                           to_string(p.status));
      if (args.iterate) {
        const auto it = se.iterate(d, it_opt);
        jp["iteration"] = {{"overlap", it.overlap(0, 0)},
                           {"iterations", it.iterations},
                           {"residual", it.residual},
                           {"seed", it.seed},
                           {"status", std::string(to_string(it.status))}};
        table << fmt::format(" {:>14} {:>8} {:>10}", fmt_number(it.overlap(0, 0), 10), it.iterations, fmt_number(it.residual, 3));
        if (it.status != Status::success) notes.push_back(fmt::format("iteration at delta = {} did not converge", d));
      }
      table << "\n";
      points.push_back(jp);
      xs.push_back(d);
      ys.push_back(p.overlap);
    }
    j["jumps"] = jumps;
    j["diagnostics"] = {{"outer_nodes", se.outer_nodes()}, {"h_evaluations", se.evaluations()},
                        {"scan_points", opt.scan_points}, {"q_tol", opt.q_tol}};
  } else {
    alg::MatrixSEOptions mopt;
    mopt.denoiser.directions = args.directions;
    mopt.omega_nodes = args.omega_nodes;
    try {
      mopt.validate();
    } catch (const InputError& e) {
      const std::string map = e.parameter() == "directions" ? "--directions" : "--omega-nodes";
      throw InputError(map, map + ": " + e.what());
    }
    alg::MatrixStateEvolution mse(link, noise, mopt);
    const auto alg_res = alg::compute_delta_alg(link, noise, {});
    delta_alg = alg_res.delta_alg;
    const double onset = mse.onset();
    j["delta_alg"] = number_or_inf(delta_alg, "delta_alg");
    j["delta_spinodal"] = nullptr;
    j["q_spinodal"] = nullptr;
    j["delta_onset_se"] = number_or_inf(onset, "delta_onset_se");
    j["note"] = "k >= 2: M*(delta) by the damped matrix recursion from M_0 = seed*I on the ray route; delta_alg from "
                "the alg module; delta_onset_se = 1/lambda_max of the recursion linearised at M = 0 (ray route)";
    table << fmt::format("link {}  noise {}  k = {}\n", args.link, noise.text(), k);
    table << fmt::format("delta_alg = {} (alg), onset of the recursion = {} (ray route)\n", fmt_number(delta_alg, 8),
                         fmt_number(onset, 8));
    table << fmt::format("{:>12} {:>14} {:>8} {:>10} {:>10}   M*\n", "delta", "tr M*/k", "iters", "residual", "status");
    for (double d : deltas) {
      const auto it = mse.iterate(d, it_opt);
      status = worst(status, it.status);
      const double tr = it.overlap.trace() / k;
      points.push_back({{"delta", d},
                        {"overlap", matrix_json(it.overlap)},
                        {"overlap_trace", tr},
                        {"iterations", it.iterations},
                        {"residual", it.residual},
                        {"seed", it.seed},
                        {"full_recovery", it.full},
                        {"status", std::string(to_string(it.status))}});
      std::ostringstream m;
      m.precision(5);
      for (int a = 0; a < k; ++a) {
        m << (a ? "; " : "[");
        for (int b = 0; b < k; ++b) m << (b ? " " : "") << it.overlap(a, b);
      }
      m << "]";
      table << fmt::format("{:>12} {:>14} {:>8} {:>10} {:>10}   {}\n", fmt_number(d, 8), fmt_number(tr, 8), it.iterations,
                           fmt_number(it.residual, 3), to_string(it.status), m.str());
      xs.push_back(d);
      ys.push_back(tr);
    }
    j["diagnostics"] = {{"y_nodes", mse.y_nodes()}, {"directions", args.directions}, {"omega_nodes", args.omega_nodes}};
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  j["status"] = std::string(to_string(status));
  j["seconds"] = seconds;
  j["points"] = points;

  if (!args.plot.empty()) {
    plot::Figure fig;
    fig.title = "State evolution: " + args.link + (noise.kind == model::Noise::Kind::none ? "" : " (" + noise.text() + ")");
    fig.xlabel = "delta = n/d";
    fig.ylabel = k == 1 ? "overlap q*(delta)" : "tr M*(delta) / k";
    fig.ymin = 0.0;
    fig.ymax = 1.02;
    plot::Series s;
    s.label = k == 1 ? "q*(delta), uninformed start" : "tr M*/k, uninformed start";
    // Break the curve at the jumps of q*(δ) (k = 1): end the low branch at (δ_j, q_before) and
    // restart at (δ_j, q_after).
    for (std::size_t i = 0; i < xs.size(); ++i) {
      for (const auto& jm : jumps_k1) {
        if (i > 0 && xs[i - 1] < jm.delta && xs[i] >= jm.delta) {
          s.x.insert(s.x.end(), {jm.delta, std::nan(""), jm.delta});
          s.y.insert(s.y.end(), {jm.q, std::nan(""), jm.q_after});
        }
      }
      s.x.push_back(xs[i]);
      s.y.push_back(ys[i]);
    }
    fig.series.push_back(s);
    if (std::isfinite(delta_alg)) fig.markers.push_back({delta_alg, "delta_alg = " + fmt_number(delta_alg, 5)});
    if (k == 1 && spin.exists) fig.markers.push_back({spin.delta, "spinodal = " + fmt_number(spin.delta, 5)});
    plot::write(fig, args.plot);
  }

  std::ostringstream out;
  if (args.format == Format::json) {
    out << j.dump(2) << "\n";
  } else if (args.format == Format::csv) {
    if (k == 1) {
      out << "delta,overlap,branch,status" << (args.iterate ? ",iterated_overlap,iterations,residual" : "") << "\n";
      for (const auto& p : points) {
        out << fmt::format("{},{},{},{}", p["delta"].get<double>(), p["overlap"].get<double>(), p["branch"].get<std::string>(),
                           p["status"].get<std::string>());
        if (args.iterate) {
          out << fmt::format(",{},{},{}", p["iteration"]["overlap"].get<double>(), p["iteration"]["iterations"].get<int>(),
                             p["iteration"]["residual"].get<double>());
        }
        out << "\n";
      }
    } else {
      out << "delta";
      for (int a = 1; a <= k; ++a)
        for (int b = 1; b <= k; ++b) out << ",overlap_" << a << b;
      out << ",overlap_trace,iterations,residual,status\n";
      for (const auto& p : points) {
        out << p["delta"].get<double>();
        for (const auto& row : p["overlap"])
          for (const auto& v : row) out << "," << v.get<double>();
        out << fmt::format(",{},{},{},{}\n", p["overlap_trace"].get<double>(), p["iterations"].get<int>(),
                           p["residual"].get<double>(), p["status"].get<std::string>());
      }
    }
  } else {
    out << table.str();
    for (const auto& n : notes) out << "note: " << n << "\n";
    out << fmt::format("status {}, {:.2f} s\n", to_string(status), seconds);
  }
  write_output(out.str(), args.out);
  ctx.exit_code = exit_code_for(status);
}

const CommandRegistration registration{
    "se", "Bayes-GAMP state evolution: overlap q*(delta) / M*(delta), delta_alg, spinodal", 20,
    [](CLI::App& sub, CommandContext& ctx) {
      auto args = std::make_shared<SEArgs>();
      LinkOptionFlags flags;
      flags.link = Need::command;
      flags.noise = NoiseForms::gaussian_k1_only;
      flags.delta = Need::command;
      add_link_options(sub, *args, flags);
      add_delta_option(sub, *args, flags);
      sub.add_flag("--iterate", args->iterate, "k = 1: also run the damped iteration q <- delta h/(1 + delta h) per point");
      sub.add_option("--seed", args->seed, "Symmetry-breaking start q_0 (k = 1) or M_0 = seed*I (k >= 2), in (0, 1); default 1e-4");
      sub.add_option("--damping", args->damping, "Damping eta in (0, 1] of the iteration (default 1: undamped)");
      sub.add_option("--max-iter", args->max_iter, "Iteration budget (default 2000 for k = 1, 400 for k >= 2)");
      sub.add_option("--iter-tol", args->iter_tol, "Stop when ||M_{t+1} - M_t|| < tol (default 1e-9)");
      sub.add_option("--full-tol", args->full_tol, "Declare full recovery when I - M < tol*I (default 1e-6 for k = 1, 1e-3 for k >= 2)");
      sub.add_option("--scan-points", args->scan_points, "k = 1: points of the psi(q) scan (default 80)");
      sub.add_option("--q-tol", args->q_tol, "k = 1: absolute tolerance of q*(delta) (default 1e-11)");
      sub.add_option("--directions", args->directions, "k >= 2: rays (k = 2: angles; k = 3: polar nodes); 0 = automatic");
      sub.add_option("--omega-nodes", args->omega_nodes, "k >= 2: Gauss-Hermite nodes per axis for omega; 0 = automatic");
      add_format_option(sub, args->format, true);
      sub.add_option("--out", args->out, "Write the output to this file (default stdout)");
      sub.add_option("--plot", args->plot, "Also draw the overlap curve with the thresholds: FILE.svg (or FILE.png via gnuplot)");
      sub.callback([args, &ctx]() { run(*args, ctx); });
    }};

}  // namespace
}  // namespace deltacrit::cli
