// Matrix-valued Stieltjes solver (R1) and outlier equation (R2); see docs/stieltjes.md.
//
// Notation: Φ(S, ζ) = S^{-1} − M(S) + (ζ − λ) I with M(S) = E[W], W = D (I + S D/δ)^{-1}; R1 is
// Φ = 0. Its derivative in S is dΦ[dS] = −S^{-1} dS S^{-1} + (1/δ) E[W dS W].
//
// Real branch (ζ below the spectrum, S ≻ 0). With S = L Lᵀ and dS = L X Lᵀ every quantity is
// written in the frame of L: W̃ = Lᵀ W L = D̃ (I + D̃/δ)^{-1}, D̃ = Lᵀ D L, and
//   Lᵀ Φ L = I − E[W̃] + (ζ − λ) LᵀL,   Lᵀ dΦ[L X Lᵀ] L = −(I − Ĵ) X,   Ĵ(X) = (1/δ) E[W̃ X W̃].
// Ĵ is self-adjoint for ⟨A, B⟩ = tr(AB) and maps PSD to PSD; it is similar to the Jacobian of
// S ↦ RHS(S) at a fixed point, so its largest eigenvalue ρ is that Jacobian's spectral radius:
// ρ < 1 on the physical branch, ρ = 1 at the lower edge (fold). In orthonormal coordinates of
// Sym_m (X_aa, √2 X_ab) Ĵ is a symmetric p×p matrix, p = m(m+1)/2.
//
// The branch is followed in the parameter s = tr S (increasing along the physical branch): the
// pair (S, ζ) solves Φ = 0, tr S = s, a bordered system that stays regular through the fold, where
// dζ/ds changes sign. ζ(s) increases from −∞ (s → 0⁺) to the lower edge ζ₋.
#include "deltacrit/spectral/stieltjes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <boost/math/tools/toms748_solve.hpp>

#include "stieltjes_kernel.hpp"

namespace deltacrit::spectral {

using detail::packed_index;
using detail::packed_size;
using detail::PreparedLaw;
using Eigen::MatrixXcd;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using cd = std::complex<double>;

// ---------------------------------------------------------------------------------------------
// Validation and construction of laws.

namespace {

std::string num(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

}  // namespace

void WeightLaw::validate() const {
  if (m < 1 || m > kMaxWidth)
    throw InputError("m", "WeightLaw: m = " + std::to_string(m) + " is out of range (accepted: 1..8)");
  if (k_h < 0 || k_h > kMaxHardDims)
    throw InputError("k_h", "WeightLaw: k_h = " + std::to_string(k_h) + " is out of range (accepted: 0..3)");
  const std::size_t n = weight.size();
  if (n == 0) throw InputError("weight", "WeightLaw: weight is empty (accepted: at least one node)");
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(weight[i]) || weight[i] < 0.0)
      throw InputError("weight", "WeightLaw: weight[" + std::to_string(i) + "] = " + num(weight[i]) +
                                     " (accepted: finite and ≥ 0)");
    sum += weight[i];
  }
  if (std::abs(sum - 1.0) > 1e-9)
    throw InputError("weight", "WeightLaw: weights sum to " + num(sum) + " (accepted: 1 within 1e-9)");
  const std::size_t mm = static_cast<std::size_t>(m) * m;
  if (D.size() != n * mm)
    throw InputError("D", "WeightLaw: D has " + std::to_string(D.size()) + " entries (accepted: n·m·m = " +
                              std::to_string(n * mm) + ")");
  for (std::size_t i = 0; i < n; ++i) {
    const double* d = D.data() + i * mm;
    double amax = 0.0;
    for (std::size_t e = 0; e < mm; ++e) {
      if (!std::isfinite(d[e]))
        throw InputError("D", "WeightLaw: D of node " + std::to_string(i) + " is not finite (accepted: finite)");
      amax = std::max(amax, std::abs(d[e]));
    }
    for (int a = 0; a < m; ++a)
      for (int b = a + 1; b < m; ++b) {
        const double x = d[a * m + b], y = d[b * m + a];
        if (std::abs(x - y) > 1e-10 * std::max(std::abs(x), std::abs(y)) + 1e-14 * amax)
          throw InputError("D", "WeightLaw: D of node " + std::to_string(i) + " is not symmetric (D[" +
                                    std::to_string(a) + "," + std::to_string(b) + "] = " + num(x) + " vs " +
                                    num(y) + "; accepted: symmetric to 1e-10 relative)");
      }
  }
  if (z_h.size() != n * static_cast<std::size_t>(k_h))
    throw InputError("z_h", "WeightLaw: z_h has " + std::to_string(z_h.size()) +
                                " entries (accepted: n·k_h = " + std::to_string(n * k_h) + ")");
  for (double v : z_h)
    if (!std::isfinite(v)) throw InputError("z_h", "WeightLaw: z_h has a non-finite entry (accepted: finite)");
}

WeightLaw WeightLaw::from_samples(int m, int k_h, std::vector<double> D, std::vector<double> z_h) {
  if (m < 1 || m > kMaxWidth)
    throw InputError("m", "WeightLaw: m = " + std::to_string(m) + " is out of range (accepted: 1..8)");
  const std::size_t n = D.size() / (static_cast<std::size_t>(m) * m);
  WeightLaw law;
  law.m = m;
  law.k_h = k_h;
  law.weight.assign(n, n > 0 ? 1.0 / static_cast<double>(n) : 0.0);
  law.D = std::move(D);
  law.z_h = std::move(z_h);
  law.validate();
  return law;
}

WeightLaw WeightLaw::from_weighted_samples(int m, int k_h, std::vector<double> weight, std::vector<double> D,
                                           std::vector<double> z_h) {
  WeightLaw law;
  law.m = m;
  law.k_h = k_h;
  law.weight = std::move(weight);
  law.D = std::move(D);
  law.z_h = std::move(z_h);
  law.validate();
  return law;
}

