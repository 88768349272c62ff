// Timing of the state-evolution and spectral-prediction workloads of issue 3 (medians of several
// runs; docs/performance.md records them):
//   1. SE overlap curve q*(δ) of 50 points for k = 1 (|z|, δ = 0.42 … 1.6), from construction
//      (fibre analysis, outer rule, ψ scan, spinodal) to the last root — target < 1 s;
//   2. one spectral threshold δ_T (y = z², T = min(y, 2) and T = optimal), from construction —
//      target < 0.2 s;
//   3. for information: one ψ(q) evaluation with gaussian output noise, one k = 2 matrix update,
//      the k = 2 onset (with its deviation from δ_alg) and one k = 2 fixed point.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "deltacrit/alg/se.hpp"
#include "deltacrit/spectral/spectral_method.hpp"

using namespace deltacrit;

namespace {
double median_seconds(int runs, const std::function<void()>& f) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main() {
  double sink = 0;
  const auto abs_link = model::Link::parse("abs(z)");
  const double t_curve = median_seconds(7, [&] {
    alg::StateEvolution1D se(abs_link, model::Noise{});
    for (int i = 0; i < 50; ++i) sink += se.overlap(0.42 + 1.18 * i / 49.0).overlap;
  });
  std::printf("se curve, |z|, 50 points (k = 1):            median %.3f s  (target < 1 s)\n", t_curve);

  const auto z2 = model::Link::parse("z^2");
  for (const char* T : {"min(y,2)", "optimal"}) {
    const double t = median_seconds(7, [&] {
      spectral::SpectralPredictor sp(z2, model::Noise{}, T);
      sink += sp.threshold().delta;
    });
    std::printf("spectral threshold, y = z^2, T = %-9s     median %.3f s  (target < 0.2 s)\n", T, t);
  }

  {
    alg::StateEvolution1D se(z2, model::Noise::parse("gaussian:1"));
    const double t = median_seconds(3, [&] { sink += se.psi(0.5); });
    std::printf("psi(0.5), y = z^2 + N(0,1) (y-space route):   median %.3f s per evaluation\n", t);
  }
  {
    alg::MatrixStateEvolution mse(model::Link::parse("z1*z2"), model::Noise{});
    const double t = median_seconds(3, [&] { sink += mse.fisher(0.3 * Eigen::MatrixXd::Identity(2, 2))(0, 0); });
    std::printf("k = 2 matrix update E[g g^T] (z1*z2, 128 rays, 16^2 omega nodes): median %.3f s\n", t);
  }
  {
    // Onset of the k = 2 recursion from construction (rays, y-rule, linearisation at M = 0), and
    // its deviation from δ_alg(z1 z2) = 0.5937510982222572 (tests/data/ref_alg.json).
    double onset = 0;
    const double t = median_seconds(5, [&] {
      alg::MatrixStateEvolution mse(model::Link::parse("z1*z2"), model::Noise{});
      onset = mse.onset();
    });
    std::printf("k = 2 onset 1/lambda_max(F) (z1*z2, from construction): median %.3f s, onset %.10f, rel. dev. %.1e\n",
                t, onset, std::fabs(onset / 0.5937510982222572 - 1));
    sink += onset;
  }
  {
    alg::MatrixStateEvolution mse(model::Link::parse("z1*z2"), model::Noise{});
    alg::IterationResult res;
    const double t = median_seconds(3, [&] { res = mse.iterate(1.0); });
    std::printf("k = 2 fixed point M*(delta = 1) (z1*z2, seed 1e-4): median %.3f s (%d updates, tr M/k = %.4f)\n", t,
                res.iterations, res.overlap.trace() / 2);
    sink += res.overlap(0, 0);
  }
  return sink > -1 ? 0 : 1;
}
