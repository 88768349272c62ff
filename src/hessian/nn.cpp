#include "deltacrit/hessian/nn.hpp"

#include <Eigen/Dense>
#include <boost/math/tools/roots.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace deltacrit::hessian {

namespace {
void fail(const std::string& field, const std::string& message) { throw InputError(field, field + ": " + message); }

std::string fmt(double v) {
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

// (R1) and (R2) see a node only through its weight w, its D and w·z_h z_hᵀ (the kernel of the
// Stieltjes solver accumulates w z_a z_b only). Nodes with equal D (to 1e-12 of the largest |D|)
// are therefore merged: weight W = Σ w and second moment Z = Σ w z_h z_hᵀ / W = Σ_a λ_a v_a v_aᵀ
// (eigen-decomposition), written back as k_h nodes of weight W/k_h and z_h = √(k_h λ_a) v_a, which
// leaves every expectation of (R1)/(R2) unchanged. Quadrature laws of even links have their nodes
// in ± pairs with equal D; for k = 2 the label often takes few values (sign(z1 z2): two), so the
// 6400 teacher nodes of the k = 2 rule × the u-rule collapse to a few per u-node.
// The groups are found with an open-addressing hash table over the quantised D (flat arrays: the
// map of std::vector keys it replaces allocated one key per group and was 8.6 % of a `perf record`
// of the k = 2 fixed-point `--find`, ≈ 700k law nodes per δ); groups are numbered in order of first
// occurrence and summed in node order, as before, so the merged law is bit-identical.
std::uint64_t hash_key(const long long* key, std::size_t len) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t e = 0; e < len; ++e) h = (h ^ static_cast<std::uint64_t>(key[e])) * 1099511628211ULL;
  return h ^ (h >> 29);
}

spectral::WeightLaw merge_equal_D(const spectral::WeightLaw& law) {
  const int m = law.m, kh = law.k_h;
  const std::size_t n = law.size(), mm = static_cast<std::size_t>(m) * m;
  double scale = 0.0;
  for (double v : law.D) scale = std::max(scale, std::fabs(v));
  const double quantum = 1e-12 * std::max(scale, 1e-300);
  std::size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  std::vector<std::size_t> table(capacity, std::numeric_limits<std::size_t>::max());
  std::vector<long long> keys;  // group g's quantised D at keys[g·mm, (g+1)·mm)
  std::vector<double> W, Dm, Z;
  // Reserved for one group per node (untouched capacity costs no memory traffic): growing them
  // copied each array ~twice per δ.
  keys.reserve(n * mm);
  W.reserve(n);
  Dm.reserve(n * mm);
  Z.reserve(n * static_cast<std::size_t>(kh) * kh);
  std::vector<long long> key(mm), previous(mm);
  // Element-wise comparison of mm keys (std::equal and vector == call memcmp: 10 % of weight_law
  // for m = 1).
  auto same_key = [mm](const long long* a, const long long* b) {
    for (std::size_t e = 0; e < mm; ++e) {
      if (a[e] != b[e]) return false;
    }
    return true;
  };
  // The table's slot for the node kAhead positions on is prefetched: the load of table[slot] was
  // 60 % of merge_equal_D (a cache miss per probe: 2²¹ slots for the ≈ 950k law nodes of the k = 2
  // fixed-point law), and the probes do not depend on one another's outcome.
  constexpr std::size_t kAhead = 16;
  std::vector<long long> ahead(mm);
  // Node i's key: its D quantised.
  auto quantise = [&](std::size_t i, long long* out) {
    for (std::size_t e = 0; e < mm; ++e) out[e] = std::llround(law.D[i * mm + e] / quantum);
  };
  std::size_t g = 0;
  for (std::size_t i = 0; i < n; ++i) {
#if defined(__GNUC__)
    if (i + kAhead < n) {
      quantise(i + kAhead, ahead.data());
      __builtin_prefetch(&table[hash_key(ahead.data(), mm) & (capacity - 1)]);
    }
#endif
    quantise(i, key.data());
    // Consecutive nodes with equal keys (the members of a teacher group of the fixed-point law:
    // ± pairs of an even link) join the same group without probing the table again.
    if (i == 0 || !same_key(key.data(), previous.data())) {
      std::size_t slot = hash_key(key.data(), mm) & (capacity - 1);
      g = table[slot];
      while (g != std::numeric_limits<std::size_t>::max() && !same_key(key.data(), keys.data() + g * mm)) {
        slot = (slot + 1) & (capacity - 1);
        g = table[slot];
      }
      if (g == std::numeric_limits<std::size_t>::max()) {
        g = W.size();
        table[slot] = g;
        keys.insert(keys.end(), key.begin(), key.end());
        W.push_back(0.0);
        Z.insert(Z.end(), static_cast<std::size_t>(kh) * kh, 0.0);
        Dm.insert(Dm.end(), law.D.begin() + i * mm, law.D.begin() + (i + 1) * mm);
      }
      std::swap(key, previous);  // key is recomputed before its next use
    }
    const double w = law.weight[i];
    W[g] += w;
    for (int a = 0; a < kh; ++a)
      for (int b = 0; b < kh; ++b) Z[g * kh * kh + a * kh + b] += w * law.z_h[i * kh + a] * law.z_h[i * kh + b];
  }
  if (W.size() * kh >= n) return law;
  spectral::WeightLaw out;
  out.m = m;
  out.k_h = kh;
  out.weight.reserve(W.size() * kh);
  out.D.reserve(W.size() * kh * mm);
  out.z_h.reserve(W.size() * kh * kh);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(kh);
  for (std::size_t g = 0; g < W.size(); ++g) {
    if (!(W[g] > 0)) continue;
    Eigen::MatrixXd Zg(kh, kh);
    for (int a = 0; a < kh; ++a)
      for (int b = 0; b < kh; ++b) Zg(a, b) = Z[g * kh * kh + a * kh + b] / W[g];
    if (kh == 1) {
      out.weight.push_back(W[g]);
      out.D.insert(out.D.end(), Dm.begin() + g * mm, Dm.begin() + (g + 1) * mm);
      out.z_h.push_back(std::sqrt(std::max(0.0, Zg(0, 0))));
      continue;
    }
    eig.compute(Zg);
    for (int a = 0; a < kh; ++a) {
      out.weight.push_back(W[g] / kh);
      out.D.insert(out.D.end(), Dm.begin() + g * mm, Dm.begin() + (g + 1) * mm);
      const double amp = std::sqrt(std::max(0.0, kh * eig.eigenvalues()(a)));
      for (int b = 0; b < kh; ++b) out.z_h.push_back(amp * eig.eigenvectors()(b, a));
    }
  }
  double total = 0.0;
  for (double w : out.weight) total += w;
  for (double& w : out.weight) w /= total;
  return out;
}