WeightLaw WeightLaw::from_rule(const gauss::RuleND& rule, int m, int k_h,
                               const std::function<void(const double*, double*, double*)>& fill) {
  if (m < 1 || m > kMaxWidth)
    throw InputError("m", "WeightLaw: m = " + std::to_string(m) + " is out of range (accepted: 1..8)");
  if (k_h < 0 || k_h > kMaxHardDims)
    throw InputError("k_h", "WeightLaw: k_h = " + std::to_string(k_h) + " is out of range (accepted: 0..3)");
  const std::size_t n = rule.size();
  WeightLaw law;
  law.m = m;
  law.k_h = k_h;
  law.weight = rule.w;
  law.D.assign(n * m * m, 0.0);
  law.z_h.assign(n * k_h, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    fill(rule.x.data() + i * rule.dim, law.D.data() + i * m * m, k_h > 0 ? law.z_h.data() + i * k_h : nullptr);
  law.validate();
  return law;
}

void StieltjesOptions::validate() const {
  if (!(tol > 0.0 && tol <= 1e-2))
    throw InputError("tol", "StieltjesOptions: tol = " + num(tol) + " (accepted: 0 < tol ≤ 1e-2)");
  if (max_iterations < 1 || max_iterations > 100000)
    throw InputError("max_iterations", "StieltjesOptions: max_iterations = " + std::to_string(max_iterations) +
                                           " (accepted: 1..100000)");
  if (!(damping > 0.0 && damping <= 1.0))
    throw InputError("damping", "StieltjesOptions: damping = " + num(damping) + " (accepted: 0 < damping ≤ 1)");
  if (max_fixed_point_iterations < 1)
    throw InputError("max_fixed_point_iterations", "StieltjesOptions: max_fixed_point_iterations = " +
                                                       std::to_string(max_fixed_point_iterations) +
                                                       " (accepted: ≥ 1)");
  if (!(eta > 0.0 && eta <= 1e-2))
    throw InputError("eta", "StieltjesOptions: eta = " + num(eta) + " (accepted: 0 < eta ≤ 1e-2)");
  if (max_continuation_steps < 10)
    throw InputError("max_continuation_steps", "StieltjesOptions: max_continuation_steps = " +
                                                   std::to_string(max_continuation_steps) + " (accepted: ≥ 10)");
  if (!(root_tol > 0.0 && root_tol <= 1e-2))
    throw InputError("root_tol", "StieltjesOptions: root_tol = " + num(root_tol) + " (accepted: 0 < root_tol ≤ 1e-2)");
}

std::string_view to_string(EdgeKind kind) {
  switch (kind) {
    case EdgeKind::none: return "none";
    case EdgeKind::fold: return "fold";
    case EdgeKind::divergence: return "divergence";
    case EdgeKind::boundary: return "boundary";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Linear algebra on Sym_m.

namespace {

// Orthonormal coordinates of Sym_m for ⟨A, B⟩ = tr(AB): (X_aa, √2 X_ab).
VectorXd vec_orth(const MatrixXd& X) {
  const int m = static_cast<int>(X.rows());
  VectorXd v(packed_size(m));
  int k = 0;
  for (int a = 0; a < m; ++a)
    for (int b = a; b < m; ++b) v[k++] = (a == b) ? X(a, a) : M_SQRT2 * X(a, b);
  return v;
}

MatrixXd unvec_orth(const VectorXd& v, int m) {
  MatrixXd X(m, m);
  int k = 0;
  for (int a = 0; a < m; ++a)
    for (int b = a; b < m; ++b) {
      const double x = (a == b) ? v[k] : v[k] / M_SQRT2;
      X(a, b) = x;
      X(b, a) = x;
      ++k;
    }
  return X;
}

// Ĵ(X) = (1/δ) E[W̃ X W̃] in orthonormal coordinates, from U = E[W̃_α W̃_β] (plain packed).
// Column (c, d) of the plain-coordinate matrix is E[W̃ E_cd W̃] with E_cd = e_c e_dᵀ + e_d e_cᵀ
// (c < d) or e_c e_cᵀ: entry (a, b) is E[W̃_ac W̃_db + W̃_ad W̃_cb] (resp. E[W̃_ac W̃_cb]).
MatrixXd jhat_from_U(const MatrixXd& U, int m, double delta) {
  const int p = packed_size(m);
  auto E = [&](int a, int b, int c, int d) { return U(packed_index(m, a, b), packed_index(m, c, d)); };
  MatrixXd J(p, p);
  for (int c = 0; c < m; ++c)
    for (int d = c; d < m; ++d) {
      const int beta = packed_index(m, c, d);
      const double gb = (c == d) ? 1.0 : M_SQRT2;
      for (int a = 0; a < m; ++a)
        for (int b = a; b < m; ++b) {
          const int alpha = packed_index(m, a, b);
          const double ga = (a == b) ? 1.0 : M_SQRT2;
          const double v = (c == d) ? E(a, c, c, b) : E(a, c, d, b) + E(a, d, c, b);
          J(alpha, beta) = ga * v / (gb * delta);
        }
    }
  return 0.5 * (J + J.transpose());
}

double max_eigenvalue_sym(const MatrixXd& A) {
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(A, Eigen::EigenvaluesOnly);
  return es.eigenvalues()(A.rows() - 1);
}

double min_imag_eigenvalue(const MatrixXcd& S) {
  const MatrixXcd H = (S - S.adjoint()) / cd(0.0, 2.0);
  Eigen::SelfAdjointEigenSolver<MatrixXcd> es(H, Eigen::EigenvaluesOnly);
  return es.eigenvalues()(0);
}

// (I_k ⊗ A) B (I_k ⊗ Aᵀ) for a (k m)×(k m) matrix B.
MatrixXd block_congruence(const MatrixXd& B, const MatrixXd& A, int k) {
  const int m = static_cast<int>(A.rows());
  MatrixXd out(k * m, k * m);
  for (int a = 0; a < k; ++a)
    for (int b = 0; b < k; ++b) out.block(a * m, b * m, m, m) = A * B.block(a * m, b * m, m, m) * A.transpose();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Problem context: the law, δ and the sign σ (σ = −1 is the problem of −H: D → −D, λ → −λ).

struct Ctx {
  const PreparedLaw& law;
  double delta;
  double lam;    // σλ
  double sign;   // σ
  const StieltjesOptions& opt;
  double scale;
};

// A point of the real branch with everything computed at S (not at an updated S).
struct RealPoint {
  bool ok = false;
  bool domain_fail = false;
  double s = 0.0;            // tr S
  double zeta = 0.0;
  MatrixXd S, L;
  MatrixXd Jhat;             // p×p
  double rho = 0.0;          // λ_max(Ĵ)
  double dzeta_ds = 0.0;     // along the branch (bordered system; regular at the fold)
  MatrixXd dS_ds;
  MatrixXd Kt;               // E[z zᵀ ⊗ W̃] if requested
  double residual = 0.0;
  int iterations = 0;
};

enum class Mode { fixed_zeta, fixed_s };

// A Newton iterate with a tiny relative step is accepted only if its relative residual is also
// small: far from any solution (e.g. S → ∞) relative steps can vanish without Φ doing so.
constexpr double kAcceptResidual = 1e-8;
constexpr double kStagnationStep = 1e-7;

// Newton on Φ = 0 (fixed ζ) or on (Φ = 0, tr S = s) (fixed s), in the frame of L. A trial point
// outside the domain (S not ≻ 0, or I + D̃/δ not ≻ 0 at some node) or with a larger residual is
// replaced by a halved step from the last accepted point.
RealPoint newton_real(const Ctx& c, Mode mode, double target, MatrixXd S, double zeta, bool want_K, int max_it) {
  const int m = c.law.m;
  const int p = packed_size(m);
  const MatrixXd I = MatrixXd::Identity(m, m);
  RealPoint pt;
  MatrixXd S_acc, dS_acc;
  double zeta_acc = 0.0, dz_acc = 0.0, merit_acc = std::numeric_limits<double>::infinity();
  double step_acc = std::numeric_limits<double>::infinity();
  bool have_acc = false;
  double t = 1.0;
  int it = 0;
  auto retreat = [&]() {
    t *= 0.5;
    S = S_acc + t * dS_acc;
    zeta = zeta_acc + t * dz_acc;
  };
  while (it < max_it) {
    ++it;
    bool good = S.allFinite() && std::isfinite(zeta);
    Eigen::LLT<MatrixXd> llt;
    detail::RealPassResult r;
    MatrixXd L;
    if (good) {
      llt.compute(0.5 * (S + S.transpose()));
      good = llt.info() == Eigen::Success;
    }
    if (good) {
      L = llt.matrixL();
      detail::RealPassRequest rq;
      rq.L = &L;
      rq.sign = c.sign;
      rq.delta = c.delta;
      rq.tensor = true;
      rq.K = want_K;
      r = detail::real_pass(c.law, rq);
      good = r.domain_ok && r.U.allFinite();
    }
    if (!good) {
      if (!have_acc || t < 1e-8) {
        pt.domain_fail = true;
        break;
      }
      retreat();
      continue;
    }
    const MatrixXd LtL = L.transpose() * L;
    const MatrixXd Phi = I - r.Wbar + (zeta - c.lam) * LtL;
    const VectorXd phi = vec_orth(Phi);
    const MatrixXd Jh = jhat_from_U(r.U, m, c.delta);
    const MatrixXd A = MatrixXd::Identity(p, p) - Jh;
    const double trS = S.trace();
    double merit = phi.norm();
    VectorXd x;
    double dz = 0.0;
    Eigen::FullPivLU<MatrixXd> bordered_lu;
    double cnorm = 1.0;
    if (mode == Mode::fixed_zeta) {
      x = Eigen::FullPivLU<MatrixXd>(A).solve(phi);
    } else {
      const VectorXd cvec = vec_orth(LtL);
      cnorm = cvec.norm();
      const VectorXd cn = cvec / cnorm;
      MatrixXd B = MatrixXd::Zero(p + 1, p + 1);
      B.topLeftCorner(p, p) = A;
      B.topRightCorner(p, 1) = -cn;
      B.bottomLeftCorner(1, p) = cn.transpose();
      VectorXd rhs(p + 1);
      rhs.head(p) = phi;
      rhs(p) = (target - trS) / cnorm;
      bordered_lu.compute(B);
      const VectorXd sol = bordered_lu.solve(rhs);
      x = sol.head(p);
      dz = sol(p) / cnorm;
      merit += std::abs(target - trS) / target;
    }
    if (!x.allFinite() || !std::isfinite(dz)) {
      if (!have_acc || t < 1e-8) break;
      retreat();
      continue;
    }
    const double step = x.norm();
    // Round-off floor of Lᵀ Φ L: ζ − λ is known to ~eps(|ζ| + |λ|) and multiplies LᵀL, which grows
    // like tr S as the branch approaches an atom (ζ → λ-like values with S → ∞).
    const double floor = 16 * std::numeric_limits<double>::epsilon() * (std::abs(zeta) + std::abs(c.lam)) * LtL.norm();
    const double dz_rel = std::abs(dz) / (std::abs(zeta) + c.scale);
    // Stagnation: steps below kStagnationStep that no longer shrink quadratically are round-off
    // (near an atom the informative part of W̃ is O(1/tr S) of its size); accept them.
    const bool stagnated = have_acc && step + dz_rel <= kStagnationStep && step + dz_rel > 0.25 * step_acc;
    const bool converged = ((step <= std::max(c.opt.tol, floor) && dz_rel <= c.opt.tol) || stagnated) &&
                           merit <= std::max(kAcceptResidual, floor);
    if (!converged && have_acc && merit > merit_acc && t > 1.0 / 64) {
      retreat();
      continue;
    }
    if (converged) {
      pt.ok = true;
      pt.S = S;
      pt.L = L;
      pt.s = trS;
      pt.zeta = zeta;
      pt.Jhat = Jh;
      pt.rho = max_eigenvalue_sym(Jh);
      if (want_K) pt.Kt = r.Kt;
      // Tangent of the branch: (I − Ĵ) X' − c ζ' = 0, ⟨c, X'⟩ = 1 (the bordered matrix).
      const VectorXd cvec = vec_orth(LtL);
      if (mode == Mode::fixed_s) {
        VectorXd rhs = VectorXd::Zero(p + 1);
        rhs(p) = 1.0 / cnorm;
        const VectorXd sol = bordered_lu.solve(rhs);
        pt.dzeta_ds = sol(p) / cnorm;
        pt.dS_ds = L * unvec_orth(sol.head(p), m) * L.transpose();
      } else {
        const VectorXd xz = Eigen::FullPivLU<MatrixXd>(A).solve(cvec);
        const double dsdz = cvec.dot(xz);
        pt.dzeta_ds = 1.0 / dsdz;
        pt.dS_ds = L * unvec_orth(xz, m) * L.transpose() / dsdz;
      }
      // Residual ‖S − RHS(S)‖/‖S‖ with RHS(S) = (M + (λ − ζ) I)^{-1}, M = L^{-T} W̃ L^{-1}.
      const MatrixXd Linv = L.triangularView<Eigen::Lower>().solve(I);
      const MatrixXd M = Linv.transpose() * r.Wbar * Linv;
      const MatrixXd rhsS = (M + (c.lam - zeta) * I).inverse();
      pt.residual = (S - rhsS).norm() / S.norm();
      break;
    }
    S_acc = S;
    zeta_acc = zeta;
    step_acc = step + dz_rel;
    dS_acc = L * unvec_orth(x, m) * L.transpose();
    dz_acc = dz;
    merit_acc = merit;
    have_acc = true;
    t = 1.0;
    S = S_acc + dS_acc;
    zeta = zeta_acc + dz_acc;
  }
  pt.iterations = it;
  return pt;
}

// Starting value of s = tr S far below the spectrum: small enough that ζ is ~10³ spectral scales
// below it, that I + D̃/δ ≻ 0 at every node (‖D̃‖ ≤ s‖D‖), and that ρ ≤ 1/9
// (ρ ≤ (1/δ)(s‖D‖/(1 − s‖D‖/δ))² with s‖D‖ ≤ min(δ, √δ)/4).
double start_s(const Ctx& c) {
  double s0 = 1e-3 * c.law.m / c.scale;
  if (c.law.max_norm > 0) s0 = std::min(s0, 0.25 * std::min(c.delta, std::sqrt(c.delta)) / c.law.max_norm);
  return s0;
}

RealPoint branch_point(const Ctx& c, double s, const RealPoint* from, bool want_K, int max_it) {
  if (from) {
    const double ds = s - from->s;
    return newton_real(c, Mode::fixed_s, s, from->S + ds * from->dS_ds, from->zeta + ds * from->dzeta_ds,
                       want_K, max_it);
  }
  const int m = c.law.m;
  const double zeta0 = c.lam + c.sign * c.law.mean_D.trace() / m - m / s;
  return newton_real(c, Mode::fixed_s, s, MatrixXd::Identity(m, m) * (s / m), zeta0, want_K, max_it);
}

// The branch point at s reached from a known point: directly from the tangent predictor if that
// converges, else by sub-steps in log s that shrink on failure (the corrector is regular through
// the fold, so the path may cross it). Fails only if the steps become negligible.
// `max_passes`: give up once this many passes over the law were spent (checked between steps).
RealPoint reach_point(const Ctx& c, double s, const RealPoint& from, bool want_K, int& iterations,
                      int max_passes = std::numeric_limits<int>::max()) {
  constexpr int kCorrectorIterations = 8;
  const double u_target = std::log(s);
  RealPoint cur = from;
  double h = u_target - std::log(cur.s);
  const int start = iterations;
  for (int k = 0; k < 400 && iterations - start <= max_passes; ++k) {
    const double u = std::log(cur.s) + h;
    const bool last = std::abs(u - u_target) <= 1e-15 * std::max(1.0, std::abs(u_target));
    RealPoint q = branch_point(c, last ? s : std::exp(u), &cur, want_K, last ? c.opt.max_iterations : kCorrectorIterations);
    iterations += q.iterations;
    if (q.ok) {
      if (last) return q;
      cur = std::move(q);
      h = u_target - std::log(cur.s);
    } else {
      h *= 0.25;
      if (std::abs(h) < 1e-13) break;
    }
  }
  RealPoint failed;
  failed.ok = false;
  return failed;
}

enum class BranchEnd { running, reached, fold, divergence, boundary, failed };

constexpr double kDivergenceStop = 1e-7;
constexpr double kCleanBracket = 0.02;  // in log s

struct Branch {
  std::vector<RealPoint> pts;   // accepted points on the physical branch, increasing s
  BranchEnd end = BranchEnd::running;
  RealPoint beyond;             // first rejected point past the fold (end == fold)
  int iterations = 0;
  int steps = 0;
};

// A point on the physical side of the real branch: ρ < 1 and ζ increasing in s.
bool physical(const RealPoint& q) { return q.ok && q.rho < 1.0 && q.dzeta_ds > 0.0; }

// Follows the physical branch from s₀ upward until `stop` holds at an accepted point, the fold is
// bracketed (a point with ρ ≥ 1 or dζ/ds ≤ 0), tr S diverges, or the domain boundary stops it.
// `start` (optional): an accepted point on the physical branch to continue from (a warm start),
// with the first log step `h0`; otherwise the branch starts at s₀ with step 0.5.
template <typename Stop>
Branch follow_branch(const Ctx& c, Stop stop, const RealPoint* start = nullptr, double h0 = 0.5) {
  // A corrector from the tangent predictor converges in 2–5 Newton iterations; more means the
  // step left the branch (past a fold, or out of the domain), and a shorter step is cheaper.
  constexpr int kCorrectorIterations = 8;
  constexpr double kMaxLogStep = 2.0;
  constexpr double kMinLogStep = 1e-12;
  Branch br;
  const double s0 = start_s(c);
  if (start) {
    br.pts.push_back(*start);
  } else {
    RealPoint p0 = branch_point(c, s0, nullptr, false, c.opt.max_iterations);
    br.iterations += p0.iterations;
    if (!physical(p0)) {
      br.end = BranchEnd::failed;
      if (p0.ok) br.pts.push_back(std::move(p0));
      return br;
    }
    br.pts.push_back(std::move(p0));
  }
  if (stop(br.pts.back())) {
    br.end = BranchEnd::reached;
    return br;
  }
  double h = start ? h0 : 0.5;
  const double s_cap = s0 * 1e40;
  bool last_fail_domain = false;
  bool cooldown = false;
  while (br.steps < c.opt.max_continuation_steps) {
    ++br.steps;
    const RealPoint& a = br.pts.back();
    double s_new = a.s * std::exp(h);
    // Near a fold 1 − ρ and ζ'(s) → 0 linearly in s: extrapolating them from the last two points
    // estimates the fold s*; stepping to at most s* + (s* − s)/2 brackets it without wandering far
    // onto the unphysical side. (Far from the fold ζ' ∝ 1/s² is convex and its extrapolation too
    // pessimistic, so it is used only once ρ > 1/2.)
    if (br.pts.size() >= 2) {
      const RealPoint& a0 = br.pts[br.pts.size() - 2];
      const double slope_rho = (a.rho - a0.rho) / (a.s - a0.s);
      if (slope_rho > 0) s_new = std::min(s_new, a.s + 1.5 * (1.0 - a.rho) / slope_rho);
      const double slope_dz = (a.dzeta_ds - a0.dzeta_ds) / (a.s - a0.s);
      if (slope_dz < 0 && a.rho > 0.5) s_new = std::min(s_new, a.s - 1.5 * a.dzeta_ds / slope_dz);
    }
    RealPoint q = branch_point(c, s_new, &a, false, kCorrectorIterations);
    br.iterations += q.iterations;
    if (!q.ok) {
      last_fail_domain = q.domain_fail;
      cooldown = true;
      h = 0.25 * std::log(s_new / a.s);
      if (h < kMinLogStep) {
        br.end = last_fail_domain ? BranchEnd::boundary : BranchEnd::failed;
        return br;
      }
      continue;
    }
    if (!physical(q)) {  // q.ok: checked above
      // Accept the bracket only if it is clean (ζ' changed sign just past one fold) or short;
      // a long step can jump over several turns of the unphysical branch.
      const double h_used = std::log(s_new / a.s);
      if ((q.dzeta_ds <= 0.0 && q.rho < 2.0) || h_used <= kCleanBracket) {
        br.beyond = std::move(q);
        br.end = BranchEnd::fold;
        return br;
      }
      cooldown = true;
      h = 0.25 * h_used;
      continue;
    }
    const bool easy = q.iterations <= 4;
    br.pts.push_back(std::move(q));
    const RealPoint& b = br.pts.back();
    if (stop(b)) {
      br.end = BranchEnd::reached;
      return br;
    }
    // tr S → ∞ with ζ converging: the remaining distance to the asymptote is ζ'·s/α when
    // ζ∞ − ζ ∝ s^{−α} (α = 1 for an atom, α > 1 for a hard edge; α ≥ 1 always since |S| ≤ mass /
    // distance). Stop once it is below kDivergenceStop (beyond, the informative part of W̃ is
    // O(1/tr S) of its size and round-off takes over); ρ < 0.999 keeps this away from a fold,
    // where ζ' → 0 too.
    const double remaining = b.dzeta_ds * b.s;
    if ((remaining <= kDivergenceStop * (std::abs(b.zeta) + c.scale) && b.rho < 0.999) || b.s > s_cap) {
      br.end = BranchEnd::divergence;
      return br;
    }
    if (easy && !cooldown) h = std::min(2.0 * h, kMaxLogStep);
    cooldown = false;
  }
  br.end = BranchEnd::failed;
  return br;
}

// Index of the accepted point with s closest to s (in log s).
std::size_t nearest_point(const std::vector<RealPoint>& pts, double s) {
  std::size_t best = 0;
  double bd = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double d = std::abs(std::log(pts[i].s / s));
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

struct EdgeInternal {
  EdgeResult result;
  RealPoint point;  // branch point at (or nearest to) the edge
  Branch branch;
  bool warm = false;  // the branch was started from an edge hint, not from s₀
};

// The branch started from the edge of a nearby problem (S_h, ζ_h): Newton at s = tr S_h from it.
// A physical point there is continued upward with small steps; a point past the fold is kept as
// the bracket's far end once a physical point is found below it (log steps 0.02, 0.08, 0.32,
// 1.28). An empty branch (end failed) tells the caller to start cold.
Branch follow_from_hint(const Ctx& c, const EdgeResult& hint) {
  constexpr double kWarmStep = 0.05;
  Branch br;
  br.end = BranchEnd::failed;
  const int m = c.law.m;
  if (hint.kind != EdgeKind::fold || hint.S.rows() != m || hint.S.cols() != m || !std::isfinite(hint.location)) return br;
  const double s_h = hint.S.trace();
  if (!(s_h > 0) || !std::isfinite(s_h)) return br;
  // The domain is star-shaped in S: a hint outside it (D changed with δ, as for a fixed-point law)
  // is shrunk, as in solve_real_point.
  RealPoint p;
  double shrink = 1.0;
  for (int attempt = 0; attempt < 4; ++attempt, shrink *= 0.5) {
    p = newton_real(c, Mode::fixed_s, s_h * shrink, hint.S * shrink, hint.location, false, c.opt.max_iterations);
    br.iterations += p.iterations;
    if (!(p.domain_fail && p.iterations == 1)) break;
  }
  if (!p.ok) return br;
  auto stop = [](const RealPoint&) { return false; };
  if (physical(p)) {
    // Near the fold (ρ > 0.9) small steps bracket it; farther (the law moved with δ) the usual ones.
    Branch rest = follow_branch(c, stop, &p, p.rho > 0.9 ? kWarmStep : 0.5);
    rest.iterations += br.iterations;
    return rest;
  }
  for (double t : {0.02, 0.08, 0.32, 1.28}) {
    RealPoint q = newton_real(c, Mode::fixed_s, s_h * shrink * std::exp(-t), hint.S * (shrink * std::exp(-t)),
                              hint.location, false, c.opt.max_iterations);
    br.iterations += q.iterations;
    if (!q.ok || !physical(q)) continue;
    // As in follow_branch: the bracket is accepted if clean (ζ' changed sign just past one fold)
    // or short; otherwise the branch is followed up from q.
    if ((p.dzeta_ds <= 0.0 && p.rho < 2.0) || t <= kCleanBracket) {
      br.pts.push_back(std::move(q));
      br.beyond = std::move(p);
      br.end = BranchEnd::fold;
      return br;
    }
    Branch rest = follow_branch(c, stop, &q, kWarmStep);
    rest.iterations += br.iterations;
    return rest;
  }
  return br;
}

// Lower edge of the σ-problem: follows the branch; at a fold, a bracketed root (TOMS 748) in
// u = log s of dζ/ds (or of 1 − ρ if dζ/ds does not change sign on the bracket).
EdgeInternal edge_impl(const Ctx& c, const EdgeResult* hint = nullptr) {
  EdgeInternal E;
  int warm_passes = 0;
  if (hint) {
    Branch warm = follow_from_hint(c, *hint);
    warm_passes = warm.iterations;
    if (warm.end != BranchEnd::failed && !warm.pts.empty()) {
      E.branch = std::move(warm);
      E.warm = true;
    }
  }
  if (!E.warm) {
    E.branch = follow_branch(c, [](const RealPoint&) { return false; });
    E.branch.iterations += warm_passes;
  }
  Branch& br = E.branch;
  EdgeResult& res = E.result;
  res.steps = br.steps;
  res.iterations = br.iterations;
  if (br.pts.empty()) {
    res.status = Status::numerical_issue;
    return E;
  }
  const RealPoint& last = br.pts.back();
  res.S = last.S;
  res.jacobian_radius = last.rho;
  E.point = last;
  switch (br.end) {
    case BranchEnd::divergence: {
      res.kind = EdgeKind::divergence;
      // ζ∞ − ζ = C s^{−α}: α + 1 = −d log ζ'/d log s from the last two points, clamped to [1, 10].
      double alpha = 1.0;
      if (br.pts.size() >= 2) {
        const RealPoint& prev = br.pts[br.pts.size() - 2];
        const double a1 = -std::log(last.dzeta_ds / prev.dzeta_ds) / std::log(last.s / prev.s) - 1.0;
        if (std::isfinite(a1)) alpha = std::clamp(a1, 1.0, 10.0);
      }
      const double gap = last.dzeta_ds * last.s;
      res.location = last.zeta + gap / alpha;
      res.bracket = {last.zeta, last.zeta + gap};
      res.status = Status::success;
      return E;
    }
    case BranchEnd::boundary: {
      res.kind = EdgeKind::boundary;
      res.location = last.zeta;
      res.bracket = {last.zeta, last.zeta + last.dzeta_ds * last.s * 1e-11};
      res.status = Status::success;
      return E;
    }
    case BranchEnd::fold: break;
    default: {
      res.kind = EdgeKind::none;
      res.location = last.zeta;
      res.bracket = {last.zeta, std::numeric_limits<double>::infinity()};
      res.status = Status::not_converged;
      return E;
    }
  }
  res.kind = EdgeKind::fold;
  RealPoint lo = last;
  RealPoint hi = br.beyond;
  const bool use_dzeta = hi.dzeta_ds <= 0.0;
  auto f_of = [&](const RealPoint& q) { return use_dzeta ? q.dzeta_ds * q.s : 1.0 - q.rho; };
  Status status = Status::success;
  RealPoint best = lo;
  // Evaluates f at u (log tr S), moving lo or hi there; false when the corrector fails. A point
  // very close to the fold can defeat reach_point's sub-steps: measured on a softplus m = 3
  // fixed-point law at δ = 2, TOMS 748's third point, 1.5e-6 below the fold in log tr S, took
  // 1771–2499 passes over the law of step-halving from the nearer end (and failed for one rounding
  // of the law), where the other evaluations took 2–40. So each end gets kFoldEvalPasses passes,
  // then the other end is tried.
  constexpr int kFoldEvalPasses = 100;
  double value = 0.0;
  auto evaluate = [&](double u) {
    const double s = std::exp(u);
    const bool from_lo = std::abs(u - std::log(lo.s)) <= std::abs(u - std::log(hi.s));
    RealPoint q = reach_point(c, s, from_lo ? lo : hi, false, res.iterations, kFoldEvalPasses);
    if (!q.ok) q = reach_point(c, s, from_lo ? hi : lo, false, res.iterations, kFoldEvalPasses);
    ++res.steps;
    if (!q.ok) return false;
    value = f_of(q);
    if (q.zeta > best.zeta) best = q;
    if (value > 0) lo = q;
    else hi = q;
    return true;
  };
  bool evaluation_failed = false;
  auto f = [&](double u) {
    if (evaluate(u)) return value;
    evaluation_failed = true;
    return 0.0;  // stops TOMS 748 here; the bisection below goes on
  };
  const double u_lo = std::log(lo.s), u_hi = std::log(hi.s);
  const double f_lo = f_of(lo), f_hi = f_of(hi);
  const double rtol = c.opt.root_tol;
  auto tol = [rtol](double a, double b) { return std::abs(b - a) <= rtol * std::max(1.0, std::abs(a)); };
  std::uintmax_t max_iter = 200;
  if (f_lo > 0 && f_hi <= 0) {
    try {
      boost::math::tools::toms748_solve(f, u_lo, u_hi, f_lo, f_hi, tol, max_iter);
    } catch (const std::exception&) {
      status = Status::numerical_issue;
    }
    if (max_iter >= 200) status = worst(status, Status::not_converged);
    if (evaluation_failed) {
      // Bisection on the bracket [lo, hi] the evaluations kept: any interior point will do, so a
      // point where the corrector fails is replaced by another one.
      bool ok = true;
      for (int it = 0; it < 200 && ok && !tol(std::log(lo.s), std::log(hi.s)); ++it) {
        const double a = std::log(lo.s), b = std::log(hi.s);
        ok = false;
        for (double t : {0.5, 0.25, 0.75, 0.125, 0.875}) {
          if (evaluate(a + t * (b - a))) {
            ok = true;
            break;
          }
        }
      }
      status = ok && tol(std::log(lo.s), std::log(hi.s)) ? Status::success : Status::numerical_issue;
    }
  } else {
    status = Status::numerical_issue;
  }
  // ζ(s) has its maximum ζ₋ at the fold: ζ₋ ≥ every ζ on the branch, and by concavity near the
  // maximum ζ₋ ≤ ζ(lo) + ζ'(lo)(s_hi − s_lo).
  const double upper = std::max(best.zeta, lo.zeta + lo.dzeta_ds * (hi.s - lo.s));
  res.location = best.zeta;
  res.bracket = {best.zeta, upper};
  // The point that stands for the edge (its S, and K there for R2): the converged bracket's
  // physical end, within root_tol of the fold in log s. Not the point of largest ζ: ζ is flat at
  // the fold (ζ₋ − ζ ∝ (s − s*)²), so points within ~1e-8 of s* tie in ζ to round-off and the
  // largest could be any of them, while K moves by dK/ds·(s − s*) (measured: K's lowest eigenvalue
  // at the edge 5e-9 apart between two continuations at the same δ, 2e-12 with this choice).
  E.point = status == Status::success ? lo : best;
  res.S = E.point.S;
  res.jacobian_radius = E.point.rho;
  res.status = status;
  return E;
}

// dS/dζ on the real branch at a point: (I − Ĵ) X = LᵀL in the L frame, dS/dζ = L X Lᵀ. Returns X.
MatrixXd dS_dzeta_frame(const RealPoint& pt, int m) {
  const int p = packed_size(m);
  const VectorXd cvec = vec_orth(pt.L.transpose() * pt.L);
  const VectorXd x = Eigen::FullPivLU<MatrixXd>(MatrixXd::Identity(p, p) - pt.Jhat).solve(cvec);
  return unvec_orth(x, m);
}

// K(ζ) = (I ⊗ L^{-T}) K̃ (I ⊗ L^{-1}) + (λ − ζ) I and, if requested, dK/dζ.
void assemble_K(const Ctx& c, const RealPoint& pt, const MatrixXd& Kt, MatrixXd& K, MatrixXd* dK) {
  const int m = c.law.m, k = c.law.k_h;
  const MatrixXd I = MatrixXd::Identity(m, m);
  const MatrixXd LinvT = pt.L.triangularView<Eigen::Lower>().solve(I).transpose();
  K = block_congruence(Kt, LinvT, k);
  K = 0.5 * (K + K.transpose()).eval();
  K.diagonal().array() += c.lam - pt.zeta;
  if (dK) {
    const MatrixXd X = dS_dzeta_frame(pt, m);
    detail::RealPassRequest rq;
    rq.L = &pt.L;
    rq.sign = c.sign;
    rq.delta = c.delta;
    rq.X = &X;
    const detail::RealPassResult r = detail::real_pass(c.law, rq);
    *dK = -block_congruence(r.Kd, LinvT, k) / c.delta;
    *dK = 0.5 * (*dK + dK->transpose()).eval();
    dK->diagonal().array() -= 1.0;
  }
}

RealSolution to_solution(const RealPoint& pt, double zeta) {
  RealSolution s;
  s.zeta = zeta;
  s.S = pt.S;
  s.jacobian_radius = pt.rho;
  s.residual = pt.residual;
  s.iterations = pt.iterations;
  s.status = pt.ok ? Status::success : Status::not_converged;
  return s;
}

// E[D X D] for symmetric X from the second moments E[D_ac D_db] (no pass over the law).
MatrixXd second_moment_map(const PreparedLaw& law, const MatrixXd& X) {
  const int m = law.m;
  MatrixXd Y(m, m);
  for (int a = 0; a < m; ++a)
    for (int b = a; b < m; ++b) {
      double v = 0.0;
      for (int cc = 0; cc < m; ++cc)
        for (int d = 0; d < m; ++d) v += law.DD(packed_index(m, a, cc), packed_index(m, d, b)) * X(cc, d);
      Y(a, b) = v;
      Y(b, a) = v;
    }
  return Y;
}

// Cold start for R1 at real ζ from the expansion M(S) = E[D] − (1/δ) E[D S D] + O(S²):
// S = (E[σD] − (1/δ) E[D S D] + (σλ − ζ) I)^{-1} by damped iteration on m×m matrices, using the
// precomputed second moments. Falls back to the first-order (E[σD] + (σλ − ζ) I)^{-1}, or to an
// empty matrix (no cold guess) when that is not positive definite.
MatrixXd second_order_guess(const Ctx& c, double zeta) {
  const int m = c.law.m;
  const MatrixXd I = MatrixXd::Identity(m, m);
  const MatrixXd A0 = c.sign * c.law.mean_D + (c.lam - zeta) * I;
  Eigen::LLT<MatrixXd> llt(A0);
  if (llt.info() != Eigen::Success) return MatrixXd();
  const MatrixXd first = llt.solve(I);
  MatrixXd S = first;
  for (int it = 0; it < 50; ++it) {
    const MatrixXd A = A0 - second_moment_map(c.law, S) / c.delta;
    Eigen::LLT<MatrixXd> l2(A);
    if (l2.info() != Eigen::Success) return first;
    const MatrixXd next = l2.solve(I);
    const double change = (next - S).norm() / S.norm();
    S = 0.5 * (S + next);
    if (change < 1e-10) break;
  }
  return S.allFinite() ? S : first;
}

// R1 at real ζ on the physical branch of the σ-problem (see StieltjesSolver::solve_real).
RealPoint solve_real_point(const Ctx& c, double zeta, const MatrixXd* warm, bool want_K, int& iterations,
                           Status& status) {
  auto certified = [](const RealPoint& q) { return q.ok && q.rho < 1.0 && q.dzeta_ds > 0.0; };
  MatrixXd guess;
  if (warm) {
    guess = *warm;
  } else {
    guess = second_order_guess(c, zeta);
  }
  // The domain is star-shaped in S (D̃ scales with S), so a guess outside it is shrunk.
  for (int attempt = 0; attempt < 4 && guess.size() > 0; ++attempt) {
    RealPoint q = newton_real(c, Mode::fixed_zeta, zeta, guess, zeta, want_K, c.opt.max_iterations);
    iterations += q.iterations;
    if (certified(q)) {
      status = Status::success;
      return q;
    }
    if (!(q.domain_fail && q.iterations == 1)) break;
    guess *= 0.5;
  }
  // Fallback: the branch from ζ = −∞ up to its fold, then the point with ζ(s) = ζ on it.
  EdgeInternal E = edge_impl(c);
  iterations += E.result.iterations;
  std::vector<RealPoint>& pts = E.branch.pts;
  if (E.result.status != Status::success || pts.empty() || !(zeta < E.result.location)) {
    status = Status::numerical_issue;  // ζ is not below the lower edge (or the branch failed)
    RealPoint q = pts.empty() ? RealPoint{} : pts.back();
    q.ok = false;
    return q;
  }
  if (E.point.ok && E.point.s > pts.back().s) pts.push_back(E.point);
  std::size_t hi_i = 0;
  while (hi_i < pts.size() && pts[hi_i].zeta < zeta) ++hi_i;
  RealPoint start_pt = pts[std::min(hi_i, pts.size() - 1)];
  if (hi_i > 0 && hi_i < pts.size()) {
    RealPoint lo_pt = pts[hi_i - 1], hi_pt = pts[hi_i];
    bool failed = false;
    auto g = [&](double u) {
      const RealPoint& from = (std::abs(u - std::log(lo_pt.s)) <= std::abs(u - std::log(hi_pt.s))) ? lo_pt : hi_pt;
      RealPoint q = reach_point(c, std::exp(u), from, false, iterations);
      if (!q.ok) {
        failed = true;
        return 0.0;
      }
      if (q.zeta < zeta) lo_pt = q;
      else hi_pt = q;
      return q.zeta - zeta;
    };
    std::uintmax_t max_iter = 100;
    const double rtol = 1e-6;  // only a starting point for the Newton polish below
    try {
      boost::math::tools::toms748_solve(g, std::log(lo_pt.s), std::log(hi_pt.s), lo_pt.zeta - zeta,
                                        hi_pt.zeta - zeta,
                                        [rtol](double a, double b) { return std::abs(b - a) <= rtol; }, max_iter);
    } catch (const std::exception&) {
      failed = true;
    }
    start_pt = (std::abs(lo_pt.zeta - zeta) <= std::abs(hi_pt.zeta - zeta)) ? lo_pt : hi_pt;
    (void)failed;
  }
  RealPoint q = newton_real(c, Mode::fixed_zeta, zeta, start_pt.S, zeta, want_K, c.opt.max_iterations);
  iterations += q.iterations;
  status = certified(q) ? Status::success : (q.ok ? Status::numerical_issue : Status::not_converged);
  return q;
}

// ---------------------------------------------------------------------------------------------
// Complex ζ.

struct ComplexCtx {
  const PreparedLaw& law;
  double delta;
  double lam;
  const StieltjesOptions& opt;
  double scale;
};

double complex_residual(const MatrixXcd& S, const MatrixXcd& Wbar, cd zeta, double lam) {
  const int m = static_cast<int>(S.rows());
  const MatrixXcd rhs = (Wbar + (lam - zeta) * MatrixXcd::Identity(m, m)).inverse();
  return (S - rhs).norm() / S.norm();
}

// Newton on Φ(S) = S^{-1} − E[W] + (ζ − λ)I = 0 in plain packed coordinates of complex Sym_m.
ComplexSolution newton_complex(const ComplexCtx& c, cd zeta, MatrixXcd S, int max_it) {
  const int m = c.law.m;
  const int p = packed_size(m);
  const MatrixXcd I = MatrixXcd::Identity(m, m);
  ComplexSolution out;
  out.zeta = zeta;
  MatrixXcd S_acc, dS_acc;
  double merit_acc = std::numeric_limits<double>::infinity();
  bool have_acc = false;
  double t = 1.0;
  int it = 0;
  while (it < max_it) {
    ++it;
    detail::ComplexPassResult r;
    bool good = S.allFinite();
    if (good) {
      r = detail::complex_pass(c.law, S, c.delta, true);
      good = r.finite && r.U.allFinite();
    }
    Eigen::PartialPivLU<MatrixXcd> slu;
    MatrixXcd R;
    if (good) {
      slu.compute(S);
      R = slu.inverse();
      good = R.allFinite();
    }
    if (!good) {
      if (!have_acc || t < 1e-8) break;
      t *= 0.5;
      S = S_acc + t * dS_acc;
      continue;
    }
    const MatrixXcd Phi = R - r.Wbar + (zeta - c.lam) * I;
    const double res = complex_residual(S, r.Wbar, zeta, c.lam);
    Eigen::MatrixXcd Jc(p, p);
    Eigen::VectorXcd phi(p);
    auto U = [&](int a, int b, int cc, int d) { return r.U(packed_index(m, a, b), packed_index(m, cc, d)); };
    for (int a = 0; a < m; ++a)
      for (int b = a; b < m; ++b) phi[packed_index(m, a, b)] = Phi(a, b);
    for (int cc = 0; cc < m; ++cc)
      for (int d = cc; d < m; ++d) {
        const int beta = packed_index(m, cc, d);
        for (int a = 0; a < m; ++a)
          for (int b = a; b < m; ++b) {
            const int alpha = packed_index(m, a, b);
            cd v;
            if (cc == d)
              v = -R(a, cc) * R(cc, b) + U(a, cc, cc, b) / c.delta;
            else
              v = -(R(a, cc) * R(d, b) + R(a, d) * R(cc, b)) + (U(a, cc, d, b) + U(a, d, cc, b)) / c.delta;
            Jc(alpha, beta) = v;
          }
      }
    // Symmetric diagonal scaling g_(a,b) = (|S_aa||S_bb|)^{1/2}: near an atom S has entries ~1/η
    // and the columns of S^{-1} E S^{-1} entries ~η², which a rank-revealing LU would discard.
    Eigen::VectorXd g(p);
    for (int a = 0; a < m; ++a)
      for (int b = a; b < m; ++b) g[packed_index(m, a, b)] = std::sqrt(std::abs(S(a, a)) * std::abs(S(b, b))) + 1e-300;
    const Eigen::MatrixXcd Js = g.asDiagonal() * Jc * g.asDiagonal();
    const Eigen::VectorXcd y = Js.partialPivLu().solve(-(g.asDiagonal() * phi).eval());
    const Eigen::VectorXcd x = g.asDiagonal() * y;
    MatrixXcd dS(m, m);
    for (int a = 0; a < m; ++a)
      for (int b = a; b < m; ++b) {
        dS(a, b) = x[packed_index(m, a, b)];
        dS(b, a) = dS(a, b);
      }
    if (!dS.allFinite()) {
      if (!have_acc || t < 1e-8) break;
      t *= 0.5;
      S = S_acc + t * dS_acc;
      continue;
    }
    const double step = dS.norm() / S.norm();
    if (step <= c.opt.tol && res <= kAcceptResidual) {
      out.S = S;
      out.residual = res;
      out.iterations = it;
      out.min_imag_eigenvalue = min_imag_eigenvalue(S);
      out.status = Status::success;
      return out;
    }
    if (have_acc && res > merit_acc && t > 1.0 / 64) {
      t *= 0.5;
      S = S_acc + t * dS_acc;
      continue;
    }
    S_acc = S;
    dS_acc = dS;
    merit_acc = res;
    have_acc = true;
    t = 1.0;
    S = S_acc + dS_acc;
  }
  out.S = S;
  out.iterations = it;
  out.residual = std::numeric_limits<double>::quiet_NaN();
  out.status = Status::not_converged;
  return out;
}

bool physical(const ComplexSolution& s) { return s.status == Status::success && s.min_imag_eigenvalue > 0.0; }

// Damped fixed point S ← (1 − θ) S + θ RHS(S) (converges for Im ζ > 0; slowly when Im ζ is small).
ComplexSolution fixed_point_complex(const ComplexCtx& c, cd zeta, MatrixXcd S) {
  const int m = c.law.m;
  const MatrixXcd I = MatrixXcd::Identity(m, m);
  ComplexSolution out;
  out.zeta = zeta;
  const double theta = c.opt.damping;
  for (int it = 1; it <= c.opt.max_fixed_point_iterations; ++it) {
    const detail::ComplexPassResult r = detail::complex_pass(c.law, S, c.delta, false);
    if (!r.finite) break;
    const MatrixXcd rhs = (r.Wbar + (c.lam - zeta) * I).inverse();
    const double res = (S - rhs).norm() / S.norm();
    out.iterations = it;
    if (res <= 1e-8) {
      out.S = S;
      out.residual = res;
      out.status = Status::success;
      return out;
    }
    S = (1.0 - theta) * S + theta * rhs;
  }
  out.S = S;
  out.status = Status::not_converged;
  return out;
}

struct Ladder {
  ComplexSolution at_eta;   // at x + iη
  ComplexSolution at_10eta; // at x + 10iη (if η·10 ≤ top), else a copy of at_eta
  int iterations = 0;
};

// Continuation in η at fixed x from η_top ~ scale (where Newton and the fixed point converge from
// (E[D] + (λ − ζ) I)^{-1}) down to η by factors of 10, halving the factor (geometrically) on failure.
Ladder ladder_complex(const ComplexCtx& c, double x, double eta) {
  const int m = c.law.m;
  Ladder L;
  const double top = std::max(c.scale, eta);
  int J = static_cast<int>(std::ceil(std::log10(top / eta) - 1e-12));
  J = std::max(J, 0);
  double cur_eta = eta * std::pow(10.0, J);
  cd zeta(x, cur_eta);
  const MatrixXcd start = (c.law.mean_D.cast<cd>() + (c.lam - zeta) * MatrixXcd::Identity(m, m)).inverse();
  ComplexSolution sol = newton_complex(c, zeta, start, c.opt.max_iterations);
  L.iterations += sol.iterations;
  if (!physical(sol)) {
    ComplexSolution fp = fixed_point_complex(c, zeta, start);
    L.iterations += fp.iterations;
    sol = newton_complex(c, zeta, fp.S, c.opt.max_iterations);
    L.iterations += sol.iterations;
  }
  if (!physical(sol)) {
    L.at_eta = sol;
    L.at_eta.status = Status::not_converged;
    L.at_10eta = L.at_eta;
    return L;
  }
  ComplexSolution prev10 = sol;
  for (int j = J - 1; j >= 0; --j) {
    const double target = eta * std::pow(10.0, j);
    double factor = target / cur_eta;  // < 1
    while (cur_eta > target * (1 + 1e-12)) {
      const double next = std::max(target, cur_eta * factor);
      ComplexSolution q = newton_complex(c, cd(x, next), sol.S, c.opt.max_iterations);
      L.iterations += q.iterations;
      if (physical(q)) {
        sol = q;
        cur_eta = next;
        factor = std::min(factor * factor, target / cur_eta);
      } else {
        factor = std::sqrt(factor);
        if (factor > 1 - 1e-6) {
          L.at_eta = q;
          L.at_eta.status = Status::not_converged;
          L.at_10eta = prev10;
          return L;
        }
      }
    }
    if (j == 1) prev10 = sol;
  }
  L.at_eta = sol;
  L.at_10eta = (J >= 1) ? prev10 : sol;
  return L;
}

// ρ(η) − ρ(0) ≈ cη inside the bulk and ≈ c√η at an edge: ρ(10η) − ρ(η) is then 9cη resp.
// (√10 − 1)c√η. Dividing by √10 − 1 gives an error bound valid in both regimes.
constexpr double kEtaErrorDivisor = 2.1622776601683795;

double density_of(const ComplexSolution& s, int m) { return s.S.diagonal().imag().sum() / (M_PI * m); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// StieltjesSolver.

StieltjesSolver::StieltjesSolver(const WeightLaw& law, double delta, double ridge, const StieltjesOptions& options)
    : delta_(delta), ridge_(ridge), options_(options) {
  law.validate();
  options.validate();
  if (!(std::isfinite(delta) && delta > 0.0))
    throw InputError("delta", "StieltjesSolver: delta = " + num(delta) + " (accepted: finite and > 0)");
  if (!std::isfinite(ridge))
    throw InputError("ridge", "StieltjesSolver: ridge = " + num(ridge) + " (accepted: finite)");
  auto P = std::make_shared<PreparedLaw>();
  const int m = law.m;
  P->m = m;
  P->k_h = law.k_h;
  P->n = law.size();
  P->w = law.weight;
  P->z = law.z_h;
  P->D.resize(law.D.size());
  P->mean_D = MatrixXd::Zero(m, m);
  double sq = 0.0;
  for (std::size_t i = 0; i < P->n; ++i) {
    const double* d = law.D.data() + i * m * m;
    double* o = P->D.data() + i * m * m;
    double f2 = 0.0;
    for (int a = 0; a < m; ++a)
      for (int b = 0; b < m; ++b) {
        const double v = 0.5 * (d[a * m + b] + d[b * m + a]);
        o[a * m + b] = v;
        P->mean_D(a, b) += P->w[i] * v;
        f2 += v * v;
      }
    sq += P->w[i] * f2;
    P->max_norm = std::max(P->max_norm, std::sqrt(f2));
  }
  P->rms = std::sqrt(sq / m);
  const int p = packed_size(m);
  P->DD = MatrixXd::Zero(p, p);
  VectorXd d(p);
  for (std::size_t i = 0; i < P->n; ++i) {
    const double* o = P->D.data() + i * m * m;
    for (int a = 0; a < m; ++a)
      for (int b = a; b < m; ++b) d[packed_index(m, a, b)] = o[a * m + b];
    P->DD.selfadjointView<Eigen::Lower>().rankUpdate(d, P->w[i]);
  }
  P->DD = P->DD.selfadjointView<Eigen::Lower>();
  law_ = std::move(P);
}

StieltjesSolver::StieltjesSolver(std::shared_ptr<const detail::PreparedLaw> law, double delta, double ridge,
                                 const StieltjesOptions& options)
    : law_(std::move(law)), delta_(delta), ridge_(ridge), options_(options) {
  if (!(std::isfinite(delta) && delta > 0.0))
    throw InputError("delta", "StieltjesSolver: delta = " + num(delta) + " (accepted: finite and > 0)");
  if (!std::isfinite(ridge))
    throw InputError("ridge", "StieltjesSolver: ridge = " + num(ridge) + " (accepted: finite)");
}

StieltjesSolver StieltjesSolver::with(double delta, double ridge) const {
  return StieltjesSolver(law_, delta, ridge, options_);
}

int StieltjesSolver::m() const { return law_->m; }
int StieltjesSolver::k_h() const { return law_->k_h; }

double StieltjesSolver::scale() const {
  if (law_->rms <= 0.0) return 1.0;
  const double g = 1.0 + 1.0 / std::sqrt(delta_);
  return law_->rms * g * g;
}

ComplexSolution StieltjesSolver::solve(std::complex<double> zeta, const Eigen::MatrixXcd* warm_start) const {
  if (!(std::isfinite(zeta.real()) && std::isfinite(zeta.imag()) && zeta.imag() > 0.0))
    throw InputError("zeta", "StieltjesSolver::solve: zeta must be finite with Im zeta > 0");
  const ComplexCtx c{*law_, delta_, ridge_, options_, scale()};
  int iterations = 0;
  if (warm_start) {
    if (warm_start->rows() != m() || warm_start->cols() != m())
      throw InputError("warm_start", "StieltjesSolver::solve: warm_start must be m×m");
    ComplexSolution q = newton_complex(c, zeta, *warm_start, options_.max_iterations);
    iterations += q.iterations;
    if (physical(q)) return q;
  }
  Ladder L = ladder_complex(c, zeta.real(), zeta.imag());
  L.at_eta.iterations = iterations + L.iterations;
  return L.at_eta;
}

RealSolution StieltjesSolver::solve_real(double zeta, const Eigen::MatrixXd* warm_start) const {
  if (!std::isfinite(zeta)) throw InputError("zeta", "StieltjesSolver::solve_real: zeta must be finite");
  if (warm_start && (warm_start->rows() != m() || warm_start->cols() != m()))
    throw InputError("warm_start", "StieltjesSolver::solve_real: warm_start must be m×m");
  const Ctx c{*law_, delta_, ridge_, 1.0, options_, scale()};
  int iterations = 0;
  Status status = Status::not_computed;
  const RealPoint pt = solve_real_point(c, zeta, warm_start, false, iterations, status);
  RealSolution s = to_solution(pt, zeta);
  s.iterations = iterations;
  s.status = status;
  return s;
}

DensityResult StieltjesSolver::density(const std::vector<double>& x) const {
  for (double v : x)
    if (!std::isfinite(v)) throw InputError("x", "StieltjesSolver::density: grid points must be finite");
  const ComplexCtx c{*law_, delta_, ridge_, options_, scale()};
  const int mm = m();
  DensityResult out;
  out.x = x;
  out.eta = options_.eta * scale();
  const double eta = out.eta;
  out.density.assign(x.size(), 0.0);
  out.error.assign(x.size(), 0.0);
  out.point_status.assign(x.size(), Status::not_computed);
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  bool have_prev = false;
  ComplexSolution prev10;
  Status status = Status::success;
  for (std::size_t idx : order) {
    const double xi = x[idx];
    ComplexSolution a, b;
    bool got = false;
    if (have_prev) {
      a = newton_complex(c, cd(xi, 10 * eta), prev10.S, options_.max_iterations);
      out.iterations += a.iterations;
      if (physical(a)) {
        b = newton_complex(c, cd(xi, eta), a.S, options_.max_iterations);
        out.iterations += b.iterations;
        got = physical(b);
      }
    }
    if (!got) {
      Ladder L = ladder_complex(c, xi, eta);
      out.iterations += L.iterations;
      a = L.at_10eta;
      b = L.at_eta;
      got = physical(b);
    }
    if (got) {
      const double r1 = density_of(b, mm);
      const double r10 = density_of(a, mm);
      out.density[idx] = r1;
      out.error[idx] = std::abs(r1 - r10) / kEtaErrorDivisor;
      out.point_status[idx] = Status::success;
      prev10 = a;
      have_prev = true;
    } else {
      out.density[idx] = std::numeric_limits<double>::quiet_NaN();
      out.error[idx] = std::numeric_limits<double>::infinity();
      out.point_status[idx] = Status::not_converged;
      status = worst(status, Status::not_converged);
      have_prev = false;
    }
  }
  out.status = x.empty() ? Status::success : status;
  return out;
}

double StieltjesSolver::atom_mass(double x) const {
  if (!std::isfinite(x)) throw InputError("x", "StieltjesSolver::atom_mass: x must be finite");
  const ComplexCtx c{*law_, delta_, ridge_, options_, scale()};
  const double eta = options_.eta * scale();
  const Ladder L = ladder_complex(c, x, eta);
  if (!physical(L.at_eta)) return std::numeric_limits<double>::quiet_NaN();
  return eta * L.at_eta.S.diagonal().imag().sum() / m();
}

EdgeResult StieltjesSolver::lower_edge() const {
  const Ctx c{*law_, delta_, ridge_, 1.0, options_, scale()};
  return edge_impl(c).result;
}

EdgeResult StieltjesSolver::upper_edge() const {
  const Ctx c{*law_, delta_, -ridge_, -1.0, options_, scale()};
  EdgeResult r = edge_impl(c).result;
  r.location = -r.location;
  r.bracket = {-r.bracket[1], -r.bracket[0]};
  r.S = -r.S;  // S of H at the upper edge: S_H(ζ) = −S_{−H}(−ζ)
  return r;
}

KDiagnostics StieltjesSolver::K_matrix(double zeta) const {
  if (k_h() < 1) throw InputError("k_h", "StieltjesSolver::K_matrix: the law has k_h = 0 (accepted: 1..3)");
  if (!std::isfinite(zeta)) throw InputError("zeta", "StieltjesSolver::K_matrix: zeta must be finite");
  const Ctx c{*law_, delta_, ridge_, 1.0, options_, scale()};
  KDiagnostics out;
  out.zeta = zeta;
  int iterations = 0;
  Status status = Status::not_computed;
  const RealPoint pt = solve_real_point(c, zeta, nullptr, true, iterations, status);
  out.solution = to_solution(pt, zeta);
  out.solution.iterations = iterations;
  out.solution.status = status;
  out.status = status;
  if (status != Status::success) return out;
  assemble_K(c, pt, pt.Kt, out.K, &out.dK);
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(out.K);
  out.eigenvalues = es.eigenvalues();
  out.eigenvectors = es.eigenvectors();
  out.min_eigenvalue = out.eigenvalues(0);
  return out;
}

OutlierResult StieltjesSolver::outliers(const EdgeResult* edge_hint) const {
  if (k_h() < 1) throw InputError("k_h", "StieltjesSolver::outliers: the law has k_h = 0 (accepted: 1..3)");
  const Ctx c{*law_, delta_, ridge_, 1.0, options_, scale()};
  OutlierResult out;
  EdgeInternal E = edge_impl(c, edge_hint);
  out.edge = E.result;
  out.iterations = E.result.iterations;
  if (E.result.status == Status::not_computed || E.branch.pts.empty() || E.point.L.size() == 0) {
    out.status = Status::numerical_issue;
    return out;
  }
  Status status = E.result.status;
  const int m = c.law.m, k = c.law.k_h;
  // Adds K̃ = E[z zᵀ ⊗ W̃] at a branch point computed without it.
  auto with_K = [&](RealPoint pt) {
    if (pt.Kt.size() == 0) {
      detail::RealPassRequest rq;
      rq.L = &pt.L;
      rq.sign = 1.0;
      rq.delta = c.delta;
      rq.K = true;
      pt.Kt = detail::real_pass(c.law, rq).Kt;
      ++out.iterations;
    }
    return pt;
  };
  const RealPoint edge_pt = with_K(E.point);
  MatrixXd K_edge;
  assemble_K(c, edge_pt, edge_pt.Kt, K_edge, nullptr);
  Eigen::SelfAdjointEigenSolver<MatrixXd> es_edge(K_edge, Eigen::EigenvaluesOnly);
  out.k_min_at_edge = es_edge.eigenvalues()(0);
  int n_neg = 0;
  for (int j = 0; j < k * m; ++j)
    if (es_edge.eigenvalues()(j) < 0.0) ++n_neg;
  std::vector<RealPoint>& pts = E.branch.pts;
  const double rtol = c.opt.root_tol;
  auto tol = [rtol](double a, double b) { return std::abs(b - a) <= rtol * std::max(1.0, std::abs(a)); };
  for (int j = 0; j < n_neg; ++j) {
    auto kj = [&](const RealPoint& q) {
      MatrixXd K;
      assemble_K(c, q, q.Kt, K, nullptr);
      Eigen::SelfAdjointEigenSolver<MatrixXd> es(K, Eigen::EigenvaluesOnly);
      return es.eigenvalues()(j);
    };
    RealPoint lo_pt = with_K(pts.front()), hi_pt = edge_pt;
    if (E.warm) {
      // The warm branch starts near the fold, where K may already be negative: then the bracket's
      // lower end is the cold start s₀ (ζ → −∞, K ≻ 0), and its point joins the branch's points.
      if (!(kj(lo_pt) > 0)) {
        RealPoint p0 = branch_point(c, start_s(c), nullptr, false, c.opt.max_iterations);
        out.iterations += p0.iterations;
        if (physical(p0)) {
          lo_pt = with_K(p0);
          pts.insert(pts.begin(), lo_pt);
        }
      }
    }
    auto eval_point = [&](double u, bool want_K) {
      const double s = std::exp(u);
      const std::size_t i = nearest_point(pts, s);
      const RealPoint* from = &pts[i];
      if (std::abs(std::log(hi_pt.s / s)) < std::abs(std::log(from->s / s))) from = &hi_pt;
      if (std::abs(std::log(lo_pt.s / s)) < std::abs(std::log(from->s / s))) from = &lo_pt;
      RealPoint q = reach_point(c, s, *from, want_K, out.iterations);
      return q;
    };
    bool failed = false;
    auto g = [&](double u) {
      RealPoint q = eval_point(u, true);
      if (!q.ok) {
        failed = true;
        return 0.0;
      }
      const double v = kj(q);
      if (v > 0) lo_pt = q;
      else hi_pt = q;
      return v;
    };
    const double g_lo = kj(lo_pt);
    const double g_hi = kj(hi_pt);
    if (!(g_lo > 0 && g_hi < 0)) {
      status = worst(status, Status::numerical_issue);
      continue;
    }
    std::uintmax_t max_iter = 200;
    try {
      boost::math::tools::toms748_solve(g, std::log(lo_pt.s), std::log(hi_pt.s), g_lo, g_hi, tol, max_iter);
    } catch (const std::exception&) {
      failed = true;
    }
    if (failed) status = worst(status, Status::numerical_issue);
    if (max_iter >= 200) status = worst(status, Status::not_converged);
    // Report at the end of the final bracket with the smaller |λ_j(K)|.
    const RealPoint root_pt = [&] {
      const double gl = kj(lo_pt), gh = kj(hi_pt);
      return std::abs(gl) <= std::abs(gh) ? lo_pt : hi_pt;
    }();
    MatrixXd K, dK;
    assemble_K(c, root_pt, root_pt.Kt, K, &dK);
    ++out.iterations;
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(K);
    OutlierRoot root;
    root.location = root_pt.zeta;
    root.bracket = {lo_pt.zeta, hi_pt.zeta};
    root.null_vector = es.eigenvectors().col(j);
    const double curvature = -root.null_vector.dot(dK * root.null_vector);
    root.overlap = curvature > 0 ? 1.0 / curvature : std::numeric_limits<double>::quiet_NaN();
    out.roots.push_back(std::move(root));
  }
  std::sort(out.roots.begin(), out.roots.end(),
            [](const OutlierRoot& a, const OutlierRoot& b) { return a.location < b.location; });
  out.exists = !out.roots.empty();
  if (out.exists) {
    out.location = out.roots.front().location;
    out.overlap = out.roots.front().overlap;
    out.null_vector = out.roots.front().null_vector;
  }
  out.status = status;
  return out;
}

}  // namespace deltacrit::spectral
