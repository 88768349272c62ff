#include "deltacrit/phase1/law.hpp"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "deltacrit/gauss/fibre.hpp"
#include "deltacrit/gauss/hermite.hpp"

namespace deltacrit::phase1 {

namespace {
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr std::size_t kMaxNodes = 2000000;
constexpr std::size_t kAutoNodes = 500000;  // budget of the automatic Gauss–Hermite u-rule size
constexpr std::size_t kMaxLawNodes = 4000000;  // cap of an init law's size

void fail(const std::string& parameter, const std::string& message) { throw InputError(parameter, parameter + ": " + message); }

// Gauss–Hermite tensor rule in `dim` ≤ 8 dimensions scaled by `scale`: nodes row by row.
void tensor_hermite(int dim, int points, double scale, std::vector<double>& x, std::vector<double>& w) {
  const auto& r = gauss::hermite_rule(points);
  std::size_t total = 1;
  for (int d = 0; d < dim; ++d) total *= static_cast<std::size_t>(points);
  x.assign(total * dim, 0.0);
  w.assign(total, 0.0);
  std::vector<int> idx(dim, 0);
  for (std::size_t i = 0; i < total; ++i) {
    double wi = 1.0;
    for (int d = 0; d < dim; ++d) {
      x[i * dim + d] = scale * r.x[idx[d]];
      wi *= r.w[idx[d]];
    }
    w[i] = wi;
    for (int d = dim - 1; d >= 0; --d) {
      if (++idx[d] < points) break;
      idx[d] = 0;
    }
  }
}

// Composite Gauss–Legendre nodes on the sorted panel ends `ends`, each gap split into panels at
// most `width` wide, against the standard Gaussian density; weights normalised to sum 1.
void composite_gaussian(const std::vector<double>& ends, double width, int points, std::vector<double>& x,
                        std::vector<double>& w) {
  gsl_set_error_handler_off();
  std::unique_ptr<gsl_integration_glfixed_table, decltype(&gsl_integration_glfixed_table_free)> table(
      gsl_integration_glfixed_table_alloc(static_cast<std::size_t>(points)), &gsl_integration_glfixed_table_free);
  if (!table) throw std::runtime_error("phase1: GSL could not build the Gauss-Legendre table");
  const std::size_t first = w.size();
  double total = 0.0;
  for (std::size_t s = 0; s + 1 < ends.size(); ++s) {
    const double lo = ends[s], hi = ends[s + 1];
    const int panels = std::max(1, static_cast<int>(std::ceil((hi - lo) / width - 1e-9)));
    const double h = (hi - lo) / panels;
    for (int p = 0; p < panels; ++p) {
      const double a = lo + p * h, b = (p + 1 == panels) ? hi : lo + (p + 1) * h;
      for (int i = 0; i < points; ++i) {
        double xi = 0.0, wi = 0.0;
        gsl_integration_glfixed_point(a, b, static_cast<std::size_t>(i), &xi, &wi, table.get());
        const double weight = wi * kInvSqrt2Pi * std::exp(-0.5 * xi * xi);
        x.push_back(xi);
        w.push_back(weight);
        total += weight;
      }
    }
  }
  for (std::size_t i = first; i < w.size(); ++i) w[i] /= total;
}

// A structure point found numerically within 1e-7 of 0, or within 1e-8 of a multiple of 2^-20, is
// taken to be it. The fibre resolves them to ≈ 2^-26: the kink of abs(z) comes out at −1.04e-9,
// which split [−2, 2] of min(|z|, 2) into 2 + 3 panels, so that no node had a mirror image and the
// ± pairs of the even link did not share labels (61 distinct labels instead of 25: twice the init
// law); the minimum of z2² on slices of z1 + z2² at 8.7e-16, 7.45e-9 and −1.49e-8, each a panel
// end: panels 1e-8 wide with a full set of nodes, 7200 teacher nodes instead of 6400, asymmetric.
double snap_structure_point(double p) {
  if (std::fabs(p) <= 1e-7) return 0.0;
  const double q = std::ldexp(std::round(std::ldexp(p, 20)), -20);
  return std::fabs(p - q) <= 1e-8 * std::max(1.0, std::fabs(p)) ? q : p;
}

// Composite Gauss–Legendre nodes for E[φ(z)], z ~ N(0,1), on [−z_max, z_max]: panel ends at the
// link's structure points (where g has a kink, a jump or a plateau end, so that the integrand is
// smooth inside each panel) and every panel at most `panel_width` wide.
void composite_rule_1d(const model::Link& link, const TeacherQuadOptions& opt, std::vector<double>& x,
                       std::vector<double>& w) {
  std::vector<double> ends{-opt.z_max, opt.z_max};
  {
    model::Link g = link;
    gauss::Fibre1D fibre([&g](double z) { return g(&z); }, -opt.z_max, opt.z_max);
    for (double p : fibre.structure_points()) {
      p = snap_structure_point(p);
      if (p > -opt.z_max && p < opt.z_max) ends.push_back(p);
    }
  }
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end(), [](double a, double b) { return b - a < 1e-12; }), ends.end());
  composite_gaussian(ends, opt.panel_width, opt.panel_points, x, w);
}