// LawDiagnostics::unbounded_below: the minimum of λ_min(D) over the nodes within a quarter, half
// and all of the latent range. A bounded D reaches its infimum (or converges to it geometrically)
// inside the range; polynomial or logarithmic growth of |D| along z keeps the decrements from
// shrinking (cf. the tail test of T(y) in spectral_method.cpp, which doubles z the same way).
// node_radius[i] is the least latent radius at which node i's D occurs, rmax the largest radius of
// the law (they differ from max_a |z_a| for nodes merged by label: Law::radius_range).
constexpr double kTailGrowth = 0.1;
void tail_test(const std::vector<double>& node_min, const std::vector<double>& node_radius, double rmax,
               const std::vector<double>& weight, LawDiagnostics& diag) {
  diag.tail_radius = rmax;
  diag.tail_d_min = {kInf, kInf, kInf};
  // The radii rmax/4, rmax/2, rmax (computed once: ldexp per node was 10 % of weight_law).
  double radius[3];
  for (int r = 0; r < 3; ++r) radius[r] = rmax * std::ldexp(1.0, r - 2) * (1 + 1e-12);
  for (std::size_t i = 0; i < weight.size(); ++i) {
    if (!(weight[i] > 0)) continue;
    for (int r = 0; r < 3; ++r)
      if (node_radius[i] <= radius[r]) diag.tail_d_min[r] = std::min(diag.tail_d_min[r], node_min[i]);
  }
  const auto& t = diag.tail_d_min;
  if (!std::isfinite(t[0])) return;  // no node in the inner quarter (degenerate law): no verdict
  const double d_last = t[1] - t[2], d_prev = t[0] - t[1];
  const double tol = 1e-6 * std::max({1.0, std::fabs(t[0]), std::fabs(t[2])});
  // Both decrements must be positive: a bounded D whose minimum is reached only in the outer
  // half (d_prev = 0, e.g. tanh(z1) + min(z2², 4) on the k = 2 fixed-point law, where one outer
  // node sits on another prox branch) is not growing without limit. And the minimum must fall by
  // at least kTailGrowth of its size over the outer half: the minima of a bounded D also creep
  // down by a few per cent as the band takes in more nodes where a fixed-point law's local prox
  // sits near the fold of its branch (tanh m = 2, z1 + z2², δ = 0.34: −0.0792, −0.0801, −0.0824,
  // at nodes of weight 1e-10 to 3e-13 with u on the saturated branch opposite to y), while growth
  // that slow would move the edge of a sample of any practical size by less than that.
  const double growth_floor = kTailGrowth * std::max(std::fabs(t[0]), std::fabs(t[2]));
  if (d_prev > tol && d_last > tol && d_last > 0.8 * d_prev && d_last >= growth_floor) {
    diag.unbounded_below = true;
    diag.unbounded_reason = "D is unbounded below on the phase-1 law: min eig D over |z| <= " + fmt(rmax / 4) + ", " +
                            fmt(rmax / 2) + ", " + fmt(rmax) + " is " + fmt(t[0]) + ", " + fmt(t[1]) + ", " + fmt(t[2]) +
                            " and keeps falling (the label enters D through l' with a non-zero coefficient and grows "
                            "without limit along z); the limiting Hessian bulk then has no lower edge, so no outlier "
                            "separates at any delta (the finite edge of the quadrature is an artefact of its "
                            "truncation): no transition. Bound the link (e.g. min(g, c)) to analyse it";
  }
}

struct EvalFailure {
  std::string message;
  Status status;
};
}  // namespace

