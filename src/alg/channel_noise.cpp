// Additive Gaussian output noise, y' = g(z) + √Δ ε: the law of y' is continuous; its density and
// conditional moments are convolutions of the clean level-set integrals with N(0, Δ):
//   p(y') E[φ(z)|y'] = ∫ N_φ(y) φ_Δ(y' − y) dy + Σ_atoms P(c) E[φ(z)|c] φ_Δ(y' − c).
// The outer rule over y' is adaptive composite Gauss–Legendre with breakpoints at the critical
// values c and c ± {½, 1, 2, 4, 8}√Δ (the convolution smooths features of g on the scale √Δ —
// pitfall 6); the inner integrals are done by the k-specific builders.
#include <algorithm>
#include <cmath>

#include "channel_internal.hpp"

namespace deltacrit::alg::detail {

std::vector<double> noise_breakpoints(const std::vector<double>& critical, double lo, double hi, double sd) {
  std::vector<double> pts{lo, hi};
  for (double c : critical) {
    for (double m : {0.0, 0.5, 1.0, 2.0, 4.0, 8.0}) {
      for (double s : {-1.0, 1.0}) {
        const double x = c + s * m * sd;
        if (x > lo && x < hi) pts.push_back(x);
      }
    }
  }
  std::sort(pts.begin(), pts.end());
  std::vector<double> out;
  for (double x : pts)
    if (out.empty() || x - out.back() > 1e-9 * sd) out.push_back(x);
  return out;
}

AdaptiveLaw adaptive_law(const std::vector<double>& breakpoints, int k, const NodeFn& node_at, double tol, int n,
                         double max_len, std::size_t max_intervals) {
  struct Iv {
    double a, b;
    std::vector<ChannelNode> fine;
    LawFunctionals coarse_f, fine_f;
    double err = 0;
  };
  const auto& gl = gauss_legendre(n);
  auto rule = [&](double a, double b) {
    std::vector<ChannelNode> out;
    const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
    for (int i = 0; i < n; ++i) {
      ChannelNode node;
      if (node_at(mid + half * gl.x[i], gl.w[i] * half, node)) out.push_back(std::move(node));
    }
    return out;
  };
  auto fine_of = [&](Iv& iv) {
    const double mid = 0.5 * (iv.a + iv.b);
    iv.fine = rule(iv.a, mid);
    auto right = rule(mid, iv.b);
    iv.fine.insert(iv.fine.end(), right.begin(), right.end());
    iv.fine_f = functionals(iv.fine, k);
  };
  std::vector<Iv> ivs;
  for (std::size_t i = 0; i + 1 < breakpoints.size(); ++i) {
    const double a = breakpoints[i], b = breakpoints[i + 1];
    const int m = std::max(1, static_cast<int>(std::ceil((b - a) / max_len)));
    for (int q = 0; q < m; ++q) {
      Iv iv;
      iv.a = a + (b - a) * q / m;
      iv.b = a + (b - a) * (q + 1) / m;
      iv.coarse_f = functionals(rule(iv.a, iv.b), k);
      fine_of(iv);
      ivs.push_back(std::move(iv));
    }
  }
  AdaptiveLaw res;
  const double floor = 1e-3;
  for (;;) {
    LawFunctionals t;
    t.v.assign(ivs.empty() ? 1 : ivs.front().fine_f.v.size(), 0.0);
    for (const auto& iv : ivs)
      for (std::size_t i = 0; i < t.v.size(); ++i) t.v[i] += iv.fine_f.v[i];
    double total = 0;
    for (auto& iv : ivs) {
      const double e = functional_distance_scaled(iv.fine_f, iv.coarse_f, t, floor);
      iv.err = e;
      total += e;
    }
    res.error = total;
    if (total <= tol) break;
    if (ivs.size() >= max_intervals) {
      res.converged = false;
      break;
    }
    const double share = tol / static_cast<double>(ivs.size());
    std::vector<Iv> next;
    bool split = false;
    for (auto& iv : ivs) {
      if (iv.err > share && iv.b - iv.a > 1e-12 * (1.0 + std::fabs(iv.a))) {
        split = true;
        const double mid = 0.5 * (iv.a + iv.b);
        const std::size_t h = iv.fine.size() / 2;
        for (int side = 0; side < 2; ++side) {
          Iv c;
          c.a = side == 0 ? iv.a : mid;
          c.b = side == 0 ? mid : iv.b;
          // The parent's half rule is the child's single rule (same nodes) — reuse it. Nodes with
          // zero weight were dropped, so recompute when the halves are unbalanced.
          if (iv.fine.size() == static_cast<std::size_t>(2 * n)) {
            std::vector<ChannelNode> half(side == 0 ? iv.fine.begin() : iv.fine.begin() + h,
                                          side == 0 ? iv.fine.begin() + h : iv.fine.end());
            c.coarse_f = functionals(half, k);
          } else {
            c.coarse_f = functionals(rule(c.a, c.b), k);
          }
          fine_of(c);
          next.push_back(std::move(c));
        }
      } else {
        next.push_back(std::move(iv));
      }
    }
    ivs = std::move(next);
    if (!split) {
      res.converged = res.error <= tol;
      break;
    }
  }
  for (auto& iv : ivs)
    for (auto& node : iv.fine) res.nodes.push_back(std::move(node));
  return res;
}

ChannelLaw apply_gaussian_noise(const model::Link& link, double variance, const ChannelOptions& options) {
  ChannelLaw law = link.k() == 1 ? build_noisy_k1(link, variance, options) : build_noisy_rays(link, variance, options);
  law.diagnostics.method += "+gaussian-noise";
  return law;
}

}  // namespace deltacrit::alg::detail