// k = 2: tensor product of composite rules, axis a with panel ends at the structure points of
// z_a ↦ g(z) on three generic slices of the other coordinate (a structure point of one slice only
// just adds a panel end).
void composite_rule_2d(const model::Link& link, const TeacherQuadOptions& opt, std::vector<double>& x,
                       std::vector<double>& w) {
  const double zm = opt.k2_z_max;
  std::vector<double> ax[2], aw[2];
  for (int a = 0; a < 2; ++a) {
    std::vector<double> ends{-zm, zm};
    for (double other : {0.3719, -1.1307, 2.7183}) {
      model::Link g = link;
      gauss::Fibre1D fibre(
          [&g, a, other](double t) {
            double z[2];
            z[a] = t;
            z[1 - a] = other;
            return g(z);
          },
          -zm, zm);
      for (double p : fibre.structure_points()) {
        p = snap_structure_point(p);
        if (p > -zm && p < zm) ends.push_back(p);
      }
    }
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end(), [](double l, double r) { return r - l < 1e-9; }), ends.end());
    composite_gaussian(ends, opt.k2_panel_width, opt.k2_panel_points, ax[a], aw[a]);
  }
  x.clear();
  w.clear();
  x.reserve(2 * ax[0].size() * ax[1].size());
  w.reserve(ax[0].size() * ax[1].size());
  for (std::size_t i = 0; i < ax[0].size(); ++i) {
    for (std::size_t j = 0; j < ax[1].size(); ++j) {
      x.push_back(ax[0][i]);
      x.push_back(ax[1][j]);
      w.push_back(aw[0][i] * aw[1][j]);
    }
  }
}

std::size_t power(std::size_t base, int exp) {
  std::size_t out = 1;
  for (int i = 0; i < exp; ++i) out *= base;
  return out;
}
}  // namespace

void Law::validate(const std::string& parameter) const {
  if (m < 1 || m > kMaxWidth) fail(parameter, "width m = " + std::to_string(m) + " is out of range (accepted: 1..8)");
  if (k < 1 || k > model::kMaxLatentDim) fail(parameter, "latent dimension k = " + std::to_string(k) + " is out of range (accepted: 1..3)");
  const std::size_t n = w.size();
  if (n == 0) fail(parameter, "the law has no nodes");
  if (y.size() != n || u.size() != n * m || z.size() != n * k) fail(parameter, "node arrays have inconsistent sizes");
  double total = 0.0;
  for (double v : w) {
    if (!(v >= 0) || !std::isfinite(v)) fail(parameter, "node weights must be finite and non-negative");
    total += v;
  }
  if (std::fabs(total - 1.0) > 1e-9) fail(parameter, "node weights sum to " + std::to_string(total) + ", not 1");
  for (const auto* arr : {&y, &u, &z}) {
    for (double v : *arr) {
      if (!std::isfinite(v)) fail(parameter, "the law contains a non-finite value");
    }
  }
  if (!(sample_fraction > 0 && sample_fraction <= 1)) fail(parameter, "sample_fraction must be in (0, 1]");
  if (!radius_range.empty()) {
    if (radius_range.size() != 2 * n) fail(parameter, "radius_range must have 2 entries per node");
    for (std::size_t i = 0; i < n; ++i) {
      if (!(radius_range[2 * i] >= 0 && radius_range[2 * i] <= radius_range[2 * i + 1]) ||
          !std::isfinite(radius_range[2 * i + 1])) {
        fail(parameter, "radius_range must hold finite pairs 0 <= lo <= hi");
      }
    }
  }
}

