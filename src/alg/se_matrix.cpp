#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>

#include "deltacrit/alg/se.hpp"
#include "deltacrit/gauss/hermite.hpp"
#include "se_numerics.hpp"

namespace deltacrit::alg {

void MatrixSEOptions::validate() const {
  denoiser.validate();
  auto fail = [](const std::string& f, const std::string& m) { throw InputError(f, f + ": " + m); };
  if (omega_nodes != 0 && (omega_nodes < 4 || omega_nodes > 80)) fail("omega_nodes", "must be 0 (automatic) or in [4, 80]");
  if (y_panel_nodes < 2 || y_panel_nodes > 64) fail("y_panel_nodes", "must be in [2, 64]");
  if (y_panels < 4 || y_panels > 2000) fail("y_panels", "must be in [4, 2000]");
  if (!(y_grading_finest >= 1e-12 && y_grading_finest <= 1e-2)) fail("y_grading_finest", "must be in [1e-12, 1e-2]");
}

namespace {
Eigen::MatrixXd sym_sqrt(const Eigen::MatrixXd& M) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (M + M.transpose()));
  return es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() * es.eigenvectors().transpose();
}
}  // namespace

MatrixStateEvolution::MatrixStateEvolution(const model::Link& link, const model::Noise& noise, const MatrixSEOptions& options)
    : den_(link, noise, options.denoiser), options_(options) {
  options_.validate();
  const int k = den_.k();
  const int n_omega = options_.omega_nodes > 0 ? options_.omega_nodes : (k == 1 ? 80 : (k == 2 ? 16 : 8));
  const auto& gh = gauss::hermite_rule(n_omega);
  gh_x_ = gh.x;
  gh_w_ = gh.w;

  // y-rule of the continuous part: panels graded towards g(0), atoms inside the range and the range
  // ends (k = 1: also every critical value of g seen on the two rays). Panels adjacent to a graded
  // point use y = y_c ± h u² (removes the |y − y_c|^{−1/2} density singularity of k = 1 critical
  // values; harmless elsewhere).
  if (noise.kind != model::Noise::Kind::flip && den_.y_max() > den_.y_min()) {
    const double lo = den_.y_min(), hi = den_.y_max(), range = hi - lo;
    std::vector<double> graded{lo, hi};
    if (den_.g_origin() > lo && den_.g_origin() < hi) graded.push_back(den_.g_origin());
    for (const auto& a : den_.atoms()) {
      if (a.value > lo && a.value < hi) graded.push_back(a.value);
    }
    if (k == 1) {
      const gauss::Fibre1D pos([&](double r) { return link(&r); }, 0.0, options_.denoiser.radius,
                               gauss::FibreOptions{options_.denoiser.ray_grid});
      const gauss::Fibre1D neg([&](double r) { double z = -r; return link(&z); }, 0.0, options_.denoiser.radius,
                               gauss::FibreOptions{options_.denoiser.ray_grid});
      for (const auto* f : {&pos, &neg}) {
        for (double v : f->critical_values()) {
          if (v > lo && v < hi) graded.push_back(v);
        }
      }
    }
    std::sort(graded.begin(), graded.end());
    graded.erase(std::unique(graded.begin(), graded.end()), graded.end());
    const double coarse = range / options_.y_panels;
    const auto ends = se_detail::graded_panels(lo, hi, graded, coarse, coarse, 0.3, options_.y_grading_finest * range);
    const auto& gl = se_detail::gauss_legendre(options_.y_panel_nodes);
    auto is_graded = [&](double y) { return std::binary_search(graded.begin(), graded.end(), y); };
    for (std::size_t p = 0; p + 1 < ends.size(); ++p) {
      const double a = ends[p], b = ends[p + 1], h = b - a;
      const bool left = is_graded(a), right = is_graded(b);
      for (std::size_t i = 0; i < gl.x.size(); ++i) {
        const double u = 0.5 * (1 + gl.x[i]), wu = 0.5 * gl.w[i];
        double y, w;
        if (left && !right) {
          y = a + h * u * u;
          w = wu * 2 * h * u;
        } else if (right && !left) {
          y = b - h * u * u;
          w = wu * 2 * h * u;
        } else if (left && right) {
          // Both ends singular: split at the middle, quadratic map towards each end.
          const double v = u < 0.5 ? 2 * u : 2 * (1 - u);
          y = u < 0.5 ? a + 0.5 * h * v * v : b - 0.5 * h * v * v;
          w = wu * 2 * h * v;
        } else {
          y = a + h * u;
          w = wu * h;
        }
        if (den_.atom_index(y) >= 0 || !(w > 0)) continue;
        labels_.push_back(den_.prepare(y));
        y_weights_.push_back(w);
      }
    }
  }
  for (const auto& a : den_.atoms()) {
    if (noise.kind == model::Noise::Kind::flip && !(a.value == 1.0 || a.value == -1.0)) continue;
    labels_.push_back(den_.prepare(a.value));
    y_weights_.push_back(1.0);
  }
}