spectral::WeightLaw weight_law(const phase1::Law& law, const phase1::Network& net, const std::vector<int>& hard,
                               double interpolation_tol, LawDiagnostics* diagnostics) {
  law.validate("law");
  const int m = law.m, k = law.k;
  if (net.width() != m) {
    fail("--width", "the network has width " + std::to_string(net.width()) + " but the phase-1 law has m = " + std::to_string(m));
  }
  for (int h : hard) {
    if (h < 0 || h >= k) fail("--hard", "latent index " + std::to_string(h + 1) + " is out of range 1.." + std::to_string(k));
  }
  const int kh = static_cast<int>(hard.size());
  const std::size_t n = law.size();
  spectral::WeightLaw out;
  out.m = m;
  out.k_h = kh;
  out.weight = law.w;
  out.D.resize(n * m * m);
  out.z_h.resize(n * kh);
  LawDiagnostics diag;
  diag.d_min = kInf;
  diag.d_max = -kInf;
  Eigen::MatrixXd EzF = Eigen::MatrixXd::Zero(kh, m), Ezz = Eigen::MatrixXd::Zero(kh, kh);
  double se2 = 0.0;
  double l1sq = 0.0, ysq = 0.0;
  double F[phase1::kMaxWidth];
  Eigen::MatrixXd D(m, m);
  Eigen::MatrixXd ED = Eigen::MatrixXd::Zero(m, m);
  double ED2 = 0.0;
  std::vector<double> node_min(n), node_radius(n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m);
  double l1 = 0.0, lo = 0.0, hi = 0.0, rmax = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* u = &law.u[i * m];
    double* Di = &out.D[i * m * m];
    // Consecutive nodes with the same (y, u) — the members of a label group of the fixed-point law
    // (± pairs of an even link) — share F, D, ℓ' and the eigenvalues of D.
    const bool same = i > 0 && law.y[i] == law.y[i - 1] && std::equal(u, u + m, u - m);
    if (same) {
      std::copy(Di - m * m, Di, Di);
    } else {
      l1 = net.loss().d1(law.y[i], net.derivatives(law.y[i], u, F, Di));
    }
    const double w = law.w[i];
    l1sq += w * l1 * l1;
    ysq += w * law.y[i] * law.y[i];
    for (int a = 0; a < kh; ++a) {
      const double za = law.z[i * k + hard[a]];
      out.z_h[i * kh + a] = za;
      for (int j = 0; j < m; ++j) {
        EzF(a, j) += w * za * F[j];
        se2 += w * w * za * za * F[j] * F[j];
      }
      for (int b = 0; b < kh; ++b) Ezz(a, b) += w * za * law.z[i * k + hard[b]];
    }
    if (!same) {
      if (m == 1) {
        lo = hi = Di[0];
      } else if (m == 2) {
        // Closed form (Eigen's solver for a dynamic 2×2 was 8 % of a softplus m = 2 `nn --find`).
        const double mid = 0.5 * (Di[0] + Di[3]), rad = std::hypot(0.5 * (Di[0] - Di[3]), Di[1]);
        lo = mid - rad;
        hi = mid + rad;
      } else {
        for (int j = 0; j < m; ++j)
          for (int l = 0; l < m; ++l) D(j, l) = Di[j * m + l];
        eig.compute(D, Eigen::EigenvaluesOnly);
        lo = eig.eigenvalues()(0);
        hi = eig.eigenvalues()(m - 1);
      }
    }
    node_min[i] = lo;
    if (law.radius_range.empty()) {
      node_radius[i] = 0.0;
      for (int a = 0; a < k; ++a) node_radius[i] = std::max(node_radius[i], std::fabs(law.z[i * k + a]));
      if (w > 0) rmax = std::max(rmax, node_radius[i]);
    } else {
      node_radius[i] = law.radius_range[2 * i];
      if (w > 0) rmax = std::max(rmax, law.radius_range[2 * i + 1]);
    }
    // E[D] and E‖D‖²_F on the raw entries (Eigen's dynamic-size expressions per node were a fifth
    // of weight_law for m = 1). Di is row-major and ED column-major: D = ℓ''JJᵀ + ℓ' diag(a ⊙ σ'')
    // is exactly symmetric (Network::derivatives forms J_j J_l and J_l J_j alike), so they agree.
    double squared = 0.0;
    for (int e = 0; e < m * m; ++e) {
      ED.data()[e] += w * Di[e];
      squared += Di[e] * Di[e];
    }
    ED2 += w * squared;
    if (w > 0) {
      diag.d_min = std::min(diag.d_min, lo);
      diag.d_max = std::max(diag.d_max, hi);
    }
    if (lo < 0) diag.negative_mass += w;
  }
  diag.rms_loss_d1 = std::sqrt(l1sq);
  diag.rms_label = std::sqrt(ysq);
  diag.interpolating = diag.rms_loss_d1 <= interpolation_tol * std::max(1.0, diag.rms_label);
  diag.hard_gradient = EzF.norm();
  diag.hard_gradient_se = std::sqrt(se2);
  diag.hard_second_moment = kh ? (Ezz - Eigen::MatrixXd::Identity(kh, kh)).cwiseAbs().maxCoeff() : 0.0;
  diag.d_spread = std::sqrt(std::max(0.0, ED2 - ED.squaredNorm())) / std::max(ED.norm(), 1e-300);
  tail_test(node_min, node_radius, rmax, law.w, diag);
  if (kh >= 1) out = merge_equal_D(out);
  out.validate();
  if (diagnostics) *diagnostics = diag;
  return out;
}

void NNOptions::validate() const {
  if (!(ridge >= 0) || !std::isfinite(ridge)) fail("--ridge", "must be finite and >= 0");
  if (hard.empty() || hard.size() > 3) fail("--hard", "give 1 to 3 hard latent indices (1-based), e.g. --hard 1");
  if (!(interpolation_tol > 0 && interpolation_tol < 1)) fail("interpolation_tol", "must be in (0, 1)");
  if (!(hard_gradient_tol > 0)) fail("hard_gradient_tol", "must be > 0");
  stieltjes.validate();
  if (!(delta_min > 0) || !std::isfinite(delta_min)) fail("--delta-min", "must be finite and > 0");
  if (!(delta_max > delta_min) || !std::isfinite(delta_max)) fail("--delta-max", "must be finite and > --delta-min");
  if (scan_per_decade < 1 || scan_per_decade > 100) fail("--scan-per-decade", "must be in 1..100");
  if (!(delta_rel_tol > 0 && delta_rel_tol < 0.1)) fail("delta_rel_tol", "must be in (0, 0.1)");
  if (!(threshold_check >= 0 && threshold_check <= 0.5)) fail("--threshold-check", "must be in [0, 0.5] (0 = off)");
  if (threshold_check_points < 1 || threshold_check_points > 20) fail("--threshold-check-points", "must be in 1..20");
}

