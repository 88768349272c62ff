// Benchmark of `deltacrit nn --find` (δ_BBP and δ_NN by scan + bracketed root) for the init and
// fixed-point phase-1 laws, m ≤ 4, k ≤ 2 (issue 5 target: < 5 s on one core). Single-threaded;
// prints the median of `repeats` runs of CPU time and wall time (the machine is shared, so CPU
// time is the one-core figure; pitfall 16).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "deltacrit/core/memory.hpp"
#include "deltacrit/hessian/nn.hpp"
#include "deltacrit/phase1/fixed_point.hpp"

using namespace deltacrit;

namespace {
struct Case {
  std::string name, link, activation;
  std::vector<double> a;
  std::string phase1;  // "init:S" or "fixed-point"
  double ridge;
  std::vector<int> hard;
  bool cut = true;  // FixedPointOptions::split_at_prox_jumps (m = 1; the default since session 16)
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  // Usage: bench_nn [REPEATS] [FILTER] [R]: FILTER runs only the cases whose name contains it
  // (e.g. "init", "fixed-point"); the fixed-point cases with m = 2 or k = 2 take minutes. R > 0
  // sets NNOptions::threshold_check (default 0: off, as `nn --find`).
  core::keep_freed_memory();  // as the CLI does (core/memory.hpp)
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const std::string filter = argc > 2 ? argv[2] : "";
  const double check = argc > 3 ? std::atof(argv[3]) : 0.0;
  const int check_points = argc > 4 ? std::max(1, std::atoi(argv[4])) : 4;  // [N]: points per side
  const std::vector<Case> cases = {
      {"init small:0  quadratic m=1 k=1", "min(z^2,4)", "quadratic", {1.0}, "init:0", 0.0, {0}},
      {"init random:1 logcosh   m=2 k=1", "min(z^2,4)", "logcosh", {0.5, 0.5}, "init:1", 0.0, {0}},
      {"init random:1 logcosh   m=4 k=1", "min(z^2,4)", "logcosh", {0.25, 0.25, 0.25, 0.25}, "init:1", 0.0, {0}},
      {"init random:1 tanh      m=2 k=2", "z1^2 + tanh(z2)^2", "tanh", {0.5, 0.5}, "init:1", 0.0, {1}},
      {"init small:.01 quadratic m=1 k=2", "min(z1^2,4) + sign(z1*z2)", "quadratic", {1.0}, "init:s0.01", 0.0, {0, 1}},
      {"init small:.01 quadratic m=4 k=2", "min(z1^2,4) + sign(z1*z2)", "quadratic", {0.25, 0.25, 0.25, 0.25}, "init:s0.01", 0.0, {0, 1}},
      {"init random:1 logcosh   m=4 k=2", "sign(z1*z2)", "logcosh", {0.25, 0.25, 0.25, 0.25}, "init:1", 0.0, {0, 1}},
      {"fixed-point   logcosh   m=1 k=1", "min(z^2,4)", "logcosh", {1.0}, "fixed-point", 0.05, {0}},
      {"fixed-point   softplus  m=2 k=1", "min(z^2,4)", "softplus", {0.7, 0.4}, "fixed-point", 0.2, {0}},
      {"fixed-point   tanh      m=2 k=2", "z1 + z2^2", "tanh", {0.5, 0.5}, "fixed-point", 0.2, {1}},
      {"fixed-point   tanh      m=1 k=2", "tanh(z1) + min(z2^2,4)", "tanh", {1.0}, "fixed-point", 0.2, {1}},
      {"fixed-point   tanh      m=4 k=1", "min(z^2,4)", "tanh", {0.25, 0.25, 0.25, 0.25}, "fixed-point", 0.2, {0}},
      // Two further m ≥ 3 configurations of docs/nn.md (Known limits), last in the list and named
      // so that the filters of the cases above do not select them.
      {"fixed-point m>=3 tanh z^2 m=3 k=1", "z^2", "tanh", {1.0 / 3, 1.0 / 3, 1.0 / 3}, "fixed-point", 0.1, {0}},
      {"fixed-point m>=3 softplus m=4 k=1", "min(z^2,4)", "softplus", {0.4, 0.3, 0.2, 0.1}, "fixed-point", 0.2, {0}},
      // m = 1 on the rules not cut at the prox's jumps (nn --fp-no-cut; the default before session 16).
      {"fixed-point uncut logcosh m=1 k=1", "min(z^2,4)", "logcosh", {1.0}, "fixed-point", 0.05, {0}, false},
      {"fixed-point uncut tanh    m=1 k=2", "tanh(z1) + min(z2^2,4)", "tanh", {1.0}, "fixed-point", 0.2, {1}, false},
  };
  std::printf("%-34s %10s %10s %12s %12s  %s\n", "case", "cpu_s", "wall_s", "delta_bbp", "delta_nn", "status");
  for (const auto& c : cases) {
    if (c.name.find(filter) == std::string::npos) continue;
    std::vector<double> cpu, wall;
    hessian::Thresholds th;
    for (int r = 0; r < repeats; ++r) {
      const std::clock_t c0 = std::clock();
      const auto w0 = std::chrono::steady_clock::now();
      const auto teacher = phase1::teacher_nodes(model::Link::parse(c.link), model::Noise{});
      const phase1::Network net(model::Activation::parse(c.activation), model::Loss::parse("square"), c.a);
      hessian::NNOptions opt;
      opt.ridge = c.ridge;
      opt.hard = c.hard;
      opt.threshold_check = check;
      opt.threshold_check_points = check_points;
      hessian::LawProvider provider;
      if (c.phase1.rfind("init:", 0) == 0) {
        // "init:S": random:S (small:0 when S = 0); "init:sS": small:S.
        const bool small = c.phase1[5] == 's';
        const double S = std::stod(c.phase1.substr(small ? 6 : 5));
        const phase1::InitSpec init{small || S == 0 ? phase1::InitSpec::Kind::small : phase1::InitSpec::Kind::random, S};
        provider = hessian::constant_law(phase1::init_law(teacher, net.width(), init));
      } else {
        phase1::FixedPointOptions fo;
        fo.ridge = c.ridge;
        fo.hard = c.hard;
        fo.split_at_prox_jumps = c.cut;
        provider = hessian::fixed_point_law(teacher, net, fo);
      }
      hessian::Analyzer analyzer(net, opt, provider);
      th = analyzer.thresholds();
      cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    }
    std::printf("%-34s %10.3f %10.3f %12.6g %12.6g  %s%s\n", c.name.c_str(), median(cpu), median(wall), th.bbp.value,
                th.nn.value, std::string(to_string(th.status)).c_str(), th.no_transition ? " (no transition: D unbounded)" : "");
    for (const auto* t : {&th.bbp, &th.nn}) {
      std::printf("  %s resolution %.4g (%s), span [%.6g, %.6g], %d points in the window; jitter %.3g (%d points); "
                  "%d evaluations\n",
                  t == &th.bbp ? "delta_bbp" : "delta_nn ", t->resolution, t->monotone ? "monotone" : "NOT monotone",
                  t->resolution_span[0], t->resolution_span[1], t->resolution_samples, t->jitter, t->jitter_samples,
                  t->evaluations);
    }
    // With R > 0: the evaluated event values within δ*(1 ± R) of each finite threshold, by δ.
    if (check > 0) {
      auto samples = th.samples;
      std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.delta < b.delta; });
      for (const auto* t : {&th.bbp, &th.nn}) {
        if (!std::isfinite(t->value)) continue;
        std::printf("  %s samples within +-%g: delta phi psi\n", t == &th.bbp ? "delta_bbp" : "delta_nn ", check);
        for (const auto& s : samples) {
          if (std::fabs(s.delta / t->value - 1) <= check * (1 + 1e-9)) {
            std::printf("    %.7f %+.6e %+.6e\n", s.delta, s.k_min_at_edge, s.k_min_at_zero);
          }
        }
      }
    }    std::fflush(stdout);
  }
  return 0;
}