Eigen::MatrixXd MatrixStateEvolution::fisher(const Eigen::MatrixXd& M, double* mass_error) const {
  const int k = den_.k();
  if (M.rows() != k || M.cols() != k) throw InputError("M", "M must be k x k");
  const Eigen::MatrixXd root = sym_sqrt(M);
  const Eigen::MatrixXd V = Eigen::MatrixXd::Identity(k, k) - 0.5 * (M + M.transpose());
  const GaussianPrior prior = GaussianPrior::make(Eigen::VectorXd::Zero(k), V, options_.denoiser.v_floor);
  const auto kind = den_.noise().kind;
  const double eps = den_.noise().param;
  using Kind = model::Noise::Kind;
  // Flat fibre nodes with the ω-independent part of their log weight:
  //   log[v_l N(z_l; ω, V)] = a_l + z_lᵀ c − ½ ωᵀ c − ½ log det(2πV),  c = V^{-1} ω,
  //   a_l = log v_l − ½ z_lᵀ V^{-1} z_l (+ log(1 − ε) or log ε for the flip/resample parts).
  // The resample prior component has ω-independent evidence ε p_Y(y) and posterior mean ω.
  double Vi[9];
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) Vi[i * k + j] = prior.V_inv(i, j);
  const double l_clean = (kind == Kind::resample || kind == Kind::flip) ? std::log1p(-eps) : 0.0;
  std::vector<double> zs, as;
  std::vector<std::size_t> begin(labels_.size() + 1, 0);
  std::vector<double> l_prior(labels_.size(), -se_detail::kInf);
  for (std::size_t j = 0; j < labels_.size(); ++j) {
    const auto& lab = labels_[j];
    auto add = [&](const Eigen::MatrixXd& z, const std::vector<double>& lv, double shift) {
      for (std::size_t l = 0; l < lv.size(); ++l) {
        double q = 0;
        for (int a = 0; a < k; ++a)
          for (int b = 0; b < k; ++b) q += z(a, static_cast<Eigen::Index>(l)) * Vi[a * k + b] * z(b, static_cast<Eigen::Index>(l));
        for (int a = 0; a < k; ++a) zs.push_back(z(a, static_cast<Eigen::Index>(l)));
        as.push_back(lv[l] + shift - 0.5 * q);
      }
    };
    add(lab.z, lab.log_v, l_clean);
    if (kind == Kind::flip) add(lab.z_flip, lab.log_v_flip, std::log(eps));
    if (kind == Kind::resample) l_prior[j] = std::log(eps) + lab.log_marginal;
    begin[j + 1] = as.size();
  }
  const double half_logdet = 0.5 * prior.log_det_2piV;
  const int n = static_cast<int>(gh_x_.size());
  int total_nodes = 1;
  for (int i = 0; i < k; ++i) total_nodes *= n;
  double acc[9] = {0};
  double worst_mass = 0.0;
  std::vector<double> ls;
  for (int idx = 0; idx < total_nodes; ++idx) {
    int rem = idx;
    double w_omega = 1.0;
    Eigen::Vector3d xi = Eigen::Vector3d::Zero();
    for (int i = 0; i < k; ++i) {
      const int j = rem % n;
      rem /= n;
      xi[i] = gh_x_[j];
      w_omega *= gh_w_[j];
    }
    if (w_omega < 1e-18) continue;
    double om[3] = {0, 0, 0}, c[3] = {0, 0, 0};
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b) om[a] += root(a, b) * xi[b];
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b) c[a] += Vi[a * k + b] * om[b];
    double kappa = -half_logdet;
    for (int a = 0; a < k; ++a) kappa -= 0.5 * om[a] * c[a];
    double mass = 0.0;
    for (std::size_t j = 0; j < labels_.size(); ++j) {
      const std::size_t b0 = begin[j], b1 = begin[j + 1];
      ls.resize(b1 - b0);
      double lmax = l_prior[j] - kappa;
      for (std::size_t l = b0; l < b1; ++l) {
        double v = as[l];
        for (int a = 0; a < k; ++a) v += zs[l * k + a] * c[a];
        ls[l - b0] = v;
        lmax = std::max(lmax, v);
      }
      if (!(lmax > -se_detail::kInf)) continue;
      const double wp = std::exp(l_prior[j] - kappa - lmax);
      double s0 = wp, s1[3] = {wp * om[0], wp * om[1], wp * om[2]};
      for (std::size_t l = b0; l < b1; ++l) {
        const double w = std::exp(ls[l - b0] - lmax);
        s0 += w;
        for (int a = 0; a < k; ++a) s1[a] += w * zs[l * k + a];
      }
      const double evidence = std::exp(lmax + kappa) * s0 * y_weights_[j];
      double d[3], g[3] = {0, 0, 0};
      for (int a = 0; a < k; ++a) d[a] = s1[a] / s0 - om[a];
      for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) g[a] += Vi[a * k + b] * d[b];
      mass += evidence;
      for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) acc[a * k + b] += w_omega * evidence * g[a] * g[b];
    }
    if (kind == Kind::erase) mass = mass * (1.0 - eps) + eps;
    worst_mass = std::max(worst_mass, std::fabs(mass - 1.0));
  }
  Eigen::MatrixXd out(k, k);
  for (int a = 0; a < k; ++a)
    for (int b = 0; b < k; ++b) out(a, b) = acc[a * k + b];
  if (kind == Kind::erase) out *= 1.0 - eps;
  if (mass_error) *mass_error = worst_mass;
  return 0.5 * (out + out.transpose());
}

