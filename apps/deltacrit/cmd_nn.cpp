// `deltacrit nn`: δ_BBP and δ_NN of the Hessian phase transition of a two-layer network at a
// phase-1 point (docs/nn.md), and the outlier, overlap and escape time at given δ.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "command.hpp"
#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/core/grid.hpp"
#include "deltacrit/core/parallel.hpp"
#include "deltacrit/hessian/nn.hpp"
#include "deltacrit/model/link.hpp"
#include "deltacrit/phase1/empirical.hpp"
#include "deltacrit/phase1/fixed_point.hpp"
#include "link_options.hpp"
#include "output.hpp"
#include "plot.hpp"

namespace deltacrit::cli {
namespace {

struct NNArgs : LinkArgs {
  std::string activation = "tanh";
  std::string loss = "square";
  int width = 1;
  bool width_given = false;
  std::string second_layer;
  std::string init = "small:0.01";
  double ridge = 0.0;
  bool unit_norm = false;
  std::string hard;
  std::string phase1 = "init";
  bool find = false;
  double delta_min = 0.05;
  double delta_max = 1000.0;
  int scan_per_decade = 6;
  bool full_scan = false;
  double threshold_check = 0.0;
  int threshold_check_points = 4;
  bool check_quadrature = false;
  int u_points = 0;
  double u_panel_width = 0.5;
  int u_panel_points = 8;
  int u_composite_max_dim = 1;
  bool u_require_2d = false;  // internal (--check-quadrature): keep the automatic m = 2 composite rule
  int z_panel_points = 12;
  double z_panel_width = 1.0;
  int z_hermite_points = 0;
  int z_k2_panel_points = 10;
  int z_k2_coarse_panel_points = 6;
  double fp_tol = 1e-10;
  int fp_max_iter = 2000;
  double fp_weight_floor = 1e-14;
  double fp_principal_ratio = 1e-2;
  bool fp_tensor_rule = false;
  bool fp_cut = true;
  int threads = 1;
  Format format = Format::table;
  std::string out;
  std::string plot;
};

// The analyzer takes 0-based indices and needs at least one hard direction.
std::vector<int> parse_hard(const std::string& text, int k) {
  std::vector<int> out = parse_hard_indices(text, k);
  if (out.empty()) throw InputError("--hard", "--hard: give at least one latent index");
  for (int& h : out) --h;
  return out;
}

nlohmann::json nullable(double v, const char* what) {
  if (std::isnan(v)) return nullptr;
  return number_or_inf(v, what);
}

std::string cell(double v) { return std::isnan(v) ? "-" : fmt_number(v, 6); }

std::string hard_text(const std::vector<int>& hard) {
  std::string s;
  for (std::size_t i = 0; i < hard.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(hard[i] + 1);
  }
  return s;
}

struct Setup {
  std::optional<phase1::Network> net;
  hessian::NNOptions opt;
  hessian::LawProvider provider;
  nlohmann::json law_json;
  int k = 0;
  std::string a_text, link_text, phase1_kind;
  model::Noise noise;
  std::optional<alg::AlgResult> alg;  // δ_alg of the link (not for empirical laws)
  std::string hard_source;            // "--hard", "law file" or "alg: directions that are not trivial" (+ a caveat)
  std::string init_note;              // small init with σ''(0) = 0: the Hessian does not see y
  int auto_u_points = 0;              // init law, automatic Gauss–Hermite u rule: its points per axis (else 0)
  bool auto_u_2d = false;             // init law, automatic m = 2 composite u rule
};

// δ_alg is shown for comparison when the alg analysis succeeded, and also when it ended
// not_converged with a value (its channel integration missed the tolerance at some stage:
// tanh(z1) + min(z2², 4), "angular integration budget exhausted", δ_alg = 0 from its trivial first
// direction), with the analysis' own error estimate and note; else it is null with a note.
bool alg_reportable(const Setup& setup) {
  return setup.alg && (setup.alg->status == Status::success ||
                       (setup.alg->status == Status::not_converged && !std::isnan(setup.alg->delta_alg)));
}
std::string alg_caveat(const Setup& setup) {
  return "the alg analysis of the link did not converge to its tolerance (" + setup.alg->note +
         "); delta_alg is its result, with its error estimate delta_alg_error = " + fmt_number(setup.alg->error_estimate);
}
std::string alg_line(const Setup& setup) {
  if (setup.alg->status == Status::success) {
    return fmt::format("  delta_alg = {:>12}   (alg analysis of the link, for comparison)\n", fmt_number(setup.alg->delta_alg));
  }
  return fmt::format("  delta_alg = {:>12}   (alg analysis of the link, for comparison; NOT CONVERGED: {})\n",
                     fmt_number(setup.alg->delta_alg), alg_caveat(setup));
}

// Names the command-line option that set the field an InputError names (else rethrows it as is).
using OptionNames = std::map<std::string, std::string>;
[[noreturn]] void rethrow_as_option(const InputError& e, const OptionNames& option_of) {
  const auto it = option_of.find(e.parameter());
  if (it == option_of.end()) throw e;
  throw InputError(it->second, it->second + ": " + e.what());
}
const OptionNames kRuleOptions = {{"tol", "--fp-tol"},
                                  {"max_iter", "--fp-max-iter"},
                                  {"node_weight_floor", "--fp-weight-floor"},
                                  {"principal_axis_ratio", "--fp-principal-ratio"},
                                  {"xi_points", "--u-points"},
                                  {"hermite_points", "--u-points"},
                                  {"panel_width", "--u-panel-width"},
                                  {"panel_points", "--u-panel-points"},
                                  {"composite_max_dim", "--u-composite-max-dim"}};
const OptionNames kTeacherOptions = {{"panel_points", "--z-panel-points"},
                                     {"panel_width", "--z-panel-width"},
                                     {"hermite_points", "--z-hermite-points"},
                                     {"k2_panel_points", "--z-k2-panel-points"},
                                     {"k2_coarse_panel_points", "--z-k2-coarse-panel-points"}};

// Parses the options into the network, the analyzer options and the phase-1 law provider.
Setup make_setup(const NNArgs& args) {
  Setup setup;
  auto& [net, opt, provider, law_json, k, a_text, link_text, phase1_kind, noise, alg_result, hard_source, init_note, auto_u_points, auto_u_2d] = setup;
  const model::Activation activation = model::Activation::parse(args.activation);
  const model::Loss loss = model::Loss::parse(args.loss);
  noise = model::Noise::parse(args.noise);
  if (args.unit_norm) {
    throw InputError("--unit-norm", "--unit-norm: the Riemannian Hessian on the sphere is not implemented by `nn` "
                                    "(it needs a per-neuron shift in (R1)); run without --unit-norm");
  }

  core::check_threads(args.threads);
  phase1_kind = args.phase1;
  std::string law_file;
  if (args.phase1.rfind("empirical:", 0) == 0) {
    phase1_kind = "empirical";
    law_file = args.phase1.substr(10);
    if (law_file.empty()) throw InputError("--phase1", "--phase1: empirical:FILE needs a file name");
  } else if (args.phase1 != "init" && args.phase1 != "fixed-point") {
    throw InputError("--phase1", "--phase1: '" + args.phase1 + "' is not recognised (accepted: init, fixed-point, empirical:FILE)");
  }

  opt.ridge = args.ridge;
  opt.delta_min = args.delta_min;
  opt.delta_max = args.delta_max;
  opt.scan_per_decade = args.scan_per_decade;
  opt.scan_to_max = args.full_scan;
  opt.threshold_check = args.threshold_check;
  opt.threshold_check_points = args.threshold_check_points;

  link_text = args.link;

  if (phase1_kind == "empirical") {
    phase1::EmpiricalPhase1 emp = phase1::read_empirical(law_file, "--phase1");
    if (args.width_given && args.width != emp.law.m) {
      throw InputError("--width", "--width " + std::to_string(args.width) + " differs from the width m = " +
                                      std::to_string(emp.law.m) + " recorded in '" + law_file + "'");
    }
    std::vector<double> a = emp.a;
    if (!args.second_layer.empty()) a = phase1::parse_second_layer(args.second_layer, emp.law.m).a;
    net.emplace(activation, loss, a);
    k = emp.law.k;
    opt.hard = args.hard.empty() ? emp.hard : parse_hard(args.hard, k);
    hard_source = args.hard.empty() ? "law file" : "--hard";
    if (opt.hard.empty()) throw InputError("--hard", "--hard: the law file records no hard directions; give --hard");
    law_json = {{"kind", "empirical"}, {"file", law_file}, {"samples", emp.law.size()}, {"run_delta", emp.delta},
                {"run_d", emp.d}, {"run_ridge", emp.ridge}};
    if (!emp.D.empty()) {
      // Recompute D from (y, u) with the options given here and compare with the stored D_i.
      double diff = 0.0, scale = 0.0;
      const int m = emp.law.m;
      std::vector<double> D(m * m);
      for (std::size_t i = 0; i < emp.law.size(); ++i) {
        net->derivatives(emp.law.y[i], &emp.law.u[i * m], nullptr, D.data());
        for (int e = 0; e < m * m; ++e) {
          diff = std::max(diff, std::fabs(D[e] - emp.D[i * m * m + e]));
          scale = std::max(scale, std::fabs(emp.D[i * m * m + e]));
        }
      }
      law_json["stored_D_max_difference"] = diff;
      if (diff > 1e-8 * std::max(1.0, scale)) {
        throw InputError("--activation", "the D_i stored in '" + law_file + "' differ from those of --activation " +
                                             args.activation + ", --loss " + args.loss + " and second layer " +
                                             phase1::SecondLayer{a, false}.text() + " (max difference " +
                                             fmt_number(diff) + "): give the options of the run that wrote the file");
      }
    }
    a_text = phase1::SecondLayer{a, false}.text();
    if (link_text.empty()) link_text = "(from law file)";
    provider = hessian::constant_law(std::move(emp.law), "empirical");
  } else {
    require_link(args);
    const model::Link link = model::Link::parse(args.link, args.k);
    k = link.k();
    try {
      alg_result = alg::compute_delta_alg(link, noise);
    } catch (const InputError&) {
      alg_result.reset();
    }
    if (args.hard.empty()) {
      // Phase 1 (gradient descent from W₁ ⊥ Θ_h) learns the directions with a first-order signal,
      // E[z|y] ≠ 0: the trivial directions of the alg analysis (stage by stage). Every other
      // direction is hard for the Hessian analysis; it must be a coordinate axis to be named.
      // An analysis that ended not_converged (its channel integration short of the tolerance:
      // tanh(z1) + min(z2², 4)) still classified the directions; they are used, and the source says
      // so (hard_source, shown with the results), since --hard overrides them.
      const bool classified = alg_result && !alg_result->directions.empty() &&
                              (alg_result->status == Status::success || alg_result->status == Status::not_converged);
      if (!classified) {
        throw InputError("--hard", "--hard: the alg analysis of the link did not succeed; give the hard latent directions "
                                   "(1-based, e.g. --hard 1)");
      }
      for (const auto& dir : alg_result->directions) {
        if (dir.cls == alg::DirectionClass::trivial) continue;
        int axis = -1;
        for (int i = 0; i < k; ++i) {
          if (std::fabs(std::fabs(dir.vector[i]) - 1.0) < 1e-6) axis = i;
        }
        if (axis < 0) {
          throw InputError("--hard", "--hard: the non-trivial directions of the link are not coordinate axes; give the "
                                     "hard latent directions explicitly (1-based, e.g. --hard 2,3)");
        }
        opt.hard.push_back(axis);
      }
      std::sort(opt.hard.begin(), opt.hard.end());
      if (opt.hard.empty()) {
        throw InputError("--hard", "--hard: every direction of the link is trivial (learned by the first gradient steps); "
                                   "there is no hard direction for the Hessian analysis");
      }
      hard_source = "alg: directions that are not trivial";
      if (alg_result->status != Status::success) {
        hard_source += " (the alg analysis did not converge to its tolerance: " + alg_result->note +
                       "; --hard sets them explicitly)";
      }
    } else {
      opt.hard = parse_hard(args.hard, k);
      hard_source = "--hard";
    }
    const phase1::SecondLayer second = phase1::parse_second_layer(args.second_layer, args.width);
    if (second.trained && phase1_kind == "fixed-point") {
      throw InputError("--second-layer", "--second-layer trained is not supported with --phase1 fixed-point "
                                         "(the stationary-point equations treat a as fixed); give fixed:V1,..");
    }
    if (loss.kind() == model::Loss::Kind::logistic) {
      phase1::TeacherQuadOptions probe;
      const auto nodes = phase1::teacher_nodes(link, noise, probe);
      for (double y : nodes.y) {
        if (y != 1.0 && y != -1.0) {
          throw InputError("--loss", "--loss logistic needs labels in {-1, +1}, but the link '" + args.link +
                                         "' gives y = " + fmt_number(y) + " (use e.g. sign(...))");
        }
      }
    }
    net.emplace(activation, loss, second.a);
    a_text = second.text();
    phase1::TeacherQuadOptions tq;
    tq.panel_points = args.z_panel_points;
    tq.panel_width = args.z_panel_width;
    tq.hermite_points = args.z_hermite_points;
    tq.k2_panel_points = args.z_k2_panel_points;
    tq.k2_coarse_panel_points = args.z_k2_coarse_panel_points;
    try {
      tq.validate();
    } catch (const InputError& e) {
      rethrow_as_option(e, kTeacherOptions);
    }
    phase1::TeacherNodes teacher = phase1::teacher_nodes(link, noise, tq);
    if (phase1_kind == "init") {
      const phase1::InitSpec init = phase1::parse_init(args.init);
      phase1::InitLawOptions io;
      io.u_rule.hermite_points = args.u_points;
      io.u_rule.panel_width = args.u_panel_width;
      io.u_rule.panel_points = args.u_panel_points;
      io.u_rule.composite_max_dim = args.u_composite_max_dim;
      io.require_auto_2d = args.u_require_2d;
      try {
        io.validate();
      } catch (const InputError& e) {
        rethrow_as_option(e, kRuleOptions);
      }
      // The u rule init_law chooses (--check-quadrature refines an automatic one).
      if (init.scale > 0) {
        const auto rule = phase1::init_u_rule(args.width, init.scale, io, phase1::group_by_label(teacher).size());
        if (rule.choice == phase1::InitURule::Choice::hermite_budget) auto_u_points = rule.rule.hermite_points;
        auto_u_2d = rule.choice == phase1::InitURule::Choice::composite_2d;
      }
      if (init.kind == phase1::InitSpec::Kind::small && activation.d2(0.0) == 0.0) {
        // D = ℓ''JJᵀ + ℓ' diag(a⊙σ''(u)) with u = O(S): the label enters only through ℓ'·σ''(u) =
        // O(S) (and ℓ''(y, f₀), which for both losses does not depend on y: square ℓ'' = 1, logistic
        // is even in y f₀ with y = ±1).
        init_note = "at the small-init point u = O(" + fmt_number(init.scale) + ") and sigma''(0) = 0, so D = l''JJ^T + "
                    "l' diag(a sigma''(u)) depends on y only through l' sigma''(u) = O(S). " +
                    std::string(args.width == 1
                                    ? "For m = 1 the Hessian is then a Marchenko-Pastur matrix (D = l''(a sigma'(0))^2 + O(S)) "
                                      "that does not see y to leading order: no outlier, delta_nn = inf is the S -> 0 answer"
                                    : "For m >= 2 the leading term l''JJ^T has rank one; on its complement only the O(S) "
                                      "y-dependent part acts, so an outlier there has lambda_out = O(S) and an escape time "
                                      "O(log d / S); a finite delta_nn is the threshold of that O(S) block");
      }
      phase1::Law law = phase1::init_law(teacher, args.width, init, io);
      law_json = {{"kind", "init"}, {"init", init.text()}, {"nodes", law.size()}, {"description", law.description}};
      provider = hessian::constant_law(std::move(law), "init " + init.text());
    } else {
      phase1::FixedPointOptions fo;
      fo.ridge = args.ridge;
      fo.hard = opt.hard;
      fo.xi_points = args.u_points;
      fo.law_rule.hermite_points = args.u_points;
      fo.law_rule.panel_width = args.u_panel_width;
      fo.law_rule.panel_points = args.u_panel_points;
      fo.law_rule.composite_max_dim = args.u_composite_max_dim;
      fo.tol = args.fp_tol;
      fo.max_iter = args.fp_max_iter;
      fo.node_weight_floor = args.fp_weight_floor;
      fo.principal_axis_ratio = args.fp_principal_ratio;
      fo.split_symmetric_rule = !args.fp_tensor_rule;
      fo.split_at_prox_jumps = args.fp_cut;
      fo.threads = args.threads;
      try {
        fo.validate(k, args.width);
      } catch (const InputError& e) {
        rethrow_as_option(e, kRuleOptions);
      }
      law_json = {{"kind", "fixed-point"}, {"teacher_nodes", teacher.size()}};
      provider = hessian::fixed_point_law(std::move(teacher), *net, fo);
    }
  }
  return setup;
}

void run(const NNArgs& args, CommandContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!args.plot.empty() && args.delta.empty()) {
    throw InputError("--plot", "--plot: needs points to draw; give --delta LIST or A:B:STEP");
  }
  Setup setup = make_setup(args);
  auto& [net, opt, provider, law_json, k, a_text, link_text, phase1_kind, noise, alg_result, hard_source, init_note, auto_u_points, auto_u_2d] = setup;
  std::vector<double> deltas;
  if (!args.delta.empty()) deltas = parse_grid(args.delta, "--delta", 0.0, true, 1e7, 10000);
  const bool find = args.find || deltas.empty();