CrossingResolution crossing_resolution(std::vector<CrossingSample> samples, double root) {
  if (!(root > 0) || !std::isfinite(root)) fail("root", "must be finite and > 0");
  for (const auto& s : samples) {
    if (!(s.delta > 0) || !std::isfinite(s.delta)) fail("samples", "every delta must be finite and > 0");
  }
  std::stable_sort(samples.begin(), samples.end(),
                   [](const CrossingSample& a, const CrossingSample& b) { return a.delta < b.delta; });
  CrossingResolution r;
  r.samples = static_cast<int>(samples.size());
  double lo = root, hi = root;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (i > 0 && s.holds != samples[i - 1].holds) ++r.sign_changes;
    const bool disagrees = (s.delta < root && s.holds) || (s.delta > root && !s.holds);
    if (!disagrees) continue;
    ++r.disagreeing;
    lo = std::min(lo, s.delta);
    hi = std::max(hi, s.delta);
  }
  r.monotone = r.disagreeing == 0;
  r.span = {lo, hi};
  r.resolution = std::max(root - lo, hi - root) / root;
  return r;
}

EventJitter event_jitter(const std::vector<EventSampleValue>& samples, double root, double half_width) {
  if (!(root > 0) || !std::isfinite(root)) fail("root", "must be finite and > 0");
  if (!(half_width > 0 && half_width < 1)) fail("half_width", "must be in (0, 1)");
  std::vector<double> xs, vs;
  for (const auto& s : samples) {
    if (!(s.delta > 0) || !std::isfinite(s.delta) || !std::isfinite(s.value)) {
      fail("samples", "every delta must be finite and > 0 and every value finite");
    }
    const double x = s.delta / root - 1.0;
    if (std::fabs(x) > half_width * (1 + 1e-12)) continue;
    xs.push_back(x / half_width);
    vs.push_back(s.value);
  }
  EventJitter out;
  out.samples = static_cast<int>(xs.size());
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  // Distinct abscissae (closer than 1e-3 of the half-width count once), and how many of them lie
  // in the outer four fifths of the window on each side.
  int distinct = 0, left = 0, right = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i] - sorted[i - 1] <= 1e-3) continue;
    ++distinct;
    if (sorted[i] <= -kJitterSpread) ++left;
    if (sorted[i] >= kJitterSpread) ++right;
  }
  if (out.samples < 6 || distinct < 4 || left < 2 || right < 2) return out;
  // Least squares in the scaled abscissa t = x/half_width ∈ [−1, 1] (well conditioned).
  const Eigen::Index n = out.samples;
  Eigen::MatrixXd A(n, 3);
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    A(i, 0) = 1.0;
    A(i, 1) = xs[i];
    A(i, 2) = xs[i] * xs[i];
    v(i) = vs[i];
  }
  const Eigen::Vector3d coef = A.colPivHouseholderQr().solve(v);
  const double rss = (A * coef - v).squaredNorm();
  out.rms = std::sqrt(rss / static_cast<double>(n - 3));
  out.slope = coef(1) / half_width;
  out.jitter = out.slope != 0.0 ? out.rms / std::fabs(out.slope) : kInf;
  return out;
}

Analyzer::Analyzer(phase1::Network net, NNOptions options, LawProvider provider)
    : net_(std::move(net)), options_(std::move(options)), provider_(std::move(provider)) {
  options_.validate();
  if (!provider_) throw InputError("--phase1", "--phase1: no phase-1 law was given");
}

