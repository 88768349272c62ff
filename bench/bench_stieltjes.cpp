// Timings of the matrix-valued Stieltjes solver (R1/R2) on a Hessian-like weight law:
// m = 4 neurons, 10⁵ weighted samples, D = J Jᵀ + r·diag(a ⊙ σ''(u)) with σ = tanh, J = a ⊙ σ'(u),
// u ~ N(0, I_4), r = (z² − 1)/2 − ε (ε ~ N(0, 1/4)) and hard latent z ~ N(0, 1).
// Target (issue 3): one real-axis R1 solve below the spectrum < 50 ms on one core.
// Usage: bench_stieltjes [n_nodes=100000] [m=4] [repeats=7] [delta=16]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "deltacrit/core/rng.hpp"
#include "deltacrit/spectral/stieltjes.hpp"

using namespace deltacrit;
using namespace deltacrit::spectral;

namespace {

WeightLaw make_law(std::size_t n, int m, std::uint64_t seed) {
  Rng rng = make_rng(seed, 0);
  std::normal_distribution<double> N(0.0, 1.0);
  std::vector<double> a(m);
  for (int p = 0; p < m; ++p) a[p] = (p % 2 == 0 ? 1.0 : -1.0) / std::sqrt(static_cast<double>(m));
  std::vector<double> D(n * m * m), z(n);
  std::vector<double> u(m), J(m), s2(m);
  for (std::size_t i = 0; i < n; ++i) {
    const double zi = N(rng);
    const double r = 0.5 * (zi * zi - 1.0) - 0.5 * N(rng);
    for (int p = 0; p < m; ++p) {
      u[p] = N(rng);
      const double t = std::tanh(u[p]);
      J[p] = a[p] * (1.0 - t * t);
      s2[p] = a[p] * (-2.0 * t * (1.0 - t * t));
    }
    double* d = D.data() + i * m * m;
    for (int p = 0; p < m; ++p)
      for (int q = 0; q < m; ++q) d[p * m + q] = J[p] * J[q] + (p == q ? r * s2[p] : 0.0);
    z[i] = zi;
  }
  return WeightLaw::from_samples(m, 1, std::move(D), std::move(z));
}

// Thread CPU time: on the shared 2-core machines wall time also counts other processes.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

struct Timing {
  double wall_ms = 0, cpu_ms = 0;  // medians
};

template <typename F>
Timing median_ms(int repeats, F&& f) {
  std::vector<double> w, c;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    f();
    const double c1 = cpu_seconds();
    const auto t1 = std::chrono::steady_clock::now();
    w.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    c.push_back(1e3 * (c1 - c0));
  }
  std::sort(w.begin(), w.end());
  std::sort(c.begin(), c.end());
  return {w[w.size() / 2], c[c.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int m = argc > 2 ? std::atoi(argv[2]) : 4;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 7;
  const double delta = argc > 4 ? std::atof(argv[4]) : 16.0, ridge = 0.0;
  const WeightLaw law = make_law(n, m, 12345);
  const StieltjesSolver sv(law, delta, ridge);
  std::printf("law: m = %d, %zu nodes, delta = %g, ridge = %g, scale = %.4g\n", m, n, delta, ridge, sv.scale());

  EdgeResult edge;
  const Timing t_edge = median_ms(repeats, [&] { edge = sv.lower_edge(); });
  std::printf("lower_edge:  wall %8.2f ms, cpu %8.2f ms  (edge %.10g, kind %s, %d passes, %d steps)\n",
              t_edge.wall_ms, t_edge.cpu_ms,
              edge.location, std::string(to_string(edge.kind)).c_str(), edge.iterations, edge.steps);

  for (double gap : {1.0, 0.1, 0.01}) {
    const double zeta = edge.location - gap * sv.scale();
    RealSolution s;
    const Timing t = median_ms(repeats, [&] { s = sv.solve_real(zeta); });
    std::printf("solve_real (cold, %.2g·scale below edge): wall %8.2f ms, cpu %8.2f ms  (%d passes, rho %.4f, "
                "residual %.1e, %s)\n",
                gap, t.wall_ms, t.cpu_ms, s.iterations, s.jacobian_radius, s.residual, std::string(to_string(s.status)).c_str());
  }

  OutlierResult out;
  const Timing t_out = median_ms(std::max(1, repeats / 2), [&] { out = sv.outliers(); });
  std::printf("outliers:    wall %8.2f ms, cpu %8.2f ms  (exists %d, location %.10g, overlap %.6f, %d passes, %s)\n",
              t_out.wall_ms, t_out.cpu_ms,
              out.exists ? 1 : 0, out.location, out.overlap, out.iterations, std::string(to_string(out.status)).c_str());

  std::vector<double> xs;
  const EdgeResult up = sv.upper_edge();
  for (int i = 0; i < 20; ++i) xs.push_back(edge.location + (up.location - edge.location) * (i + 0.5) / 20.0);
  DensityResult dens;
  const Timing t_dens = median_ms(std::max(1, repeats / 2), [&] { dens = sv.density(xs); });
  std::printf("density (20 points): wall %8.2f ms, cpu %8.2f ms  (%d passes, %s)\n", t_dens.wall_ms, t_dens.cpu_ms,
              dens.iterations,
              std::string(to_string(dens.status)).c_str());
  return 0;
}
