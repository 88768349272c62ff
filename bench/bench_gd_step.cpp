// Benchmark of the simulator's kernels (docs/performance.md, "## Simulator"): one full-batch GD
// step of the two-layer network (fused U = XW, residuals, XᵀG) at n = 4000, d = 1000, m = 4 on 1
// and 2 threads, one Hessian–vector product, one spectral matvec, and the data generation. With
// `--numpy PATH` it also runs the NumPy baseline (bench/numpy_gd_step.py) in the same session and
// prints the ratio of the medians.
//
// Usage: bench_gd_step [--n 4000] [--d 1000] [--m 4] [--repeats 21] [--numpy bench/numpy_gd_step.py]
#include <algorithm>
#include <cmath>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/gd.hpp"
#include "deltacrit/simulate/hessian.hpp"
#include "deltacrit/simulate/spectral.hpp"

using namespace deltacrit;
using namespace deltacrit::simulate;

namespace {
struct Timing {
  double median = 0.0;
  double min = 0.0;
};

// Median and minimum of `repeats` timed runs after one warm-up run, in milliseconds.
template <class F>
Timing time_ms(int repeats, F&& f) {
  std::vector<double> t;
  f();
  for (int r = 0; r < repeats; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

double run_numpy(const std::string& script, int n, int d, int m) {
  const std::string cmd = "/usr/bin/python3 " + script + " --n " + std::to_string(n) + " --d " + std::to_string(d) +
                          " --m " + std::to_string(m);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return -1;
  std::array<char, 512> line{};
  double median = -1;
  while (fgets(line.data(), line.size(), pipe.get())) {
    std::printf("  %s", line.data());
    const std::string s(line.data());
    const auto pos = s.find("median_ms=");
    if (pos != std::string::npos) median = std::atof(s.c_str() + pos + 10);
  }
  return median;
}
}  // namespace

int main(int argc, char** argv) {
  int n = 4000, d = 1000, m = 4, repeats = 21;
  std::string numpy;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--n") n = std::atoi(argv[i + 1]);
    else if (key == "--d") d = std::atoi(argv[i + 1]);
    else if (key == "--m") m = std::atoi(argv[i + 1]);
    else if (key == "--repeats") repeats = std::atoi(argv[i + 1]);
    else if (key == "--numpy") numpy = argv[i + 1];
  }
  std::printf("bench_gd_step: n=%d d=%d m=%d repeats=%d (medians)\n", n, d, m, repeats);
  const auto link = model::Link::parse("z^2");
  Parallel par2(2), par1(1);
  const double gen_ms = time_ms(5, [&] { generate_dataset(link, model::Noise{}, d, n, 1, par2); }).median;
  const double gen1_ms = time_ms(5, [&] { generate_dataset(link, model::Noise{}, d, n, 1, par1); }).median;
  std::printf("data generation (X, Θ*, y): %.2f ms on 2 threads, %.2f ms on 1\n", gen_ms, gen1_ms);
  const Dataset data = generate_dataset(link, model::Noise{}, d, n, 1, par2);

  double sink = 0.0;
  const Timing read = time_ms(repeats, [&] { sink += data.train.X.sum(); });
  std::printf("read X once (sum of %.0f MB, the memory floor of one pass): %.3f ms on 1 thread (min %.3f)%s\n",
              8e-6 * n * static_cast<double>(d), read.median, read.min, sink == 0.123 ? " " : "");
  GdOptions opt;
  opt.width = m;
  opt.lr = 0.1;
  const auto a = opt.second_layer_values();
  RowMatrix Wt = RowMatrix::Random(m, d) / std::sqrt(static_cast<double>(d));
  RowMatrix grad;
  double ms[2];
  for (int t : {1, 2}) {
    Parallel& par = t == 1 ? par1 : par2;
    const Timing step = time_ms(repeats, [&] {
      risk_and_gradient(data.train, opt.activation, opt.loss, Wt, a, 0.0, &grad, nullptr, par);
      Wt -= opt.lr * grad;
    });
    ms[t - 1] = step.median;
    std::printf("gd step (fused, tanh, square): %.3f ms on %d thread%s (min %.3f)\n", step.median, t,
                t > 1 ? "s" : "", step.min);
  }
  {
    // The same step as two separate Eigen products (U = XW, then XᵀG), default build flags.
    const Eigen::MatrixXd W = Wt.transpose();
    Eigen::MatrixXd U, G, grad2;
    const double eigen_ms = time_ms(repeats, [&] {
      U.noalias() = data.train.X * W;
      G.resize(U.rows(), U.cols());
      for (Eigen::Index i = 0; i < U.rows(); ++i) {
        double f = 0.0;
        for (int j = 0; j < m; ++j) f += a[static_cast<std::size_t>(j)] * std::tanh(U(i, j));
        const double r = f - data.train.y[i];
        for (int j = 0; j < m; ++j) {
          const double t = std::tanh(U(i, j));
          G(i, j) = r * a[static_cast<std::size_t>(j)] * (1.0 - t * t);
        }
      }
      grad2.noalias() = data.train.X.transpose() * G / static_cast<double>(n);
    }).median;
    std::printf("gd step as two Eigen products (X*W, X^T*G): %.3f ms on 1 thread\n", eigen_ms);
  }
  const double gb = 8.0 * n * static_cast<double>(d) / 1e9;
  std::printf("  effective X read bandwidth on 2 threads: %.1f GB/s (one pass over %.0f MB)\n", gb / (ms[1] / 1e3),
              gb * 1e3);

  HessianOperator H(data.train, Wt, a, opt.activation, opt.loss, 0.0, par2);
  std::vector<double> v(static_cast<std::size_t>(m) * d, 1.0), out(v.size());
  const double hvp_ms = time_ms(repeats, [&] { H.apply(v.data(), out.data()); }).median;
  std::printf("Hessian-vector product: %.3f ms on 2 threads\n", hvp_ms);

  Eigen::VectorXd T = (data.train.y.array().min(3.0) - 1.0).matrix();
  std::vector<double> w(static_cast<std::size_t>(d), 1.0), wo(w.size());
  SpectralMatvec D(data.train, T, par2);
  const double mv_ms = time_ms(repeats, [&] { D.apply(w.data(), wo.data()); }).median;
  std::printf("spectral matvec D v (m = 1): %.3f ms on 2 threads\n", mv_ms);

  if (!numpy.empty()) {
    const double np_ms = run_numpy(numpy, n, d, m);
    if (np_ms > 0) {
      std::printf("ratio numpy / deltacrit (same session): %.1fx on 1 thread, %.1fx on 2 threads\n", np_ms / ms[0],
                  np_ms / ms[1]);
    } else {
      std::printf("numpy baseline failed to run\n");
    }
  }
  return 0;
}
