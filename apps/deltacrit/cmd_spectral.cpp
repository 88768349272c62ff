// `deltacrit spectral`: asymptotic predictions for the spectral estimator D = (1/n) Σ T(y_i) x_i x_iᵀ
// — outlier, top eigenvalue, bulk edge, squared overlap, threshold δ_T (docs/spectral.md).
#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "command.hpp"
#include "deltacrit/core/grid.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/spectral/spectral_method.hpp"
#include "link_options.hpp"
#include "output.hpp"
#include "plot.hpp"

namespace deltacrit::cli {
namespace {

struct SpectralArgs : LinkArgs {
  std::string preprocess = "optimal";
  bool find_threshold = false;
  double tol = 1e-8;
  bool channel_law = false;
  Format format = Format::table;
  std::string out;
  std::string plot;
};

nlohmann::json maybe(double v, bool defined, const char* what) {
  if (!defined) return nullptr;
  return number_or_inf(v, what);
}

void run(const SpectralArgs& args, CommandContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  require_link(args);
  const auto link = model::Link::parse(args.link, args.k);
  const auto noise = model::Noise::parse(args.noise);
  std::vector<double> deltas;
  if (!args.delta.empty()) deltas = parse_grid(args.delta, "--delta", 0.0, true, 1e6, 10000);
  spectral::SpectralMethodOptions opt;
  opt.channel.tol = args.tol;
  opt.channel_law = args.channel_law;
  try {
    opt.validate();
  } catch (const InputError& e) {
    throw InputError("--tol", std::string("--tol: ") + e.what());
  }
  spectral::SpectralPredictor sp(link, noise, args.preprocess, opt);
  const auto th = sp.threshold();
  Status status = th.status;

  nlohmann::json j;
  j["link"] = args.link;
  j["k"] = link.k();
  j["noise"] = noise.text();
  j["preprocess"] = args.preprocess;
  j["delta"] = args.delta;
  j["tol"] = args.tol;
  j["delta_threshold"] = th.exists ? number_or_inf(th.delta, "delta_threshold") : nlohmann::json("none");
  j["threshold_bracket"] = {th.bracket[0], th.bracket[1]};
  j["threshold_reason"] = th.reason;
  j["delta_alg"] = number_or_inf(sp.delta_alg(), "delta_alg");
  if (link.k() == 1) {
    j["tau"] = number_or_inf(sp.tau(1.0), "tau");
    j["unbounded"] = sp.unbounded();
  }
  nlohmann::json points = nlohmann::json::array();
  std::ostringstream table;
  table << fmt::format("link {}  noise {}  preprocess {}\n", args.link, noise.text(), args.preprocess);
  table << fmt::format("delta_T = {}   ({})\n", th.exists ? fmt_number(th.delta, 10) : std::string("none"), th.reason);
  table << fmt::format("delta_alg = {}\n", fmt_number(sp.delta_alg(), 10));
  std::vector<double> xs, ys;
  if (!deltas.empty()) {
    table << fmt::format("{:>10} {:>8} {:>16} {:>16} {:>14} {:>10}\n", "delta", "outlier", "top_eigenvalue", "bulk_edge",
                         "overlap", "status");
  }
  std::vector<std::string> notes;
  for (double d : deltas) {
    const auto p = sp.at(d);
    status = worst(status, p.status);
    const bool numbers = p.defined;
    nlohmann::json jp{{"delta", d},
                      {"outlier", p.outlier},
                      {"top_eigenvalue", maybe(p.top_eigenvalue, numbers, "top_eigenvalue")},
                      {"bulk_edge", maybe(p.bulk_edge, numbers, "bulk_edge")},
                      {"overlap", number_or_inf(p.overlap, "overlap")},
                      {"lambda_bar", maybe(p.lambda_bar, numbers, "lambda_bar")},
                      {"lambda_star", maybe(p.lambda_star, numbers, "lambda_star")},
                      {"status", std::string(to_string(p.status))}};
    if (!p.note.empty()) jp["note"] = p.note;
    points.push_back(jp);
    table << fmt::format("{:>10} {:>8} {:>16} {:>16} {:>14} {:>10}\n", fmt_number(d, 8), p.outlier ? "yes" : "no",
                         numbers ? fmt_number(p.top_eigenvalue, 10) : std::string("-"),
                         numbers ? fmt_number(p.bulk_edge, 10) : std::string("-"), fmt_number(p.overlap, 10),
                         to_string(p.status));
    if (!p.note.empty() && (notes.empty() || notes.back() != p.note)) notes.push_back(p.note);
    xs.push_back(d);
    ys.push_back(p.overlap);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  j["status"] = std::string(to_string(status));
  j["seconds"] = seconds;
  j["points"] = points;

  if (!args.plot.empty()) {
    if (deltas.empty()) throw InputError("--plot", "--plot: give --delta points to draw the overlap curve");
    plot::Figure fig;
    fig.title = "Spectral method T = " + args.preprocess + ", link " + args.link;
    fig.xlabel = "delta = n/d";
    fig.ylabel = "squared overlap of the top eigenvector";
    fig.ymin = 0.0;
    fig.ymax = 1.02;
    plot::Series s;
    s.label = "prediction (A/B/C formulas)";
    s.x = xs;
    s.y = ys;
    fig.series.push_back(s);
    if (th.exists && std::isfinite(th.delta)) fig.markers.push_back({th.delta, "delta_T = " + fmt_number(th.delta, 5)});
    if (std::isfinite(sp.delta_alg()) && sp.delta_alg() > 0 &&
        !(th.exists && std::fabs(th.delta - sp.delta_alg()) < 1e-6 * sp.delta_alg())) {
      fig.markers.push_back({sp.delta_alg(), "delta_alg = " + fmt_number(sp.delta_alg(), 5)});
    }
    plot::write(fig, args.plot);
  }

  std::ostringstream out;
  if (args.format == Format::json) {
    out << j.dump(2) << "\n";
  } else if (args.format == Format::csv) {
    out << "delta,outlier,top_eigenvalue,bulk_edge,overlap,status\n";
    for (const auto& p : points) {
      auto cell = [](const nlohmann::json& v) {
        if (v.is_null()) return std::string("");
        if (v.is_string()) return v.get<std::string>();
        return fmt::format("{}", v.get<double>());
      };
      out << fmt::format("{},{},{},{},{},{}\n", p["delta"].get<double>(), p["outlier"].get<bool>() ? "true" : "false",
                         cell(p["top_eigenvalue"]), cell(p["bulk_edge"]), cell(p["overlap"]), p["status"].get<std::string>());
    }
  } else {
    out << table.str();
    for (const auto& n : notes) out << "note: " << n << "\n";
    out << fmt::format("status {}, {:.3f} s\n", to_string(status), seconds);
  }
  write_output(out.str(), args.out);
  ctx.exit_code = exit_code_for(status);
}

const CommandRegistration registration{
    "spectral", "Spectral methods D = (1/n) sum T(y) x x^T: outlier, top eigenvalue, overlap, threshold delta_T", 30,
    [](CLI::App& sub, CommandContext& ctx) {
      auto args = std::make_shared<SpectralArgs>();
      LinkOptionFlags flags;
      flags.link = Need::command;
      add_link_options(sub, *args, flags);
      sub.add_option("--preprocess", args->preprocess,
                     "T(y): optimal (1 - 1/E[z^2|y], default), mm (Mondelli-Montanari, delta-dependent), or an expression in y");
      add_delta_option(sub, *args, flags);
      sub.add_flag("--find-threshold", args->find_threshold, "Report delta_T (always computed; kept for scripts)");
      sub.add_option("--tol", args->tol, "Accuracy of the law of y when the generic channel law is used (default 1e-8)");
      sub.add_flag("--channel-law", args->channel_law, "Use the generic channel law of the alg module instead of the z-space rule");
      add_format_option(sub, args->format, true);
      sub.add_option("--out", args->out, "Write the output to this file (default stdout)");
      sub.add_option("--plot", args->plot, "Also draw the overlap curve with the thresholds: FILE.svg (or FILE.png via gnuplot)");
      sub.callback([args, &ctx]() { run(*args, ctx); });
    }};

}  // namespace
}  // namespace deltacrit::cli