void TeacherQuadOptions::validate() const {
  if (!(z_max >= 4 && z_max <= 40)) fail("z_max", "must be in [4, 40]");
  if (!(panel_width > 0 && panel_width <= z_max)) fail("panel_width", "must be in (0, z_max]");
  if (panel_points < 2 || panel_points > 40) fail("panel_points", "must be in 2..40");
  if (hermite_points < 0 || hermite_points > 200) fail("hermite_points", "must be in 0..200 (0: automatic)");
  if (!(k2_z_max >= 4 && k2_z_max <= 12)) fail("k2_z_max", "must be in [4, 12]");
  if (!(k2_panel_width > 0 && k2_panel_width <= k2_z_max)) fail("k2_panel_width", "must be in (0, k2_z_max]");
  if (k2_panel_points < 2 || k2_panel_points > 40) fail("k2_panel_points", "must be in 2..40");
  if (k2_coarse_panel_points != 0 && (k2_coarse_panel_points < 2 || k2_coarse_panel_points > 40)) {
    fail("k2_coarse_panel_points", "must be 0 (none) or in 2..40");
  }
  if (noise_points < 2 || noise_points > 200) fail("noise_points", "must be in 2..200");
}

namespace {
// Graded panel ends: empty, or increasing from 0 with at least one panel, the last end in [4, 40].
void check_panel_ends(const std::vector<double>& ends, const std::string& name) {
  if (ends.empty()) return;
  bool ok = ends.size() >= 2 && ends.front() == 0.0 && ends.back() >= 4 && ends.back() <= 40;
  for (std::size_t i = 1; ok && i < ends.size(); ++i) ok = ends[i] > ends[i - 1] && std::isfinite(ends[i]);
  if (!ok) fail(name, "must be empty or increase from 0 to a last end in [4, 40]");
}

// The 1-D nodes of a composite rule: graded panel ends mirrored, or uniform panels on [−x_max, x_max].
void composite_axis(const GaussianRuleOptions& options, std::vector<double>& x, std::vector<double>& w) {
  if (options.panel_ends.empty()) {
    composite_gaussian({-options.x_max, options.x_max}, options.panel_width, options.panel_points, x, w);
    return;
  }
  std::vector<double> ends;
  for (auto it = options.panel_ends.rbegin(); it != options.panel_ends.rend(); ++it)
    if (*it > 0) ends.push_back(-*it);
  ends.insert(ends.end(), options.panel_ends.begin(), options.panel_ends.end());
  composite_gaussian(ends, std::numeric_limits<double>::infinity(), options.panel_points, x, w);
}

}  // namespace

void GaussianRuleOptions::validate() const {
  if (!(x_max >= 4 && x_max <= 40)) fail("x_max", "must be in [4, 40]");
  if (!(panel_width > 0 && panel_width <= x_max)) fail("panel_width", "must be in (0, x_max]");
  if (panel_points < 2 || panel_points > 40) fail("panel_points", "must be in 2..40");
  if (hermite_points < 0 || hermite_points > 64) fail("hermite_points", "must be in 0..64 (0: automatic)");
  if (composite_max_dim < 0 || composite_max_dim > kMaxWidth) fail("composite_max_dim", "must be in 0..8");
  check_panel_ends(panel_ends, "panel_ends");
}

void InitLawOptions::validate() const {
  u_rule.validate();
  check_panel_ends(auto_2d_panel_ends, "auto_2d_panel_ends");
}

int default_u_points(int m) {
  static const int table[kMaxWidth] = {41, 33, 11, 7, 5, 3, 3, 3};
  return table[std::clamp(m, 1, kMaxWidth) - 1];
}

void gaussian_rule(int dim, double scale, const GaussianRuleOptions& options, std::vector<double>& x,
                   std::vector<double>& w) {
  options.validate();
  if (dim < 1 || dim > kMaxWidth) fail("dim", "must be in 1..8");
  x.clear();
  w.clear();
  if (dim <= options.composite_max_dim) {
    std::vector<double> x1, w1;
    composite_axis(options, x1, w1);
    if (power(w1.size(), dim) > kMaxNodes) {
      fail("panel_width", std::to_string(w1.size()) + "^" + std::to_string(dim) + " composite nodes exceed the cap 2e6");
    }
    const std::size_t total = power(w1.size(), dim);
    x.assign(total * dim, 0.0);
    w.assign(total, 0.0);
    std::vector<std::size_t> idx(dim, 0);
    for (std::size_t i = 0; i < total; ++i) {
      double wi = 1.0;
      for (int d = 0; d < dim; ++d) {
        x[i * dim + d] = scale * x1[idx[d]];
        wi *= w1[idx[d]];
      }
      w[i] = wi;
      for (int d = dim - 1; d >= 0; --d) {
        if (++idx[d] < w1.size()) break;
        idx[d] = 0;
      }
    }
    return;
  }
  const int points = options.hermite_points > 0 ? options.hermite_points : default_u_points(dim);
  if (power(points, dim) > kMaxNodes) fail("hermite_points", std::to_string(points) + "^" + std::to_string(dim) + " nodes exceed the cap 2e6");
  tensor_hermite(dim, points, scale, x, w);
}