PointResult Analyzer::evaluate(double delta) {
  if (!(delta > 0) || !std::isfinite(delta)) fail("--delta", "values must be finite and > 0");
  PointResult p;
  p.delta = delta;
  const spectral::WeightLaw* wl = nullptr;
  spectral::WeightLaw local;
  double fraction = 1.0;
  bool stationary = false;
  if (cache_valid_) {
    wl = &*cached_law_;
    p.law = cached_diag_;
    fraction = cached_fraction_;
    p.branch = cached_branch_;
  } else {
    LawAt at = provider_(delta);
    p.branch = at.branch;
    stationary = at.stationary;
    p.phase1_law_consistent = at.consistent;
    p.phase1_quadrature_error = at.quadrature_error;
    p.phase1_quadrature_error_relative = at.quadrature_error / std::max(1.0, at.parameter_scale);
    if (at.status != Status::success) {
      p.status = at.status;
      p.message = "phase1: " + at.message;
      return p;
    }
    fraction = at.law.sample_fraction;
    local = weight_law(at.law, net_, options_.hard, options_.interpolation_tol, &p.law);
    if (!at.depends_on_delta) {
      cached_law_ = std::move(local);
      cached_diag_ = p.law;
      cached_fraction_ = fraction;
      cached_branch_ = at.branch;
      cache_valid_ = true;
      wl = &*cached_law_;
    } else {
      wl = &local;
    }
  }
  p.delta_effective = delta * fraction;
  if (p.law.unbounded_below) {
    p.no_transition = true;
    p.bulk_edge = -kInf;
    p.bulk_edge_bracket = {-kInf, -kInf};
    p.k_min_at_edge = kInf;
    p.k_min_at_zero = kInf;
    p.status = Status::success;
    p.message = "no transition: " + p.law.unbounded_reason;
    return p;
  }
  spectral::StieltjesSolver solver(*wl, p.delta_effective, options_.ridge, options_.stieltjes);
  // Only for a δ-independent law (init, empirical): for the fixed-point law the edge's S moves
  // with the law and the hint's Newton landed far below the fold (ρ ≈ 0.05–0.45 for tanh(z1) +
  // min(z2², 4), δ < 15); measured on bench_nn's fixed-point cases it saved 1–4 % (tanh m = 1,
  // k = 2: 6.12 → 5.90 s, 33 → 31 evaluations), too little for a δ-history-dependent result.
  const bool warm = options_.edge_warm_start && cache_valid_ && edge_hint_ &&
                    std::abs(std::log(p.delta_effective / edge_hint_delta_)) <= 0.5;
  const spectral::OutlierResult out = solver.outliers(warm ? &*edge_hint_ : nullptr);
  if (out.edge.status == Status::success && out.edge.kind == spectral::EdgeKind::fold) {
    edge_hint_ = out.edge;
    edge_hint_delta_ = p.delta_effective;
  }
  p.bulk_edge = out.edge.location;
  p.bulk_edge_bracket = out.edge.bracket;
  if (out.edge.status != Status::success) {
    p.status = out.edge.status;
    p.message = "bulk edge: the lower edge of the Hessian bulk (R1) was not found (status " +
                std::string(to_string(out.edge.status)) + ")";
    return p;
  }
  if (out.status != Status::success) {
    p.status = out.status;
    p.message = "outlier: the outlier equation (R2) was not solved (status " + std::string(to_string(out.status)) + ")";
    return p;
  }
  p.k_min_at_edge = out.k_min_at_edge;
  p.outlier = out.exists;
  p.outliers = static_cast<int>(out.roots.size());
  if (out.exists) {
    p.lambda_out = out.location;
    p.overlap = out.overlap;
    p.escape_time_per_log_d = out.location < 0 ? 1.0 / (2.0 * std::fabs(out.location)) : kInf;
    const double rate = std::min(p.bulk_edge, 0.0) - out.location;
    p.escape_time_relative_per_log_d = out.location < 0 && rate > 0 ? 1.0 / (2.0 * rate) : kInf;
  }
  if (p.bulk_edge > 0) {
    const spectral::KDiagnostics k0 = solver.K_matrix(0.0);
    if (k0.status != Status::success) {
      p.status = k0.status;
      p.message = "outlier: K(0) of (R2) could not be evaluated (status " + std::string(to_string(k0.status)) + ")";
      return p;
    }
    p.k_min_at_zero = k0.min_eigenvalue;
  } else {
    p.k_min_at_zero = p.k_min_at_edge;
  }
  p.status = Status::success;
  if (stationary && p.bulk_edge <= 0) {
    p.phase1_unstable = true;
    p.message = "phase1: the fixed point is unstable (Hessian bulk edge " + fmt(p.bulk_edge) +
                " <= 0): it is not a local minimum of the risk, so its law is not the one gradient descent reaches";
  }
  if (!p.phase1_law_consistent) {
    if (!p.message.empty()) p.message += "; ";
    p.message += "warning: the phase-1 fixed point was not continued to convergence on the law's own rule, so the "
                 "law satisfies the stationary-point equations only to the residual given in the point's phase1_branch";
  }
  if (p.phase1_quadrature_error_relative >= kResolutionWarning) {
    // A law this coarse can change the verdicts: tanh m = 3 on z² (ridge 0.1) at δ = 1.0772 has
    // q = 0.82 with Γ ≈ 7.3 (9.9 % of 1 + max|(M, Q, Γ)|), and a cold solve and the scan's
    // continuation there gave bulk edges −0.43 (unstable) and +0.001 (docs/nn.md, Phase-1 laws).
    std::ostringstream w;
    w.precision(3);
    w << "warning: the phase-1 law is resolution-limited: the quadrature error of its rule is " << p.phase1_quadrature_error
      << " in (M, Q, Gamma), " << 100.0 * p.phase1_quadrature_error_relative
      << " % of their scale, so the bulk edge, the outlier and the stability verdict at this delta carry an error of "
         "that order (--check-quadrature measures it; --u-points refines the rule)";
    if (!p.message.empty()) p.message += "; ";
    p.message += w.str();
  }
  if (p.law.hard_gradient > std::max(options_.hard_gradient_tol * std::max(1.0, p.law.rms_loss_d1),
                                     4.0 * p.law.hard_gradient_se)) {
    if (!p.message.empty()) p.message += "; ";
    p.message += "warning: the risk has a gradient along the hard directions at the phase-1 point (|E[z_h F]| = " +
                fmt(p.law.hard_gradient) + "): the hard block is not hard for this law";
  }
  return p;
}

PointResult Analyzer::point(double delta) { return evaluate(delta); }