double MatrixStateEvolution::onset(Eigen::MatrixXd* trivial_gram) const {
  const int k = den_.k();
  const GaussianPrior prior = GaussianPrior::make(Eigen::VectorXd::Zero(k), Eigen::MatrixXd::Identity(k, k), 1e-300);
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(k, k);
  std::vector<std::pair<double, Eigen::MatrixXd>> Gs;  // (probability, E[zzᵀ|y] − I)
  for (std::size_t j = 0; j < labels_.size(); ++j) {
    const auto post = den_.posterior(labels_[j], prior);
    if (post.empty) continue;
    const double p = std::exp(post.log_evidence) * y_weights_[j];
    C += p * post.mean * post.mean.transpose();
    Gs.push_back({p, post.cov + post.mean * post.mean.transpose() - Eigen::MatrixXd::Identity(k, k)});
  }
  if (den_.noise().kind == model::Noise::Kind::erase) {
    C *= 1.0 - den_.noise().param;
    for (auto& g : Gs) g.first *= 1.0 - den_.noise().param;
  }
  if (trivial_gram) *trivial_gram = C;
  // Orthonormal basis of the complement of range(C) (eigenvalues ≤ 1e-10 relative to E[z²] = 1).
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
  std::vector<int> comp;
  for (int i = 0; i < k; ++i) {
    if (es.eigenvalues()[i] <= 1e-10) comp.push_back(i);
  }
  const int kc = static_cast<int>(comp.size());
  if (kc == 0) return 0.0;
  Eigen::MatrixXd P(k, kc);
  for (int i = 0; i < kc; ++i) P.col(i) = es.eigenvectors().col(comp[i]);
  // F on Sym_{kc} in the orthonormal basis {E_ii, (E_ij + E_ji)/√2}.
  std::vector<Eigen::MatrixXd> basis;
  for (int i = 0; i < kc; ++i) {
    for (int j = i; j < kc; ++j) {
      Eigen::MatrixXd E = Eigen::MatrixXd::Zero(kc, kc);
      if (i == j) E(i, i) = 1.0;
      else E(i, j) = E(j, i) = 1.0 / std::sqrt(2.0);
      basis.push_back(E);
    }
  }
  const int nb = static_cast<int>(basis.size());
  Eigen::MatrixXd F = Eigen::MatrixXd::Zero(nb, nb);
  for (const auto& [p, G] : Gs) {
    const Eigen::MatrixXd Gp = P.transpose() * G * P;
    for (int b = 0; b < nb; ++b) {
      const Eigen::MatrixXd image = Gp * basis[b] * Gp;
      for (int a = 0; a < nb; ++a) F(a, b) += p * (basis[a].cwiseProduct(image)).sum();
    }
  }
  const double lmax = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(0.5 * (F + F.transpose())).eigenvalues().maxCoeff();
  return lmax > 1e-14 ? 1.0 / lmax : std::numeric_limits<double>::infinity();
}

IterationResult MatrixStateEvolution::iterate(double delta, const IterationOptions& options) const {
  options.validate();
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be a finite number > 0");
  const int k = den_.k();
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(k, k);
  auto update = [&](const Eigen::MatrixXd& M) {
    const Eigen::MatrixXd Mhat = delta * fisher(M);
    Eigen::MatrixXd next = Mhat * (I + Mhat).inverse();
    next = 0.5 * (next + next.transpose());
    // Keep 0 ⪯ M ≺ I (rounding only).
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(next);
    return Eigen::MatrixXd(es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseMin(1.0 - 1e-12).asDiagonal() *
                           es.eigenvectors().transpose());
  };
  IterationResult out;
  out.seed = options.seed;
  Eigen::MatrixXd M = options.seed * I;
  out.status = Status::not_converged;
  for (int t = 0; t < options.max_iterations; ++t) {
    const Eigen::MatrixXd next = (1 - options.damping) * M + options.damping * update(M);
    out.iterations = t + 1;
    const double step = (next - M).norm();
    M = next;
    out.trace.push_back(M.trace() / k);
    if (!M.allFinite()) {
      out.status = Status::numerical_issue;
      break;
    }
    if (step < options.tol) {
      out.status = Status::success;
      break;
    }
    // Full recovery: every eigenvalue of I − M below full_tol (V → 0, where the ray route loses
    // accuracy; the recursion converges to M = I geometrically there).
    if (Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(I - M).eigenvalues().maxCoeff() < options.full_tol) {
      out.status = Status::success;
      out.full = true;
      break;
    }
  }
  out.overlap = M;
  if (out.status != Status::numerical_issue) out.residual = (update(M) - M).norm();
  return out;
}

}  // namespace deltacrit::alg