TeacherNodes teacher_nodes(const model::Link& link, const model::Noise& noise, const TeacherQuadOptions& options) {
  options.validate();
  const int k = link.k();
  std::vector<double> zx, zw;
  if (k == 1) {
    composite_rule_1d(link, options, zx, zw);
  } else if (k == 2 && options.hermite_points == 0) {
    composite_rule_2d(link, options, zx, zw);
  } else {
    const int points = options.hermite_points > 0 ? options.hermite_points : (k == 2 ? 48 : 20);
    const auto rule = gauss::hermite_tensor_rule(k, points);
    zx = rule.x;
    zw = rule.w;
  }
  const std::size_t nz = zw.size();
  std::vector<double> gy(nz);
  model::Link g = link;
  for (std::size_t i = 0; i < nz; ++i) gy[i] = g(&zx[i * k]);

  TeacherNodes out;
  out.k = k;
  auto push = [&](std::size_t i, double y, double weight) {
    if (weight <= 0) return;
    out.w.push_back(weight);
    out.y.push_back(y);
    out.z.insert(out.z.end(), zx.begin() + i * k, zx.begin() + (i + 1) * k);
  };
  switch (noise.kind) {
    case model::Noise::Kind::none:
    case model::Noise::Kind::erase:
      for (std::size_t i = 0; i < nz; ++i) push(i, gy[i], zw[i]);
      if (noise.kind == model::Noise::Kind::erase) out.sample_fraction = 1.0 - noise.param;
      break;
    case model::Noise::Kind::gaussian: {
      const auto& r = gauss::hermite_rule(options.noise_points);
      const double s = std::sqrt(noise.param);
      for (std::size_t i = 0; i < nz; ++i) {
        for (std::size_t e = 0; e < r.x.size(); ++e) push(i, gy[i] + s * r.x[e], zw[i] * r.w[e]);
      }
      break;
    }
    case model::Noise::Kind::flip:
      for (std::size_t i = 0; i < nz; ++i) {
        push(i, gy[i], zw[i] * (1.0 - noise.param));
        push(i, -gy[i], zw[i] * noise.param);
      }
      break;
    case model::Noise::Kind::resample:
      if (nz * (nz + 1) > kMaxNodes) {
        fail("noise", "resample noise needs " + std::to_string(nz * (nz + 1)) +
                          " teacher nodes, more than the cap 2e6; lower the quadrature sizes");
      }
      for (std::size_t i = 0; i < nz; ++i) {
        push(i, gy[i], zw[i] * (1.0 - noise.param));
        for (std::size_t j = 0; j < nz; ++j) push(i, gy[j], zw[i] * zw[j] * noise.param);
      }
      break;
  }
  if (k == 2 && options.hermite_points == 0 && options.k2_coarse_panel_points >= 2 &&
      options.k2_coarse_panel_points < options.k2_panel_points) {
    TeacherQuadOptions coarse = options;
    coarse.k2_panel_points = options.k2_coarse_panel_points;
    coarse.k2_coarse_panel_points = 0;
    out.coarse = std::make_shared<const TeacherNodes>(teacher_nodes(link, noise, coarse));
  }
  return out;
}