  hessian::Analyzer analyzer(*net, opt, provider);
  std::vector<hessian::PointResult> points;
  for (double d : deltas) points.push_back(analyzer.point(d));
  std::optional<hessian::Thresholds> th;
  if (find) th = analyzer.thresholds();

  // --check-quadrature: the same computation on refined rules; the differences estimate the
  // quadrature error (the bulk edge converges slowly in the Gauss–Hermite rule for u, h when m ≥ 2).
  nlohmann::json check;
  if (args.check_quadrature) {
    NNArgs fine = args;
    fine.z_panel_points = std::min(40, args.z_panel_points + 6);
    if (args.z_hermite_points > 0 || k == 3) fine.z_hermite_points = (args.z_hermite_points > 0 ? args.z_hermite_points : 20) + 9;
    fine.z_k2_panel_points = std::min(40, args.z_k2_panel_points + 4);
    fine.u_panel_width = 0.5 * args.u_panel_width;
    // Gauss–Hermite rules: one point per axis more for the fixed point's h rule; two more for an init
    // law's u rule, the same parity (odd and even counts converge from opposite sides, far apart for
    // m = 4: docs/nn.md). An init law whose automatic rule was lowered to fit the teacher (m ≥ 2, k = 2
    // links with many labels) is checked against that rule plus two; the default plus two would
    // exceed the law's cap.
    const int u_step = phase1_kind == "init" ? 2 : 1;
    fine.u_points = (args.u_points > 0 ? args.u_points : phase1::default_u_points(net->width())) + u_step;
    if (auto_u_points > 0 && auto_u_points < phase1::default_u_points(net->width())) {
      fine.u_points = auto_u_points + 2;
    }
    // The automatic m = 2 composite u rule: the same panels with 4 more nodes each (an error if the
    // law then exceeds the cap, not a silent change of rule).
    if (auto_u_2d) {
      fine.u_points = 0;  // a Gauss–Hermite size would replace the composite rule
      fine.u_require_2d = true;
      fine.u_panel_points = std::min(40, args.u_panel_points + 4);
    }
    check["refined_rule"] = {{"z_panel_points", fine.z_panel_points}, {"u_panel_width", fine.u_panel_width},
                             {"u_panel_points", fine.u_panel_points}, {"u_composite_max_dim", fine.u_composite_max_dim},
                             {"u_points", fine.u_points}, {"z_hermite_points", fine.z_hermite_points},
                             {"z_k2_panel_points", fine.z_k2_panel_points}};
    std::optional<Setup> fs;
    try {
      fs.emplace(make_setup(fine));
    } catch (const InputError& e) {
      // A refined rule exceeds a size cap: the check says so; the result on the default rules stands.
      check["error"] = std::string("the refined rules could not be built: ") + e.what();
    }
    if (fs) {
      hessian::Analyzer fa(*fs->net, fs->opt, fs->provider);
      auto diff = [](double a, double b) -> nlohmann::json {
        if (std::isnan(a) || std::isnan(b)) return nullptr;
        if (std::isinf(a) || std::isinf(b)) return a == b ? nlohmann::json(0.0) : nlohmann::json("inf");
        return std::fabs(a - b);
      };
      nlohmann::json cp = nlohmann::json::array();
      for (const auto& p : points) {
        const auto q = fa.point(p.delta);
        cp.push_back({{"delta", p.delta}, {"bulk_edge", diff(p.bulk_edge, q.bulk_edge)},
                      {"lambda_out", diff(p.lambda_out, q.lambda_out)}, {"overlap", diff(p.overlap, q.overlap)}});
      }
      check["points"] = cp;
      if (th) {
        const auto t2 = fa.thresholds();
        check["delta_bbp"] = diff(th->bbp.value, t2.bbp.value);
        check["delta_nn"] = diff(th->nn.value, t2.nn.value);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  Status status = Status::success;
  std::vector<std::string> messages;
  for (const auto& p : points) {
    status = worst(status, p.status);
    if (!p.message.empty()) messages.push_back("delta = " + fmt_number(p.delta) + ": " + p.message);
  }
  if (th) {
    status = worst(status, th->status);
    if (!th->message.empty()) messages.push_back("scan: " + th->message);
    for (const auto* t : {&th->bbp, &th->nn}) {
      if (!t->message.empty()) messages.push_back(std::string(t == &th->bbp ? "delta_bbp: " : "delta_nn: ") + t->message);
    }
    if (args.full_scan && !th->nn_end.monotone) messages.push_back("delta_nn_end: " + th->nn_end.message);
  }
  const bool no_transition = th && th->no_transition;
  if (!setup.init_note.empty()) messages.push_back(setup.init_note);
  const hessian::LawDiagnostics* diag = nullptr;
  std::string branch;
  if (!points.empty()) {
    diag = &points.back().law;
    branch = points.back().branch;
  } else if (th && !th->scan.empty()) {
    diag = &th->scan.back().law;
    branch = th->scan.back().branch;
  }
  const bool interpolating = th ? th->interpolating : (diag && diag->interpolating);

  nlohmann::json j;
  j["options"] = {{"link", link_text}, {"k", k}, {"noise", noise.text()}, {"activation", args.activation},
                  {"loss", args.loss}, {"width", net->width()}, {"second_layer", a_text},
                  {"init", args.init}, {"ridge", args.ridge}, {"unit_norm", args.unit_norm},
                  {"hard", hard_text(opt.hard)}, {"phase1", args.phase1}, {"find", find},
                  {"delta", args.delta}, {"delta_min", args.delta_min}, {"delta_max", args.delta_max},
                  {"threshold_check", args.threshold_check}, {"threshold_check_points", args.threshold_check_points}};
  if (args.phase1 == "fixed-point") {
    j["options"]["fp_weight_floor"] = args.fp_weight_floor;
    j["options"]["fp_principal_ratio"] = args.fp_principal_ratio;
    j["options"]["fp_tensor_rule"] = args.fp_tensor_rule;
    j["options"]["fp_cut"] = args.fp_cut;
    j["options"]["z_k2_coarse_panel_points"] = args.z_k2_coarse_panel_points;
    j["options"]["threads"] = args.threads;
  }
  j["status"] = std::string(to_string(status));
  j["seconds"] = seconds;
  j["law"] = law_json;
  if (!branch.empty()) j["law"]["branch"] = branch;
  auto threshold_json = [&](const hessian::Threshold& t) -> nlohmann::json {
    if (no_transition) return "none";
    if (interpolating && &t == &th->nn) return nullptr;
    return number_or_inf(t.value, "threshold");
  };
  // Resolution keys: null where threshold_json gives no finite crossing to resolve.
  auto resolution_json = [&](const std::string& key, const hessian::Threshold& t) {
    const bool resolved = !no_transition && !(interpolating && &t == &th->nn) && std::isfinite(t.value) && !t.below_range;
    j[key + "_resolution"] = resolved ? nlohmann::json(t.resolution) : nlohmann::json(nullptr);
    j[key + "_monotone"] = resolved ? nlohmann::json(t.monotone) : nlohmann::json(nullptr);
    j[key + "_resolution_span"] = resolved ? nlohmann::json::array({t.resolution_span[0], t.resolution_span[1]})
                                           : nlohmann::json(nullptr);
    j[key + "_resolution_points"] = t.resolution_samples;
    j[key + "_jitter"] = resolved && !std::isnan(t.jitter) ? number_or_inf(t.jitter, "jitter") : nlohmann::json(nullptr);
  };
  if (th) {
    j["delta_bbp"] = threshold_json(th->bbp);
    j["delta_nn"] = threshold_json(th->nn);
    j["delta_bbp_bracket"] = {number_or_inf(th->bbp.bracket[0], "bracket"), number_or_inf(th->bbp.bracket[1], "bracket")};
    j["delta_nn_bracket"] = {number_or_inf(th->nn.bracket[0], "bracket"), number_or_inf(th->nn.bracket[1], "bracket")};
    j["delta_bbp_status"] = std::string(to_string(th->bbp.status));
    j["delta_nn_status"] = std::string(to_string(th->nn.status));
    resolution_json("delta_bbp", th->bbp);
    resolution_json("delta_nn", th->nn);
    if (args.full_scan) {
      j["delta_nn_end"] = interpolating ? nlohmann::json(nullptr) : number_or_inf(th->nn_end.value, "threshold");
      j["delta_nn_end_bracket"] = {number_or_inf(th->nn_end.bracket[0], "bracket"), number_or_inf(th->nn_end.bracket[1], "bracket")};
      if (!interpolating) resolution_json("delta_nn_end", th->nn_end);
    }
    j["evaluations"] = th->nn.evaluations + th->bbp.evaluations - static_cast<int>(th->scan.size());
    j["no_transition"] = no_transition;
    if (no_transition) j["no_transition_reason"] = th->no_transition_reason;
  } else {
    j["delta_bbp"] = nullptr;
    j["delta_nn"] = nullptr;
  }
  if (alg_reportable(setup)) {
    j["delta_alg"] = number_or_inf(setup.alg->delta_alg, "delta_alg");
    j["delta_alg_error"] = setup.alg->error_estimate;
    if (setup.alg->status != Status::success) j["delta_alg_note"] = alg_caveat(setup);
  } else {
    j["delta_alg"] = nullptr;
    j["delta_alg_note"] = phase1_kind == "empirical" ? "no link is given with an empirical law"
                                                     : "the alg analysis of the link did not succeed";
  }
  j["options"]["hard_source"] = setup.hard_source;
  if (interpolating) {
    j["caveat"] = "square-loss interpolation: l' = 0 on the phase-1 law, the Hessian is positive semi-definite and "
                  "has no negative outlier; no delta_nn is reported";
  }
  if (diag) {
    j["diagnostics"] = {{"rms_loss_d1", diag->rms_loss_d1}, {"hard_gradient", diag->hard_gradient},
                        {"D_min", diag->d_min}, {"D_max", diag->d_max}, {"D_negative_mass", diag->negative_mass},
                        {"interpolating", diag->interpolating}, {"D_unbounded_below", diag->unbounded_below},
                        {"D_tail_min", {diag->tail_d_min[0], diag->tail_d_min[1], diag->tail_d_min[2]}},
                        {"D_tail_radius", diag->tail_radius}, {"D_spread", diag->d_spread}};
  }
  if (!check.is_null()) j["quadrature_check"] = check;
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : points) {
    nlohmann::json q;
    q["delta"] = p.delta;
    q["status"] = std::string(to_string(p.status));
    q["bulk_edge"] = p.status == Status::success ? number_or_inf(p.bulk_edge, "bulk_edge") : nlohmann::json(nullptr);
    q["no_transition"] = p.no_transition;
    q["lambda_out"] = nullable(p.lambda_out, "lambda_out");
    q["overlap"] = nullable(p.overlap, "overlap");
    q["escape_time_per_log_d"] = nullable(p.escape_time_per_log_d, "escape time");
    q["escape_time_relative_per_log_d"] = nullable(p.escape_time_relative_per_log_d, "escape time");
    q["outliers"] = p.outliers;
    if (phase1_kind == "fixed-point") {
      q["phase1_stable"] = !p.phase1_unstable;
      q["law_consistent"] = p.phase1_law_consistent;
      // The law rule's quadrature error where the solve estimated it (resolution-limited), else 0.
      q["phase1_quadrature_error"] = p.phase1_quadrature_error;
      q["phase1_quadrature_error_relative"] = p.phase1_quadrature_error_relative;
      q["phase1_branch"] = p.branch;  // how this δ's fixed point was found, with its residual
    }
    if (!p.message.empty()) q["message"] = p.message;
    pts.push_back(q);
  }
  j["points"] = pts;
  if (!messages.empty()) j["messages"] = messages;

  std::ostringstream out;
  if (args.format == Format::json) {
    out << j.dump(2) << "\n";
  } else if (args.format == Format::csv) {
    if (!points.empty()) {
      out << "delta,status,bulk_edge,lambda_out,overlap,escape_time_per_log_d\n";
      for (const auto& p : points) {
        out << fmt_number(p.delta, 10) << "," << to_string(p.status) << "," << fmt_number(p.bulk_edge, 10) << ","
            << (std::isnan(p.lambda_out) ? "" : fmt_number(p.lambda_out, 10)) << ","
            << (std::isnan(p.overlap) ? "" : fmt_number(p.overlap, 10)) << ","
            << (std::isnan(p.escape_time_per_log_d) ? "" : fmt_number(p.escape_time_per_log_d, 10)) << "\n";
      }
    } else if (th) {
      out << "quantity,value,bracket_low,bracket_high,status,resolution\n";
      for (const auto* t : {&th->bbp, &th->nn}) {
        const bool suppressed = no_transition || (interpolating && t == &th->nn);
        const bool resolved = !suppressed && std::isfinite(t->value) && !t->below_range;
        out << (t == &th->bbp ? "delta_bbp" : "delta_nn") << "," << (suppressed ? "" : fmt_number(t->value, 10)) << ","
            << fmt_number(t->bracket[0], 10) << "," << fmt_number(t->bracket[1], 10) << "," << to_string(t->status) << ","
            << (resolved ? fmt_number(t->resolution, 6) : "") << "\n";
      }
    }
  } else {
    out << fmt::format("nn: link {}, {} activation, {} loss, width {}, second layer {}, ridge {}, hard {} ({})\n",
                       link_text, args.activation, args.loss, net->width(), a_text, fmt_number(args.ridge),
                       hard_text(opt.hard), setup.hard_source);
    out << "phase-1 law: " << args.phase1;
    if (phase1_kind == "init") out << " (" << args.init << ")";
    if (!branch.empty() && phase1_kind == "fixed-point") out << "\n  " << branch;
    out << "\n";
    if (th && no_transition) {
      out << "  delta_bbp = none, delta_nn = none: no transition (D unbounded below on the phase-1 law; see note)\n";
      if (alg_reportable(setup)) out << alg_line(setup);
    } else if (th) {
      // Resolution column: shown only when the evaluated points contradict a single crossing.
      auto resolution_text = [](const hessian::Threshold& t) -> std::string {
        std::string text;
        if (!t.monotone) {
          text += "   NOT MONOTONE: resolution +-" + fmt_number(t.resolution, 3) + " (relative), delta in [" +
                  fmt_number(t.resolution_span[0]) + ", " + fmt_number(t.resolution_span[1]) + "]";
        }
        if (t.jitter > hessian::kJitterWarning) text += "   NOISY: jitter +-" + fmt_number(t.jitter, 3) + " (relative)";
        return text;
      };
      out << fmt::format("  delta_bbp = {:>12}   bracket [{}, {}]   {}{}\n", fmt_number(th->bbp.value),
                         fmt_number(th->bbp.bracket[0]), fmt_number(th->bbp.bracket[1]), to_string(th->bbp.status),
                         resolution_text(th->bbp));
      if (interpolating) {
        out << "  delta_nn  = (none: square-loss interpolation, l' = 0 on the law, Hessian PSD)\n";
      } else {
        out << fmt::format("  delta_nn  = {:>12}   bracket [{}, {}]   {}{}\n", fmt_number(th->nn.value),
                           fmt_number(th->nn.bracket[0]), fmt_number(th->nn.bracket[1]), to_string(th->nn.status),
                           resolution_text(th->nn));
      }
      if (args.full_scan && std::isfinite(th->nn.value)) {
        out << fmt::format("  negative outlier until delta = {}   bracket [{}, {}]\n", fmt_number(th->nn_end.value),
                           fmt_number(th->nn_end.bracket[0]), fmt_number(th->nn_end.bracket[1]));
      }
      if (alg_reportable(setup)) out << alg_line(setup);
    }
    if (!points.empty()) {
      out << fmt::format("{:>12} {:>14} {:>14} {:>10} {:>16}  {}\n", "delta", "bulk_edge", "lambda_out", "overlap",
                         "t_esc/log d", "status");
      for (const auto& p : points) {
        out << fmt::format("{:>12} {:>14} {:>14} {:>10} {:>16}  {}\n", fmt_number(p.delta),
                           p.status == Status::success ? fmt_number(p.bulk_edge, 6) : "-", cell(p.lambda_out),
                           cell(p.overlap), cell(p.escape_time_per_log_d), to_string(p.status));
      }
    }
    if (!check.is_null()) out << "quadrature check (|difference| on refined rules): " << check.dump() << "\n";
    for (const auto& msg : messages) out << "note: " << msg << "\n";
    out << fmt::format("status {}, {:.2f} s\n", to_string(status), seconds);
  }
  write_output(out.str(), args.out);
  if (!args.plot.empty()) {
    plot::Figure fig;
    fig.title = "Hessian at the phase-1 point: " + link_text + ", " + args.activation + ", m = " + std::to_string(net->width());
    fig.xlabel = "delta = n/d";
    fig.ylabel = "eigenvalue";
    plot::Series edge{"bulk edge", {}, {}, {}, plot::Series::Style::line};
    plot::Series outlier{"outlier along theta_h", {}, {}, {}, plot::Series::Style::points};
    plot::Series zero{"", {}, {}, {}, plot::Series::Style::line};
    for (const auto& p : points) {
      if (p.status != Status::success || p.no_transition) continue;
      edge.x.push_back(p.delta);
      edge.y.push_back(p.bulk_edge);
      outlier.x.push_back(p.delta);
      outlier.y.push_back(p.outlier ? p.lambda_out : std::numeric_limits<double>::quiet_NaN());
    }
    if (!points.empty()) {
      zero.x = {points.front().delta, points.back().delta};
      zero.y = {0.0, 0.0};
    }
    fig.series = {edge, outlier, zero};
    if (th && std::isfinite(th->bbp.value) && !no_transition) fig.markers.push_back({th->bbp.value, "delta_BBP"});
    if (th && std::isfinite(th->nn.value) && !interpolating) fig.markers.push_back({th->nn.value, "delta_NN"});
    plot::write(fig, args.plot);
  }
  ctx.exit_code = exit_code_for(status);
}

const CommandRegistration registration{
    "nn", "delta_NN: Hessian phase transition of a two-layer network at a phase-1 point (BBP outlier, escape)", 40,
    [](CLI::App& sub, CommandContext& ctx) {
      auto args = std::make_shared<NNArgs>();
      LinkOptionFlags flags;
      flags.link = Need::command_unless_empirical;
      add_link_options(sub, *args, flags);
      sub.add_option("--activation", args->activation, "relu, tanh, erf, quadratic, he:K, softplus, logcosh (default tanh)");
      sub.add_option("--loss", args->loss, "square (default) or logistic (labels +-1)");
      sub.add_option("--width", args->width, "Width m, 1..8 (default 1)")->each([args](const std::string&) { args->width_given = true; });
      sub.add_option("--second-layer", args->second_layer, "fixed:V1,..,Vm (default fixed:1 for m = 1, fixed:1/m,.. otherwise) or trained");
      sub.add_option("--init", args->init, "Initialisation for --phase1 init: small:S (S >= 0; 0 = limit) or random:S (default small:0.01)");
      sub.add_option("--ridge", args->ridge, "Ridge lambda >= 0 of the risk (needed > 0 by --phase1 fixed-point)");
      sub.add_flag("--unit-norm", args->unit_norm, "Neurons on the unit sphere (not supported by nn: error)");
      sub.add_option("--hard", args->hard, "Hard latent directions, 1-based, e.g. 2,3 (default: the directions the alg analysis does not classify trivial; the law file's for empirical:FILE)");
      sub.add_option("--phase1", args->phase1, "Phase-1 law: init (default), fixed-point, empirical:FILE");
      sub.add_flag("--find", args->find, "Compute delta_BBP and delta_NN (default when --delta is not given)");
      add_delta_option(sub, *args, flags);
      sub.add_option("--delta-min", args->delta_min, "Lower end of the threshold scan (default 0.05)");
      sub.add_option("--delta-max", args->delta_max, "Upper end of the threshold scan (default 1000)");
      sub.add_flag("--full-scan", args->full_scan, "Scan up to --delta-max to find where the negative outlier disappears again (delta_nn_end)");
      sub.add_option("--threshold-check", args->threshold_check,
                     "Resolution check of delta_bbp/delta_nn: also evaluate the event at delta*(1 +- r) for r up to R "
                     "(0..0.5; default 0 = off, the resolution then uses the points the search evaluated anyway)");
      sub.add_option("--threshold-check-points", args->threshold_check_points,
                     "Points per side of --threshold-check, at r = R j/N, j = 1..N (1..20, default 4)");
      sub.add_flag("--check-quadrature", args->check_quadrature, "Repeat on refined quadrature rules and report the differences as error estimates");
      sub.add_option("--scan-per-decade", args->scan_per_decade, "Scan points per decade of delta (default 6)");
      sub.add_option("--u-points", args->u_points, "m >= 2: Gauss-Hermite nodes per axis for u (init) or h (fixed point; for m = 2 with equal second-layer weights the split rule built from it, see --fp-tensor-rule); 0 = automatic");
      sub.add_option("--u-panel-width", args->u_panel_width, "m = 1: panel width of the composite rule for u (init) or h (fixed point), default 0.5");
      sub.add_option("--u-composite-max-dim", args->u_composite_max_dim, "Use the composite rule for u or h when m <= this (default 1; above: Gauss-Hermite, except the init law's automatic graded composite rule for m = 2)");
      sub.add_option("--u-panel-points", args->u_panel_points, "Gauss-Legendre nodes per panel of the composite rule for u or h (m = 1, and the init law's automatic m = 2 rule; default 8)");
      sub.add_option("--z-panel-points", args->z_panel_points, "k = 1: Gauss-Legendre nodes per panel (default 12)");
      sub.add_option("--z-panel-width", args->z_panel_width, "k = 1: largest panel width (default 1)");
      sub.add_option("--z-hermite-points", args->z_hermite_points, "k >= 2: Gauss-Hermite nodes per axis (0 = automatic: composite rule for k = 2, 20 for k = 3)");
      sub.add_option("--z-k2-panel-points", args->z_k2_panel_points, "k = 2 composite rule: Gauss-Legendre nodes per panel (default 10; panels 2 wide on [-8, 8], ends at the link's axis-aligned kinks and jumps)");
      sub.add_option("--z-k2-coarse-panel-points", args->z_k2_coarse_panel_points,
                     "k = 2 composite rule, fixed point: the cold starts run first on a coarser copy of the teacher "
                     "rule with this many nodes per panel, where below --z-k2-panel-points (default 6; 0: on the full "
                     "teacher rule only)");
      sub.add_option("--fp-tol", args->fp_tol, "Fixed-point tolerance (default 1e-10)");
      sub.add_option("--fp-max-iter", args->fp_max_iter, "Fixed-point iterations per start (default 2000)");
      sub.add_option("--threads", args->threads,
                     "Threads of the fixed-point map, 1..64 (default 1); results do not depend on it");
      sub.add_option("--fp-weight-floor", args->fp_weight_floor,
                     "Fixed point: leave out (teacher, h) node pairs of joint weight below this, in [0, 1e-10] "
                     "(default 1e-14; 0 keeps every node)");
      sub.add_option("--fp-principal-ratio", args->fp_principal_ratio,
                     "Fixed point, m >= 2: integrate h along its principal axis (41 nodes x 4 sign vectors for "
                     "m = 2, x 2m cross-polytope nodes for m >= 3) where the second eigenvalue of Q - M^T M is "
                     "below this fraction of the first, in [0, 0.1] (default 0.01; 0: tensor rule only)");
      sub.add_flag("--fp-tensor-rule", args->fp_tensor_rule,
                   "Fixed point, m = 2 with equal second-layer weights: integrate h on the rotated tensor "
                   "Gauss-Hermite rule (p^2 nodes, p = --u-points) instead of the rule split along h1 = h2 "
                   "(Gauss-Hermite along (1,1) x half-range Gauss on each side along (1,-1): p - p/4 x 2 (p/3) nodes)");
      sub.add_flag("--fp-cut,!--fp-no-cut", args->fp_cut,
                   "Fixed point, m = 1 (default on): every map uses the global prox on composite rules whose panels "
                   "are cut where it jumps (Maxwell points), so the map is continuous and the law a fixed point of "
                   "the global equations; --fp-no-cut: Newton-from-h proxes on the 40-node Gauss-Hermite iteration "
                   "rule and the uncut composite law rule (docs/nn.md, Numerics, sessions 15 and 16)");
      add_format_option(sub, args->format, true);
      sub.add_option("--out", args->out, "Write the output to this file (default stdout)");
      sub.add_option("--plot", args->plot, "Plot the bulk edge and the outlier against delta (needs --delta) to FILE.svg (or .png with gnuplot)");
      sub.callback([args, &ctx]() { run(*args, ctx); });
    }};

}  // namespace
}  // namespace deltacrit::cli