Thresholds Analyzer::thresholds() {
  Thresholds th;
  // The outlier solve can fail at isolated δ where the outlier sits within round-off of the bulk
  // edge or K is nearly degenerate (m ≥ 4 almost identical neuron blocks); the event functions are
  // continuous in δ, so a failed point is retried at δ(1 ± 1e-6·4^j) (j = 0..3) before it counts
  // as failed. The retried point's value stands for δ (a relative shift ≤ 6.4e-5).
  // Results by δ: where δ_BBP = δ_NN (the outlier appears below zero) the two root searches start
  // from the same bracket and evaluate the same δ's (4 of the 18 evaluations of min(z², 4), log
  // cosh, m = 2, random:1); a repeated δ takes its first result.
  std::map<double, PointResult> done;
  auto evaluate_retry = [this, &done](double delta) {
    if (const auto it = done.find(delta); it != done.end()) return it->second;
    PointResult p = evaluate(delta);
    for (int j = 0; j < 4 && p.status != Status::success && p.message.rfind("phase1", 0) != 0; ++j) {
      PointResult q = evaluate(delta * (1.0 + (j % 2 ? -1.0 : 1.0) * 1e-6 * std::ldexp(1.0, 2 * j)));
      if (q.status == Status::success) {
        q.delta = delta;
        p = q;
      }
    }
    done.emplace(delta, p);
    return p;
  };
  // Every successful evaluation is recorded for the resolution of the thresholds.
  auto evaluate_recorded = [&](double delta) {
    PointResult p = evaluate_retry(delta);
    if (p.status == Status::success) {
      th.samples.push_back({delta, p.k_min_at_edge, p.k_min_at_zero, p.phase1_quadrature_error});
    }
    return p;
  };
  std::vector<double> grid;
  const double step = std::pow(10.0, 1.0 / options_.scan_per_decade);
  for (double d = options_.delta_min; d < options_.delta_max * (1 + 1e-12); d *= step) grid.push_back(d);
  if (grid.back() < options_.delta_max * (1 - 1e-9)) grid.push_back(options_.delta_max);

  // Event functions: φ(δ) = λ_min K(ζ₋) (outlier exists iff < 0), ψ(δ) = λ_min K(min(0, ζ₋)).
  auto phi = [](const PointResult& p) { return p.k_min_at_edge; };
  auto psi = [](const PointResult& p) { return p.k_min_at_zero; };
  int first_bbp = -1, first_nn = -1, first_nn_end = -1;
  bool any_interp = false, all_interp = true;
  bool any_bounded = false, any_unbounded = false;
  std::string unbounded_reason;
  Status scan_status = Status::success;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    PointResult p = evaluate_recorded(grid[i]);
    th.scan.push_back(p);
    if (p.status != Status::success) {
      scan_status = worst(scan_status, Status::not_converged);
      if (th.message.empty()) th.message = "delta = " + fmt(grid[i]) + ": " + p.message;
      continue;
    }
    any_interp = any_interp || p.law.interpolating;
    all_interp = all_interp && p.law.interpolating;
    if (p.no_transition) {
      any_unbounded = true;
      if (unbounded_reason.empty()) unbounded_reason = p.law.unbounded_reason;
      // A δ-independent law is unbounded at every δ: the rest of the scan would repeat this point.
      if (cache_valid_) break;
    } else {
      any_bounded = true;
    }
    if (first_bbp < 0 && phi(p) < 0) first_bbp = static_cast<int>(i);
    if (first_bbp >= 0 && first_nn < 0 && phi(p) >= 0) th.bbp.reentrant = true;
    if (first_nn < 0 && psi(p) < 0) {
      first_nn = static_cast<int>(i);
      if (!options_.scan_to_max) break;
    } else if (first_nn >= 0 && first_nn_end < 0 && psi(p) >= 0) {
      first_nn_end = static_cast<int>(i);
    }
  }
  th.interpolating = any_interp && all_interp;
  th.no_transition = any_unbounded && !any_bounded;
  if (th.no_transition) th.no_transition_reason = unbounded_reason;

  auto refine = [&](Threshold& t, int first, const std::function<double(const PointResult&)>& event) {
    t.evaluations = static_cast<int>(th.scan.size());
    if (first < 0) {
      t.value = kInf;
      t.status = scan_status;
      t.message = "not reached for delta in [" + fmt(options_.delta_min) + ", " + fmt(options_.delta_max) + "]";
      return;
    }
    if (first == 0) {
      t.value = grid[0];
      t.bracket = {0.0, grid[0]};
      t.below_range = true;
      t.status = Status::success;
      t.message = "already holds at delta_min = " + fmt(grid[0]);
      return;
    }
    const PointResult& lo = th.scan[first - 1];
    const PointResult& hi = th.scan[first];
    if (lo.status != Status::success) {
      t.value = grid[first];
      t.bracket = {grid[first - 1], grid[first]};
      t.status = Status::not_converged;
      t.message = "the scan point below the crossing failed; bracket from the scan only";
      return;
    }
    auto f = [&](double log_delta) {
      ++t.evaluations;
      const PointResult p = evaluate_recorded(std::exp(log_delta));
      if (p.status != Status::success) throw EvalFailure{p.message, p.status};
      return event(p);
    };
    try {
      boost::uintmax_t max_iter = 100;
      const double tol = options_.delta_rel_tol;
      auto r = boost::math::tools::toms748_solve(
          f, std::log(grid[first - 1]), std::log(grid[first]), event(lo), event(hi),
          [tol](double a, double b) { return std::fabs(b - a) <= tol; }, max_iter);
      t.bracket = {std::exp(r.first), std::exp(r.second)};
      t.value = 0.5 * (t.bracket[0] + t.bracket[1]);
      t.status = max_iter >= 100 ? Status::not_converged : Status::success;
    } catch (const EvalFailure& e) {
      t.value = grid[first];
      t.bracket = {grid[first - 1], grid[first]};
      t.status = worst(Status::not_converged, e.status);
      t.message = "root refinement failed: " + e.message + "; bracket from the scan only";
    }
  };
  // Opt-in threshold check: the event at value·(1 ± R·j/N), j = 1..N. The points only join the
  // samples; the resolution is computed once every threshold has been refined and checked, so each
  // threshold also sees the points evaluated for the others.
  const double R = options_.threshold_check;
  auto resolvable = [](const Threshold& t) { return std::isfinite(t.value) && !t.below_range && t.value > 0; };
  auto check = [&](Threshold& t) {
    if (!(R > 0) || !resolvable(t)) return;
    const int N = options_.threshold_check_points;
    int failed = 0;
    for (int j = 1; j <= N; ++j) {
      for (double sign : {-1.0, 1.0}) {
        ++t.evaluations;
        if (evaluate_recorded(t.value * (1.0 + sign * R * j / N)).status == Status::success) {
          ++t.check_points;
        } else {
          ++failed;
        }
      }
    }
    if (failed > 0) {
      t.message += std::string(t.message.empty() ? "" : "; ") + "threshold check: " + std::to_string(failed) + " of " +
                   std::to_string(2 * N) + " points failed and were left out";
    }
  };
  // Holding side: BBP and NN events hold above their crossing (φ < 0, ψ < 0); the end of the
  // negative outlier is the crossing above which ψ ≥ 0 holds.
  auto resolve = [&](Threshold& t, int first, bool nn_event, bool holds_if_negative) {
    if (!resolvable(t) || first < 1) return;
    const double lo = std::min(grid[first - 1], t.value * (1.0 - R));
    const double hi = std::max(grid[first], t.value * (1.0 + R));
    std::vector<CrossingSample> in_window;
    std::vector<EventSampleValue> values;
    double law_q = 0.0;  // the largest quadrature error of the phase-1 laws in the window
    for (const auto& s : th.samples) {
      if (s.delta < lo * (1 - 1e-12) || s.delta > hi * (1 + 1e-12)) continue;
      law_q = std::max(law_q, s.law_quadrature_error);
      const double v = nn_event ? s.k_min_at_zero : s.k_min_at_edge;
      in_window.push_back({s.delta, holds_if_negative ? v < 0 : v >= 0});
      if (std::isfinite(v)) values.push_back({s.delta, v});
    }
    const EventJitter jit = event_jitter(values, t.value, kJitterHalfWidth);
    t.jitter = jit.jitter;
    t.jitter_samples = jit.samples;
    if (std::isnan(jit.jitter) && !cache_valid_ && !(R > 0)) {
      // A δ-dependent law (the fixed point) carries quadrature noise into the event, which the
      // bracket does not show (softplus m = 2: ±1.4 % at δ_BBP, docs/nn.md).
      t.message += std::string(t.message.empty() ? "" : "; ") +
                   "the event's scatter near the crossing (jitter) was not estimated, as the root search's "
                   "points do not spread around it; --threshold-check 0.05 measures it";
    }
    if (law_q > 0) {
      // The bracket and the jitter measure the event on the laws as solved; a law that is a fixed
      // point of its rule only to that rule's quadrature error moves the event by an amount
      // neither shows (softplus m = 2, fixed:0.5,0.5, min(z², 4), ridge 0.2: δ_BBP 1.60979 with a
      // zero-width bracket, 0.040 by --check-quadrature; docs/nn.md, Numerics, session 14).
      std::ostringstream w;
      w.precision(3);
      w << "the phase-1 law near the crossing is resolution-limited (its rule has no fixed point to the tolerance; "
           "quadrature error up to "
        << law_q << " in (M, Q, Gamma)), which the bracket does not include; --check-quadrature estimates the "
                    "resulting error in delta";
      t.message += std::string(t.message.empty() ? "" : "; ") + w.str();
    }
    if (jit.jitter > kJitterWarning) {
      std::ostringstream w;
      w.precision(3);
      w << "warning: the event scatters about a smooth curve near the crossing by +-" << jit.jitter
        << " (relative, in delta; " << jit.samples << " points within +-" << kJitterHalfWidth
        << "): delta is determined only to about that, not to the bracket width";
      t.message += std::string(t.message.empty() ? "" : "; ") + w.str();
    }
    const CrossingResolution r = crossing_resolution(std::move(in_window), t.value);
    t.resolution = r.resolution;
    t.resolution_span = r.span;
    t.monotone = r.monotone;
    t.resolution_samples = r.samples;
    if (!r.monotone) {
      std::ostringstream w;
      w.precision(4);
      w << "warning: the event is not monotone in delta near the crossing: " << r.disagreeing << " of " << r.samples
        << " evaluated points (" << r.sign_changes << " sign changes) disagree with a single crossing at " << t.value
        << ", over delta in [" << r.span[0] << ", " << r.span[1] << "]; resolution +-" << r.resolution
        << " (relative), not the bracket width";
      if (!(R > 0)) w << " (a lower bound; --threshold-check R evaluates more points)";
      t.message += std::string(t.message.empty() ? "" : "; ") + w.str();
    }
  };
  refine(th.bbp, first_bbp, phi);
  check(th.bbp);
  refine(th.nn, first_nn, psi);
  check(th.nn);
  if (options_.scan_to_max && first_nn >= 0) {
    refine(th.nn_end, first_nn_end, psi);
    check(th.nn_end);
    if (first_nn_end < 0) th.nn_end.message = "the outlier stays negative up to delta_max = " + fmt(options_.delta_max);
  }
  resolve(th.bbp, first_bbp, false, true);
  resolve(th.nn, first_nn, true, true);
  if (options_.scan_to_max && first_nn >= 0) resolve(th.nn_end, first_nn_end, true, false);
  if (th.interpolating) {
    th.nn.message = "square-loss interpolation: l' = 0 on the phase-1 law at every scanned delta, so the Hessian is "
                    "positive semi-definite and has no negative outlier; no threshold is reported";
  }
  if (th.no_transition) {
    th.nn.message = "no transition: " + unbounded_reason;
    th.bbp.message = "no transition (see delta_nn)";
  } else if (any_unbounded) {
    th.message += std::string(th.message.empty() ? "" : "; ") +
                  "D is unbounded below on the phase-1 law at some scanned delta (no outlier counted there): " +
                  unbounded_reason;
  }
  th.status = worst(th.bbp.status, th.nn.status);
  return th;
}

}  // namespace deltacrit::hessian