TeacherNodes group_by_label(const TeacherNodes& teacher) {
  const int k = teacher.k;
  const std::size_t n = teacher.size();
  std::unordered_map<double, std::size_t> group_of;  // label -> group, numbered by first occurrence
  std::vector<double> W, S1, S2, R;                   // per group: Σw, Σw z, Σw z zᵀ, radius range
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, fresh] = group_of.try_emplace(teacher.y[i], W.size());
    if (fresh) {
      W.push_back(0.0);
      S1.insert(S1.end(), k, 0.0);
      S2.insert(S2.end(), static_cast<std::size_t>(k) * k, 0.0);
      R.insert(R.end(), {std::numeric_limits<double>::infinity(), 0.0});
      if (2 * static_cast<std::size_t>(k) * W.size() >= n) return teacher;  // nothing to gain
    }
    const std::size_t g = it->second;
    const double w = teacher.w[i];
    const double* z = &teacher.z[i * k];
    W[g] += w;
    double r_lo = 0.0, r_hi = 0.0;  // the radius range this node stands for
    if (teacher.radius_range.empty()) {
      for (int a = 0; a < k; ++a) r_lo = std::max(r_lo, std::fabs(z[a]));
      r_hi = r_lo;
    } else {
      r_lo = teacher.radius_range[2 * i];
      r_hi = teacher.radius_range[2 * i + 1];
    }
    R[2 * g] = std::min(R[2 * g], r_lo);
    R[2 * g + 1] = std::max(R[2 * g + 1], r_hi);
    for (int a = 0; a < k; ++a) {
      S1[g * k + a] += w * z[a];
      for (int b = 0; b < k; ++b) S2[(g * k + a) * k + b] += w * z[a] * z[b];
    }
  }
  std::vector<double> label(W.size());
  for (const auto& [y, g] : group_of) label[g] = y;
  TeacherNodes out;
  out.k = k;
  out.sample_fraction = teacher.sample_fraction;
  std::unique_ptr<gsl_eigen_symmv_workspace, decltype(&gsl_eigen_symmv_free)> work(gsl_eigen_symmv_alloc(k),
                                                                                  gsl_eigen_symmv_free);
  std::unique_ptr<gsl_matrix, decltype(&gsl_matrix_free)> C(gsl_matrix_alloc(k, k), gsl_matrix_free),
      V(gsl_matrix_alloc(k, k), gsl_matrix_free);
  std::unique_ptr<gsl_vector, decltype(&gsl_vector_free)> lambda(gsl_vector_alloc(k), gsl_vector_free);
  for (std::size_t g = 0; g < W.size(); ++g) {
    if (!(W[g] > 0)) continue;
    const double* mu_sum = &S1[g * k];
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b)
        gsl_matrix_set(C.get(), a, b, S2[(g * k + a) * k + b] / W[g] - (mu_sum[a] / W[g]) * (mu_sum[b] / W[g]));
    gsl_eigen_symmv(C.get(), lambda.get(), V.get(), work.get());
    for (int a = 0; a < k; ++a) {
      const double amp = std::sqrt(k * std::max(0.0, gsl_vector_get(lambda.get(), a)));
      for (const double sign : {1.0, -1.0}) {
        out.w.push_back(W[g] / (2 * k));
        out.y.push_back(label[g]);
        out.radius_range.insert(out.radius_range.end(), {R[2 * g], R[2 * g + 1]});
        for (int b = 0; b < k; ++b) out.z.push_back(mu_sum[b] / W[g] + sign * amp * gsl_matrix_get(V.get(), b, a));
      }
    }
  }
  return out;
}

int automatic_init_u_points(int m, std::size_t teacher_nodes) {
  int points = default_u_points(m);
  // Two at a time: odd counts keep u = 0 a node (even ones were 1.5–2× further from the limit, m = 4).
  while (points > 3 && power(points, m) * teacher_nodes > kAutoNodes) points -= 2;
  return points;
}

InitURule init_u_rule(int width, double scale, const InitLawOptions& options, std::size_t teacher_nodes) {
  InitURule out;
  out.rule = options.u_rule;
  const auto size_of = [&](const GaussianRuleOptions& r) {
    if (width <= r.composite_max_dim) {
      std::vector<double> x1, w1;  // ≤ a few hundred nodes: built to be counted
      composite_axis(r, x1, w1);
      return power(w1.size(), width);
    }
    return power(r.hermite_points > 0 ? r.hermite_points : default_u_points(width), width);
  };
  if (options.u_rule.hermite_points == 0 && width > options.u_rule.composite_max_dim) {
    if (width >= 2 && scale <= 0.05) {
      out.rule.hermite_points = 3;
      out.choice = InitURule::Choice::small_scale;
    } else {
      GaussianRuleOptions two = options.u_rule;
      two.composite_max_dim = 2;
      two.panel_ends = options.auto_2d_panel_ends;
      if (width == 2 && !options.auto_2d_panel_ends.empty() &&
          (options.require_auto_2d || size_of(two) * teacher_nodes <= kMaxLawNodes)) {
        out.rule = two;
        out.choice = InitURule::Choice::composite_2d;
      } else {
        out.rule.hermite_points = automatic_init_u_points(width, teacher_nodes);
        out.choice = InitURule::Choice::hermite_budget;
      }
    }
  }
  out.u_nodes = size_of(out.rule);
  return out;
}

