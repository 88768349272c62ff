// Benchmark of the δ_alg solver on one core: medians of repeated runs per link and tolerance.
// Targets (issue #2): k = 1 at tol 1e-8 < 50 ms; k = 2 at 1e-5 < 2 s; k = 3 at 1e-3 < 30 s.
// Usage: build/bin/bench_alg [repeats]   (results recorded in docs/performance.md)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "deltacrit/alg/delta_alg.hpp"
#include "deltacrit/model/link.hpp"

int main(int argc, char** argv) {
  using namespace deltacrit;
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  struct Case {
    const char* link;
    const char* noise;
    double tol;
    int repeats;  // k = 3 cases run fewer times
  };
  const Case cases[] = {{"z^2", "none", 1e-8, repeats},         {"he(4, z)", "none", 1e-8, repeats},
                        {"z^2", "gaussian:1", 1e-8, repeats},   {"z1*z2", "none", 1e-5, repeats},
                        {"sign(z1*z2)", "none", 1e-5, repeats}, {"z1^2+z1*z2", "none", 1e-5, repeats},
                        {"z1^2+z2^2+z3^2", "none", 1e-3, 1},    {"z1^2+sign(z1*z2*z3)", "none", 1e-3, 1}};
  std::printf("%-22s %-11s %8s %14s %12s %s\n", "link", "noise", "tol", "delta_alg", "median_s", "runs");
  for (const auto& c : cases) {
    const auto link = model::Link::parse(c.link);
    const auto noise = model::Noise::parse(c.noise);
    alg::AlgOptions opt;
    opt.tol = c.tol;
    std::vector<double> times;
    double value = 0.0;
    for (int r = 0; r < c.repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      value = alg::compute_delta_alg(link, noise, opt).delta_alg;
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    std::printf("%-22s %-11s %8.0e %14.10g %12.4f %d\n", c.link, c.noise, c.tol, value, times[times.size() / 2],
                c.repeats);
    std::fflush(stdout);
  }
  return 0;
}
