// Timing of the δ_alg engine on the generic (expression) route (issue #2 speed targets, one core):
//   k = 1 at tolerance 1e-8 < 50 ms,  k = 2 at 1e-5 < 2 s,  k = 3 at 1e-3 < 30 s.
// Prints, per case, the median wall time of several runs, the CPU time of the last run, δ_alg,
// its error estimate and the error against the reference value (references.md /
// tests/data/ref_alg.json). Usage: build/bin/bench_alg [repeats]  (default 5; k = 3 cases run
// min(repeats, 3) times). Results are recorded in docs/performance.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/model/link.hpp"

using namespace deltacrit;

namespace {
struct Case {
  const char* link;
  const char* noise;
  double tol;
  double reference;  // δ_alg (first stage), or NaN
  double target_s;   // issue #2 target for this k
  bool k3;  // k = 3: at most 3 runs
};
}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const Case cases[] = {
      {"z^2", "none", 1e-8, 0.5, 0.05, false},
      {"he(4,z)", "none", 1e-8, 0.6448504699023041, 0.05, false},
      {"cos(z)", "none", 1e-8, 0.5090963825621286, 0.05, false},
      {"z^2", "gaussian:1", 1e-8, 0.6465905984417909, 0.05, false},
      {"z^2", "gaussian:0.25", 1e-8, 0.5416441747636153, 0.05, false},
      {"z^2", "gaussian:0.01", 1e-8, 0.5020947237063879, 0.05, false},
      {"abs(z)", "gaussian:0.25", 1e-8, 0.7740222984643959, 0.05, false},
      {"z1*z2", "none", 1e-5, 0.5937510982222572, 2.0, false},
      {"sign(z1*z2)", "none", 1e-5, M_PI * M_PI / 4, 2.0, false},
      {"abs(z1*z2)", "none", 1e-5, 1.461545115873559, 2.0, false},
      {"z1^2 + z1*z2", "none", 1e-5, 0.5076472741434599, 2.0, false},
      {"z1^2+z2^2+z3^2", "none", 1e-3, 1.5, 30.0, true},
      {"sign(z1*z2*z3)", "none", 1e-3, INFINITY, 30.0, true},
      {"z1^2 + sign(z1*z2*z3)", "none", 1e-3, 0.5751663522883491, 30.0, true},
  };
  std::printf("%-24s %-11s %7s %10s %10s %16s %10s %10s %8s\n", "link", "noise", "tol", "median_s", "cpu_s",
              "delta_alg", "est_err", "rel_err", "target_s");
  for (const auto& c : cases) {
    const auto link = model::Link::parse(c.link);
    const auto noise = model::Noise::parse(c.noise);
    alg::AlgOptions opt;
    opt.tol = c.tol;
    std::vector<double> times;
    alg::AlgResult r;
    double cpu = 0;
    const int runs = c.k3 ? std::min(repeats, 3) : repeats;
    for (int i = 0; i < runs; ++i) {
      const std::clock_t c0 = std::clock();
      const auto t0 = std::chrono::steady_clock::now();
      r = alg::compute_delta_alg(link, noise, opt);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    const double err = std::isinf(c.reference) ? (std::isinf(r.delta_alg) ? 0.0 : INFINITY)
                                               : std::fabs(r.delta_alg - c.reference) / c.reference;
    std::printf("%-24s %-11s %7.0e %10.4f %10.4f %16.10g %10.2e %10.2e %8.2f%s\n", c.link, c.noise, c.tol, median, cpu,
                r.delta_alg, r.error_estimate, err, c.target_s, median > c.target_s ? "  SLOW" : "");
    std::fflush(stdout);
  }
  return 0;
}