Law init_law(const TeacherNodes& full_teacher, int width, const InitSpec& init, const InitLawOptions& options) {
  options.validate();
  const TeacherNodes teacher = group_by_label(full_teacher);
  if (width < 1 || width > kMaxWidth) fail("--width", std::to_string(width) + " is out of range (accepted: 1..8)");
  if (!(init.scale >= 0) || !std::isfinite(init.scale)) fail("--init", "scale must be finite and >= 0");
  const int m = width;
  std::vector<double> ux, uw;
  std::string u_text;
  if (init.scale == 0.0) {
    ux.assign(m, 0.0);
    uw.assign(1, 1.0);
  } else {
    const InitURule rule = init_u_rule(m, init.scale, options, teacher.size());
    if (m <= rule.rule.composite_max_dim && !rule.rule.panel_ends.empty()) {
      u_text = "; u rule: composite Gauss-Legendre with " + std::to_string(rule.rule.panel_points) +
               " nodes per panel, panel ends +-{";
      for (std::size_t e = 0; e < rule.rule.panel_ends.size(); ++e) {
        std::ostringstream v;
        v << rule.rule.panel_ends[e];
        u_text += (e ? ", " : "") + v.str();
      }
      u_text += "} per axis";
    } else if (m <= rule.rule.composite_max_dim) {
      u_text = "; u rule: composite Gauss-Legendre, panels " + std::to_string(rule.rule.panel_width).substr(0, 4) + " wide with " +
               std::to_string(rule.rule.panel_points) + " nodes on [-" + std::to_string(rule.rule.x_max).substr(0, 4) +
               ", " + std::to_string(rule.rule.x_max).substr(0, 4) + "] per axis";
    } else {
      u_text = "; u rule: Gauss-Hermite, " +
               std::to_string(rule.rule.hermite_points > 0 ? rule.rule.hermite_points : default_u_points(m)) + " points per axis";
    }
    if (rule.choice == InitURule::Choice::hermite_budget && rule.rule.hermite_points < default_u_points(m)) {
      u_text += " (lowered to fit the node budget 5e5)";
    }
    if (rule.u_nodes * teacher.size() > kMaxLawNodes) {
      fail("u_points", std::to_string(rule.u_nodes) + " u-nodes times " + std::to_string(teacher.size()) +
                           " teacher nodes exceed the cap 4e6");
    }
    gaussian_rule(m, init.scale, rule.rule, ux, uw);
  }
  Law law;
  law.m = m;
  law.k = teacher.k;
  law.sample_fraction = teacher.sample_fraction;
  const std::size_t nt = teacher.size(), nu = uw.size();
  law.w.reserve(nt * nu);
  law.y.reserve(nt * nu);
  law.u.reserve(nt * nu * m);
  law.z.reserve(nt * nu * teacher.k);
  for (std::size_t i = 0; i < nt; ++i) {
    for (std::size_t j = 0; j < nu; ++j) {
      law.w.push_back(teacher.w[i] * uw[j]);
      law.y.push_back(teacher.y[i]);
      law.u.insert(law.u.end(), ux.begin() + j * m, ux.begin() + (j + 1) * m);
      law.z.insert(law.z.end(), teacher.z.begin() + i * teacher.k, teacher.z.begin() + (i + 1) * teacher.k);
      if (!teacher.radius_range.empty()) {
        law.radius_range.insert(law.radius_range.end(), teacher.radius_range.begin() + 2 * i,
                                teacher.radius_range.begin() + 2 * i + 2);
      }
    }
  }
  law.description = "init " + init.text() + ": u ~ N(0, S^2 I_m) independent of (z, y), " + std::to_string(law.size()) + " nodes" + u_text;
  if (teacher.size() != full_teacher.size()) {
    law.description += " (the " + std::to_string(full_teacher.size()) + " teacher nodes merged by label into " +
                       std::to_string(teacher.size()) + " with the same E[z|y], E[zz^T|y])";
  }
  return law;
}

}  // namespace deltacrit::phase1