namespace deltacrit::hessian {

LawProvider constant_law(phase1::Law law, std::string branch) {
  auto shared = std::make_shared<const phase1::Law>(std::move(law));
  return [shared, branch](double) {
    LawAt at;
    at.law = *shared;
    at.branch = branch;
    at.depends_on_delta = false;
    return at;
  };
}

namespace {
std::string describe(const phase1::FixedPointResult& r, int m) {
  std::ostringstream out;
  out.precision(5);
  const auto& b = r.branches[r.chosen];
  out << "fixed point ("
      << (!r.uniqueness_checked ? "continued from a nearby delta"
                                : r.unique ? "unique among starts" : "NOT unique: lowest risk of several taken");
  if (r.merged_starts > 0) out << ", " << r.merged_starts << " start(s) stopped on reaching it";
  if (r.coarse_start_solutions > 0) {
    out << ", starts run first on ";
    if (r.coarse_teacher_nodes > 0) out << "a coarser teacher rule of " << r.coarse_teacher_nodes << " nodes" << (r.coarse_h_rule ? " and " : "");
    if (r.coarse_h_rule) out << phase1::h_rule_text(phase1::coarse_iteration_points(m), m, r.split_rule, r.split_at_jumps);
    out << " (" << r.coarse_start_solutions << " distinct solution(s) there)";
  }
  if (r.continued_from) {
    out << ", " << b.iterations << " iterations on the law's rule from "
        << (r.continued_from == 1 ? "the continuation predictor" : "the nearby solution");
    if (r.iteration_rule_first_applications > 0) {
      out << " (continued first on the iteration rule, " << r.iteration_rule_first_applications << " iterations)";
    }
  } else if (!r.iteration_converged) {
    out << ", no start converged on " << phase1::h_rule_text(r.iteration_points, m, r.split_rule, r.split_at_jumps)
        << "; the best one continued on the law's rule, " << b.iterations << " iterations in all";
  } else {
    out << ", " << b.iterations << " iterations on " << phase1::h_rule_text(r.iteration_points, m, r.split_rule, r.split_at_jumps)
        << (r.escalated ? ", a finer rule after the automatic one failed" : "")
        << (r.law_consistent ? ", then continued on the law's rule" : "");
  }
  out << "): risk " << b.risk << ", train loss " << b.train_loss << ", diag Q = (";
  for (int j = 0; j < m; ++j) out << (j ? ", " : "") << b.Q[j * m + j];
  out << ")";
  if (b.nonconvex_mass > 0) out << ", non-convex prox on " << b.nonconvex_mass << " of the mass";
  if (r.principal_axis_rule) {
    out << "; h integrated along its principal axis (lambda_2/lambda_1 of Q - M^T M = " << r.covariance_ratio << ")";
  }
  if (r.law_resolution_limited) {
    out << "; the law's rule has no fixed point to the tolerance (its discretised map jumps where a node's prox "
           "switches minimum): accepted at residual "
        << r.law_residual << ", below a tenth of the rule's quadrature error " << r.law_quadrature_error;
  } else if (r.law_within_quadrature_error) {
    out << "; WARNING: the continuation on the law's rule stalled at residual " << r.law_residual
        << ", within the rule's quadrature error " << r.law_quadrature_error
        << " but above a tenth of it (the rule's map jumps where a node's prox switches minimum; the cold starts "
           "would end no lower on it): the law satisfies the stationary-point equations only to that residual";
  } else if (!r.law_consistent && r.polish_iterations > 0) {
    out << "; WARNING: the iteration did not converge on the law's rule (residual " << r.law_residual << " after "
        << r.polish_iterations << " iterations";
    if (r.law_quadrature_error > 0) out << ", quadrature error of the rule " << r.law_quadrature_error;
    out << "): the law is evaluated at the polish's point of lowest residual and satisfies the stationary-point "
           "equations only to that residual";
  }
  if (r.nonglobal_mass > 1e-9) out << "; WARNING: on " << r.nonglobal_mass << " of the mass the global prox differs from the local one used in the iteration";
  return out.str();
}
}  // namespace

LawProvider fixed_point_law(phase1::TeacherNodes teacher, phase1::Network net, phase1::FixedPointOptions options) {
  // Continuation in δ: the solutions found so far (on the branch followed from the first δ) give
  // the warm start (the one nearest in log δ) and the predictor (phase1::continuation_predictor,
  // the polynomial in 1/δ) through the two or three nearest distinct δ — an interpolation inside a
  // root bracket, an extrapolation along the scan (used up to twice the spacing of the two nearest;
  // further out the nearest solution alone is the start). The third point joins when it lies
  // within three spacings of the nearest (along a scan it is two spacings away).
  struct State {
    phase1::TeacherNodes teacher;
    phase1::Network net;
    phase1::FixedPointOptions options;
    std::vector<std::pair<double, phase1::FixedPointBranch>> solved;
  };
  auto state = std::make_shared<State>(State{std::move(teacher), std::move(net), std::move(options), {}});
  return [state](double delta) {
    LawAt at;
    at.depends_on_delta = true;
    at.stationary = true;
    auto& solved = state->solved;
    std::sort(solved.begin(), solved.end(), [delta](const auto& a, const auto& b) {
      return std::fabs(std::log(a.first / delta)) < std::fabs(std::log(b.first / delta));
    });
    const phase1::FixedPointBranch* warm = solved.empty() ? nullptr : &solved[0].second;
    std::optional<phase1::FixedPointBranch> predictor;
    // The nearest solutions at distinct δ, at most three.
    std::vector<std::pair<double, const phase1::FixedPointBranch*>> nearest;
    for (const auto& [d, b] : solved) {
      if (nearest.size() == 3) break;
      bool seen = false;
      for (const auto& p : nearest) seen = seen || p.first == d;
      if (!seen) nearest.emplace_back(d, &b);
    }
    if (nearest.size() >= 2 && nearest[0].first != delta) {
      const double spacing = std::fabs(std::log(nearest[1].first / nearest[0].first));
      if (std::fabs(std::log(delta / nearest[0].first)) <= 2.0 * spacing) {
        if (nearest.size() == 3 && std::fabs(std::log(nearest[2].first / nearest[0].first)) > 3.0 * spacing) {
          nearest.pop_back();
        }
        predictor = phase1::continuation_predictor(nearest, delta);
      }
    }
    phase1::FixedPointResult r = phase1::solve_fixed_point(state->teacher, state->net, delta, state->options, warm,
                                                           predictor ? &*predictor : nullptr);
    at.status = r.status;
    at.message = r.message;
    if (r.chosen >= 0) {
      at.branch = describe(r, state->net.width());
      at.law = std::move(r.law);
      at.consistent = r.law_consistent;
      if (r.law_resolution_limited || r.law_within_quadrature_error || !r.law_consistent) {
        at.quadrature_error = r.law_quadrature_error;
      }
      const auto& b = r.branches[r.chosen];
      double largest = 0.0;
      for (const auto* v : {&b.M, &b.Q, &b.Gamma})
        for (double e : *v) largest = std::max(largest, std::fabs(e));
      at.parameter_scale = 1.0 + largest;
      if (r.status == Status::success) {
        solved.emplace_back(delta, r.branches[r.chosen]);
        // Bounded history: the nearest few are all the predictor uses.
        if (solved.size() > 16) solved.erase(solved.begin() + 8, solved.end() - 1);
      }
    }
    return at;
  };
}

}  // namespace deltacrit::hessian
