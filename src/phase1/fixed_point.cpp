#include "deltacrit/phase1/fixed_point.hpp"

#include <Eigen/Dense>
#include <gsl/gsl_integration.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "deltacrit/core/parallel.hpp"
#include "deltacrit/gauss/hermite.hpp"

namespace deltacrit::phase1 {

namespace {
// FixedPointResult::law_resolution_limited: a residual on the law's rule of at most this fraction
// of the quadrature error of T there is accepted when the rule has no fixed point to tol.
constexpr double kResolutionFraction = 0.1;
// Whether a residual is within the law rule's resolution, given its quadrature error q (0: unknown).
bool within_tenth(double residual, double q) { return q > 0 && residual <= kResolutionFraction * q; }
// The Anderson stages of the continuation on the law's rule are abandoned when their best residual
// has not halved over this many applications of T (at the earliest after twice as many). They
// start within the quadrature error of their solution; where the rule jumps they reach their floor
// in 5-15 applications and then fluctuate (measured along `nn --find` for tanh(z1) + min(z2², 4),
// m = 1, k = 2: with a window of 20, stages at δ = 0.5, 1.08, 1.58 each spent 40 applications and
// ended within 1.5× of their residual after 10; with 10, the stage at δ = 1.08 spent 19 applications
// to go from 2.3e-4 to 1.05e-4, reached after 2; window 5: tanh m = 1, k = 2 `nn --find` 318 → 298
// applications, tanh m = 2, k = 2 at δ = 1.08, 3.4: 21, 26 → 12, 16; docs/nn.md, session 11).
constexpr int kContinuationStallWindow = 5;
// A failed Broyden step recomputes the Jacobian by differences (one application of T per free
// coordinate) only up to this many free coordinates; with more, the refresh costs more than the
// Anderson fallback (measured for tanh m = 4, fixed:1/4,…, 20 free coordinates, along `nn --find`
// at δ = 0.07–0.16: a failed Broyden run with its refresh cost 29 applications, the Anderson
// iteration from its best point converged in 7–17). With more, a continuation without a carried
// Jacobian does not compute one by differences either: Broyden starts from J = −I (the first step
// is the plain iteration) and its rank-one updates learn J along the path (tanh m = 4, fixed:1/4,…,
// along `nn --find`: 356 → 290 local applications of T, e.g. δ = 0.073, 0.108, 0.158: 37, 40, 28 →
// 7, 6, 8; docs/nn.md, Numerics, session 10). For n ≤ 10 the differences stay: with −I for every
// n, tanh m = 1, k = 2 (n = 3) lost the continuation at δ = 0.5 (session 9: 323 → 392).
constexpr int kBroydenRefreshColumns = 10;
// A cold start merges into a solution found by an earlier start (solve_from) once its residual is
// below kMergeResidual (1 + ‖X‖∞) and that solution is within kMergeDistance times the residual.
constexpr double kMergeResidual = 1e-6;
constexpr double kMergeDistance = 10.0;
// Shrinks of the interval certificate's box (convex_on_box): each needs one evaluation of
// σ and σ'' at the box's ends per neuron; a shrink that gains less than 10 % stops them.
constexpr int kCertificateShrinks = 3;

// Budget of a cold start on the coarse rule (FixedPointOptions::coarse_cold_starts): a start that
// has not converged within it, or whose best residual has not halved over the window, goes on to
// the iteration rule from its own start.
constexpr int kCoarseStartMaxIter = 200;
constexpr int kCoarseStallWindow = 20;
// The projection onto Q − MᵀM ⪰ 0 (make_admissible) is not taken where it leaves no eigenvalue of
// Q − MᵀM above this fraction of 1 + ‖Q‖.
constexpr double kCollapsedCovariance = 1e-8;
// A start of the global prox (FixedPointOptions::prox_stop_at_known_minimiser) stops once its
// Newton iterate comes within this distance, relative to 1 + ‖u‖∞, of the best minimiser found so
// far: Newton with backtracking on φ goes on to that minimiser from there (measured along `nn
// --find` for tanh m = 4, fixed:1/4,…: 99 % of the 2m extra starts end at the best minimiser found
// before them, and stopping them there saves 29 % of the global law's Newton iterations; of
// 85000 starts per δ, 0–2 came this close and then ended more than 1e-7 away; laws with and
// without the stop agree to 1e-12 in the bulk edge, test "the global prox's known-minimiser stop
// leaves the law unchanged").
constexpr double kKnownMinimiserDistance = 1e-3;
// The samples of G for the lower convex hull of accumulate_split (FixedPointOptions::
// split_at_prox_jumps): a grid of kSplitSamplesPerUnit per unit of u (at least kSplitMinSamples,
// at most kSplitMaxSamples intervals per teacher group on the uniform grid), its intervals
// bisected down to kSplitMinSpacing where they may hold the end of a non-convex piece, its
// spacing widened where G is clearly convex (below). Measured at the solutions along `nn --find`
// for tanh(z1) + min(z2², 4), m = 1, k = 2, ridge 0.2 (δ = 0.07, 0.5, 1.5, 2.3, 5, 10): T on the
// law's rule with 4, 8, 16 and 32 samples per unit agrees with 64 to 1e-12, where without the
// bisection 8 and 16 per unit missed dips (7e-5 at δ = 2.3), and 2 per unit missed them even
// with it (1e-4 at δ = 0.5 and 2.3). With the widening and the Maxwell points solved to E's
// round-off (session 16) T agrees with the uniform 64 per unit to 6e-15 for that case (δ = 0.05,
// 0.5, 2.3, 10) and for z1 + z2² with log cosh (δ = 0.05, 0.5, 2.3, 15), and to 4e-12 for issue
// 5's example (δ = 0.05, 1.58, 8).
constexpr double kSplitSamplesPerUnit = 8.0;
// A solution's M counts as 0 up to round-off below this (times 1 + ‖X‖∞): solve_fixed_point then
// tries M = 0 exactly.
constexpr double kSnapM = 1e-9;
// Applications of T the solution with M = 0 gets to reach the tolerance.
constexpr int kSnapEvaluations = 8;
// Where H' > kSplitFlatFloor at both ends of an interval and changes across it by at most
// kSplitFlatChange of its value, the next interval is twice as wide, up to kSplitMaxSpacing.
constexpr double kSplitFlatFloor = 0.5;
constexpr double kSplitFlatChange = 0.05;
constexpr double kSplitMaxSpacing = 0.5;
constexpr int kSplitMinSamples = 32;
constexpr int kSplitMaxSamples = 2048;
constexpr double kSplitMinSpacing = 1.0 / 256;
constexpr double kSplitRangeMargin = 0.5;
constexpr double kEps = std::numeric_limits<double>::epsilon();
// Principal-axis rule (FixedPointOptions::principal_axis_ratio): where λ₂ ≤ this · λ₁ the small
// directions are dropped: their nodes lie within 1e-6 √λ₁ of each other and move the moments
// by O(λ₂), below the tolerance of T. (The rank-one solutions of tanh m = 4 have λ₂/λ₁ ≈ 2e-14
// after round-off, so a cut at 1e-15 kept all 16 sign-vector copies of each node.)
constexpr double kPrincipalRankOne = 1e-12;
// λ₂/λ₁ from the ascending eigenvalues (clamped at 0) of Q − MᵀM; 1 for m = 1 or Q = MᵀM.
double covariance_ratio(const Eigen::VectorXd& lam) {
  const Eigen::Index m = lam.size();
  return m >= 2 && lam[m - 1] > 0 ? lam[m - 2] / lam[m - 1] : 1.0;
}

// Small m×m matrices of the per-node work: fixed-size for m = 1, 2 (FixedPointMapT<N>, where
// Eigen's closed-form 2×2 inverse and unrolled Cholesky replace its generic small-matrix kernels,
// ≈ 2.4× on `nn` with softplus m = 2), dynamic with a stack buffer otherwise (each instantiation
// costs ≈ 30 s of compile time).
template <int N>
using MatN = Eigen::Matrix<double, N, N, 0, N == Eigen::Dynamic ? kMaxWidth : N, N == Eigen::Dynamic ? kMaxWidth : N>;
template <int N>
using VecN = Eigen::Matrix<double, N, 1, 0, N == Eigen::Dynamic ? kMaxWidth : N, 1>;

void fail(const std::string& field, const std::string& message) {
  throw InputError(field, "fixed-point option " + field + ": " + message);
}

// The unknowns X = (M, Q, Γ) flattened: M row-major (k×m), then the upper triangles of Q and Γ.
struct Params {
  int k = 0, m = 0;
  Eigen::MatrixXd M, Q, Gamma;

  Eigen::VectorXd pack() const {
    Eigen::VectorXd v(k * m + m * (m + 1));
    int p = 0;
    for (int a = 0; a < k; ++a)
      for (int j = 0; j < m; ++j) v[p++] = M(a, j);
    for (int i = 0; i < m; ++i)
      for (int j = i; j < m; ++j) v[p++] = Q(i, j);
    for (int i = 0; i < m; ++i)
      for (int j = i; j < m; ++j) v[p++] = Gamma(i, j);
    return v;
  }
  void unpack(const Eigen::VectorXd& v) {
    int p = 0;
    M.resize(k, m);
    Q.resize(m, m);
    Gamma.resize(m, m);
    for (int a = 0; a < k; ++a)
      for (int j = 0; j < m; ++j) M(a, j) = v[p++];
    for (int i = 0; i < m; ++i)
      for (int j = i; j < m; ++j) Q(i, j) = Q(j, i) = v[p++];
    for (int i = 0; i < m; ++i)
      for (int j = i; j < m; ++j) Gamma(i, j) = Gamma(j, i) = v[p++];
  }
};

// Admissible: Γ ≻ 0 and Q − MᵀM ⪰ 0 (up to round-off).
bool admissible(const Params& x) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> g(x.Gamma, Eigen::EigenvaluesOnly);
  if (!(g.eigenvalues().minCoeff() > 0)) return false;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> c(x.Q - x.M.transpose() * x.M, Eigen::EigenvaluesOnly);
  return c.eigenvalues().minCoeff() >= -1e-10 * (1.0 + x.Q.norm());
}

// Projects Q − MᵀM onto the positive semidefinite cone (its negative eigenvalues set to 0), the
// nearest point in Frobenius norm with the same M and Γ. Solutions can lie on that cone's boundary:
// with equal second-layer weights the neurons may coincide, Q = q 11ᵀ of rank one (tanh m = 4,
// fixed:1/4,…, ridge 0.2, min(z², 4), with M = 0 for δ ≥ 5), and a quasi-Newton step from a
// nearby point then leaves the cone in the directions of its zero eigenvalues. Returns the largest
// eigenvalue of Q − MᵀM after the projection (0: the covariance collapsed).
double project_covariance(Params& x) {
  const Eigen::MatrixXd MtM = x.M.transpose() * x.M;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> c(x.Q - MtM);
  const Eigen::VectorXd lam = c.eigenvalues().cwiseMax(0.0);
  x.Q = MtM + c.eigenvectors() * lam.asDiagonal() * c.eigenvectors().transpose();
  return lam.size() ? lam.maxCoeff() : 0.0;
}

// Makes p admissible by projecting Q − MᵀM onto the positive semidefinite cone where that is
// needed and leaves some eigenvalue above kCollapsedCovariance (1 + ‖Q‖); returns whether p is
// admissible (p unchanged otherwise). A collapsed covariance is not taken: with σ'(0) = 0, Q = 0
// (M = 0) is an exact fixed point — the network at zero is stationary — and an iteration
// projected onto it stays there (measured with Anderson: log cosh m = 1, ridge 0.05, min(z², 4),
// δ = 0.05: two of the three cold starts ended at Q = 0, risk 1.040, against the minimum Q = 0.163,
// risk 0.0041, that every start reaches without the projection).
bool make_admissible(Params& p) {
  if (admissible(p)) return true;
  Params projected = p;
  if (!(project_covariance(projected) > kCollapsedCovariance * (1.0 + projected.Q.norm()))) return false;
  if (!admissible(projected)) return false;
  p = projected;
  return true;
}

struct MapOutput {
  Params next;
  double covariance_ratio = 1.0;  // λ₂/λ₁ of Q − MᵀM (1 for m = 1 or Q = MᵀM)
  bool principal = false;         // T was integrated on the principal-axis rule
  double train_loss = 0.0;
  double nonconvex_mass = 0.0;
  double nonglobal_mass = 0.0;
  double certified_mass = 0.0;  // global prox: weight of nodes certified convex (one Newton start)
  double prox_failures = 0.0;
  double pruned_mass = 0.0;     // weight of the nodes below FixedPointOptions::node_weight_floor
  std::size_t split_panels = 0;  // (teacher group, panel) pairs cut at a jump of the prox (accumulate_split)
  bool gamma_defined = true;
  // The global prox was certified convex on all of the kept mass, to `tol`
  // (FixedPointBranch::law_convex_certified).
  bool certified_everywhere(double tol) const { return 1.0 - pruned_mass - certified_mass <= tol; }
};

// Rotates the nodes ξ of a tensor rule for N(0, I_m) by a fixed generic orthogonal matrix (Q of the
// QR factorisation of A_ij = sin(1 + i + 2.3 j + 0.7 ij)). A rotated rule is as exact as the tensor
// rule for polynomials of total degree (N(0, I) is rotation invariant), but no longer has nodes on
// the planes ξ_i = ξ_j. That matters for networks with equal second-layer weights (the default
// fixed:1/m,…): there the prox objective is symmetric under swapping neurons, nodes with h_i = h_j
// sit exactly on the set where its global minimiser switches between the swapped minima (and
// Newton from h stays on the symmetric saddle), and the discretised map is discontinuous at every
// permutation-symmetric (M, Q, Γ). Measured (a driver calling solve_fixed_point at δ = 0.3·1.12^i
// up to 5.7, min(z², 4), fixed:0.5,0.5, law rule 3², 150–300 s per case): softplus ridge 0.2
// converged at 2 of 27 δ on the axis-aligned rule and at 27 of 27 rotated; softplus ridge 0.05 at
// 0 of 20 and 27 of 27; tanh ridge 0.05 at 0 of 15 and 15 of 21 (the remaining failures are the
// ordinary switching jumps).
// Only networks with two equal second-layer weights have these symmetry planes; for the others the
// axis-aligned rule is kept (rotating it there only reshuffles which δ-points meet a switching
// jump: softplus fixed:0.7,0.4 with a 20² law rule then failed the polish at δ = 2 and 2.4).
bool has_equal_second_layer_weights(const Network& net) {
  const auto& a = net.a();
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j)
      if (a[i] == a[j]) return true;
  return false;
}

// The rule for N(0, I₂) of m = 2 with equal second-layer weights: ξ = (s + t, s − t)/√2 with s from
// the n_s-point Gauss–Hermite rule and t = ±τ_j from the n_t-point half-range rule on each side
// of t = 0 (gauss::half_hermite_rule), n_s = p − ⌊p/4⌋ and n_t = ⌊p/3⌋ for a tensor rule of p
// points per axis (33 → 25 × 2·11 = 550 nodes; 16 → 12 × 2·5 = 120). Why: the prox objective is
// symmetric under swapping the two neurons, so where its minimiser is not on the diagonal the
// prox jumps between the two swapped minimisers across the plane h₁ = h₂; at a symmetric point
// (M₁ = M₂, Q₁₁ = Q₂₂) that plane is t = 0 (h − mean = C ξ with C the symmetric root of Q − MᵀM,
// which commutes with the swap), and a rule with no node on it and a Gauss rule on each side
// integrates the two smooth halves, where the tensor rule (rotated, rotate_rule) puts the jump
// inside its cells. The rule is symmetric under the swap, so T maps symmetric points to symmetric
// points, which the rotated tensor rule does not. Measured by one application of T at the
// symmetrised δ = 3 solution of tanh, fixed:0.5,0.5, z1 + z2², latent 2 hard, ridge 0.2
// (docs/nn.md, Numerics, session 14): the tensor rules 25²..57² return M₁ − M₂ = −4e-3..−2.5e-3
// and Γ₁₁ = 0.99074..1.00063; this rule M₁ = M₂ and Γ₁₁ = 0.98778 (p = 33), against 0.98834 on
// 57 × 2·24 nodes. The quadrature error left is that of the prox's other switching jumps.
void split_symmetric_rule(int p, std::vector<double>& xi, std::vector<double>& w) {
  const auto [ns, nt] = split_rule_points(p);
  const gauss::Rule1D& rs = gauss::hermite_rule(ns);
  const gauss::Rule1D& rt = gauss::half_hermite_rule(nt);
  xi.clear();
  w.clear();
  const double r = std::sqrt(0.5);
  for (std::size_t i = 0; i < rs.x.size(); ++i) {
    for (std::size_t j = 0; j < rt.x.size(); ++j) {
      for (const double t : {rt.x[j], -rt.x[j]}) {
        xi.push_back(r * (rs.x[i] + t));
        xi.push_back(r * (rs.x[i] - t));
        w.push_back(rs.w[i] * rt.w[j]);
      }
    }
  }
}

void rotate_rule(int m, std::vector<double>& xi) {
  Eigen::MatrixXd A(m, m);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) A(i, j) = std::sin(1.0 + i + 2.3 * j + 0.7 * i * j);
  const Eigen::MatrixXd R = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ();
  Eigen::VectorXd v(m);
  for (std::size_t s = 0; s * m < xi.size(); ++s) {
    for (int j = 0; j < m; ++j) v[j] = xi[s * m + j];
    const Eigen::VectorXd r = R * v;
    for (int j = 0; j < m; ++j) xi[s * m + j] = r[j];
  }
}

// The split rule's samples of ℓ(y, f(v)), F and D on the lattice v ∈ base·Z of one teacher group
// (accumulate_split), kept across the applications of T: they depend on the group's label and v
// only, while the sampled range moves a little with (M, Q, Γ) from one application to the next.
// (ℓ, F, D) of lattice point i at val[3 (i − i0)], NaN where not computed yet.
struct SampleLattice {
  double y = std::numeric_limits<double>::quiet_NaN();
  double base = 0.0;
  long long i0 = 0;
  std::vector<double> val;
};
// At most this many lattice points per group (2^14 = 2048 units at the usual spacing 1/8, against
// ranges of 30–60 units); a group whose span would exceed it starts afresh.
constexpr long long kMaxLatticePoints = 1LL << 14;

// The split rule's lattices of one solve (its maps share them), by group set (by label, by label
// and learned latents, by node) and group. (Kept over all the solves of a continuation in δ as
// well, they gave no measurable gain: 5.73 vs 5.65 s for the bench's tanh m = 1, k = 2 case.)
struct SampleCache {
  std::array<std::vector<SampleLattice>, 3> lattices;
};

// Teacher nodes that share the prox (FixedPointMapT::apply): total weight, Σ w z, members.
struct Group {
  double weight;
  std::vector<double> weighted_z;
  std::vector<std::size_t> members;
  // The nodes the law gets for the group at each h node (add_node): its members, or — where fewer —
  // the 2r nodes μ ± √(r λ_a) v_a of weight W/(2r) (λ_a > 0 the r nonzero eigenvalues, v_a the
  // eigenvectors of the members' covariance of z, μ their mean), which have the members' weight,
  // mean and second moment of z. Every member has the group's (y, u) at each h node, and the
  // Hessian side sees z only through E[z | y, u] and E[z zᵀ | y, u] (as the init law's teacher
  // merged by label, law.cpp), so the law is exact for it. A plateau of the label in the hard
  // latent makes one group of many members (tanh(z1) + min(z2², 4), latent 2 hard: 925k law nodes
  // per δ, 128k distinct (y, u) atoms). Teacher weight, z (k each) and radius range [lo, hi] of
  // max_a |z_a| over the members it stands for (Law::radius_range), per law node.
  std::vector<double> law_w, law_z, law_r;
};
// The teacher nodes grouped by label, by label and learned latents, and one node each; built once
// per solve and shared by its maps (the iteration, law, coarser, finer and global-law rules).
struct TeacherGroups {
  std::vector<Group> by_label, by_learned, by_node;
  // The split rule's sample lattices (accumulate_split), owned by the solve.
  SampleCache* samples = nullptr;
};

// Group::law_w, law_z, law_r.
void law_nodes_of(const TeacherNodes& teacher, Group& g) {
  const int k = teacher.k;
  auto radius = [&](std::size_t t, int end) {
    if (!teacher.radius_range.empty()) return teacher.radius_range[2 * t + end];
    double r = 0.0;
    for (int a = 0; a < k; ++a) r = std::max(r, std::fabs(teacher.z[t * k + a]));
    return r;
  };
  auto add = [&](double weight, const double* z, double lo, double hi) {
    g.law_w.push_back(weight);
    g.law_z.insert(g.law_z.end(), z, z + k);
    g.law_r.insert(g.law_r.end(), {lo, hi});
  };
  auto per_member = [&]() {
    g.law_w.clear();
    g.law_z.clear();
    g.law_r.clear();
    for (std::size_t t : g.members) add(teacher.w[t], &teacher.z[t * k], radius(t, 0), radius(t, 1));
  };
  if (g.members.size() <= 2 || !(g.weight > 0)) {
    per_member();
    return;
  }
  Eigen::VectorXd mu = Eigen::Map<const Eigen::VectorXd>(g.weighted_z.data(), k) / g.weight;
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(k, k);
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (std::size_t t : g.members) {
    const Eigen::VectorXd d = Eigen::Map<const Eigen::VectorXd>(&teacher.z[t * k], k) - mu;
    C.noalias() += (teacher.w[t] / g.weight) * d * d.transpose();
    lo = std::min(lo, radius(t, 0));
    hi = std::max(hi, radius(t, 1));
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(C);
  // Eigenvalues at round-off of the second moment (the learned latents, equal in a group by label and
  // learned latents) count as 0: dropping them changes E[z zᵀ] by ≤ 1e-14 of its size.
  const double floor = 1e-14 * (C.trace() + mu.squaredNorm());
  std::vector<int> kept;
  for (int a = 0; a < k; ++a) {
    if (eig.eigenvalues()(a) > floor) kept.push_back(a);
  }
  const std::size_t r = kept.size();
  if (2 * r >= g.members.size()) {
    per_member();
    return;
  }
  if (r == 0) {
    add(g.weight, mu.data(), lo, hi);
    return;
  }
  for (int a : kept) {
    const Eigen::VectorXd step = std::sqrt(static_cast<double>(r) * eig.eigenvalues()(a)) * eig.eigenvectors().col(a);
    for (double sign : {1.0, -1.0}) {
      const Eigen::VectorXd z = mu + sign * step;
      add(g.weight / (2.0 * static_cast<double>(r)), z.data(), lo, hi);
    }
  }
}

TeacherGroups group_teacher(const TeacherNodes& teacher, const std::vector<int>& hard) {
  std::vector<bool> is_hard(teacher.k, false);
  for (int h : hard) is_hard[h] = true;
  auto build = [&](auto key_of) {
    std::vector<Group> groups;
    std::map<std::vector<double>, std::size_t> index;
    for (std::size_t t = 0; t < teacher.size(); ++t) {
      const auto [it, inserted] = index.try_emplace(key_of(t), groups.size());
      if (inserted) groups.push_back(Group{0.0, std::vector<double>(teacher.k, 0.0), {}, {}, {}, {}});
      Group& g = groups[it->second];
      g.weight += teacher.w[t];
      for (int a = 0; a < teacher.k; ++a) g.weighted_z[a] += teacher.w[t] * teacher.z[t * teacher.k + a];
      g.members.push_back(t);
    }
    for (Group& g : groups) {
      // A sum Σ w z_a that cancels to round-off (a group symmetric in latent a: z1·z2's label groups
      // {(a, b), (−a, −b), (b, a), (−b, −a)}) is 0, so that M = 0 stays exactly 0 under T there.
      for (int a = 0; a < teacher.k; ++a) {
        double scale = 0.0;
        for (std::size_t t : g.members) scale += teacher.w[t] * std::fabs(teacher.z[t * teacher.k + a]);
        if (std::fabs(g.weighted_z[a]) <= 64 * std::numeric_limits<double>::epsilon() * scale) g.weighted_z[a] = 0.0;
      }
      law_nodes_of(teacher, g);
    }
    return groups;
  };
  TeacherGroups out;
  out.by_label = build([&](std::size_t t) { return std::vector<double>{teacher.y[t]}; });
  out.by_learned = build([&](std::size_t t) {
    std::vector<double> key{teacher.y[t]};
    for (int a = 0; a < teacher.k; ++a) {
      if (!is_hard[a]) key.push_back(teacher.z[t * teacher.k + a]);
    }
    return key;
  });
  out.by_node = build([&](std::size_t t) { return std::vector<double>{static_cast<double>(t)}; });
  return out;
}

// One chunk's share of an application of T: its moments and diagnostic masses. Its law nodes go
// to the law's arrays from node `law_offset` on (FixedPointMapT::apply counts them first).
struct Partial {
  Eigen::MatrixXd EuF, EzF, EDres;
  double loss = 0.0, certified_mass = 0.0, nonglobal_mass = 0.0, prox_failures = 0.0, nonconvex_mass = 0.0,
         pruned_mass = 0.0;
  std::size_t law_offset = 0;
  double kept_mass = 0.0;  // Σ weight of the pairs taken (accumulate_split, whose u-nodes carry their own mass)
  // accumulate_split: the chunk's law nodes (their number per group depends on the cuts, so they
  // are not written at a precomputed offset) and its cut panels.
  Law own;  // (w, y, u, z, radius_range)
  // Non-null: the chunk appends its law nodes to this law's arrays instead (one thread, where the
  // chunks run in order).
  Law* direct = nullptr;
  Law& sink() { return direct ? *direct : own; }
  std::size_t split_panels = 0;
};
// Chunks of teacher groups per application of T (FixedPointMapT::apply): fixed, so that the
// summation order, and the result, do not depend on the thread count.
constexpr std::size_t kMapChunks = 64;

// The map T(M, Q, Γ) of the stationary-point equations, discretised on teacher nodes × the rule
// for the Gaussian part of h.
class FixedPointMap {
 public:
  virtual ~FixedPointMap() = default;
  // One application of T. When `law` is non-null the nodes (y, u, z) are written to it.
  virtual MapOutput apply(const Params& x, Law* law) const = 0;
  // Nodes of the rule for the Gaussian part of h (the principal-axis rule's where it is built).
  virtual std::size_t rule_size() const = 0;
  int* applications = nullptr;  // incremented by each application when set (make_map)
};

template <int N>
class FixedPointMapT final : public FixedPointMap {
  using Mat = MatN<N>;
  using Vec = VecN<N>;

 public:
  FixedPointMapT(const TeacherNodes& teacher, const TeacherGroups& groups, core::Parallel& pool, const Network& net,
                 double delta, const FixedPointOptions& opt, const GaussianRuleOptions& rule, bool global,
                 bool principal)
      : teacher_(teacher),
        groups_(groups),
        pool_(pool),
        net_(net),
        delta_eff_(delta * teacher.sample_fraction),
        opt_(opt),
        global_(global) {
    gaussian_rule(net.width(), 1.0, rule, xi_, xi_w_);
    for (double a : net.a()) {
      max_abs_a_ = std::max(max_abs_a_, std::fabs(a));
      sum_abs_a_ += std::fabs(a);
    }
    sup_value_ = net.activation().sup_abs_value();
    sup_d1_ = net.activation().sup_abs_d1();
    sup_d2_ = net.activation().sup_abs_d2();
    if (has_equal_second_layer_weights(net)) {
      if (opt.split_symmetric_rule && net.width() == 2 && net.width() > rule.composite_max_dim) {
        split_symmetric_rule(rule.hermite_points > 0 ? rule.hermite_points : default_u_points(2), xi_, xi_w_);
      } else {
        rotate_rule(net.width(), xi_);
      }
    }
    hard_.assign(teacher.k, false);
    for (int h : opt.hard) hard_[h] = true;
    if (principal) build_principal_rule(rule);
    if (N == 1 && net.width() == 1 && global && opt.split_at_prox_jumps && rule.composite_max_dim >= 1) {
      build_split_rule(rule);
    }
  }

  // The composite rule of accumulate_split (FixedPointOptions::split_at_prox_jumps): the panels of
  // gaussian_rule's composite rule for dim = 1 (equal panels at most panel_width wide on
  // [−x_max, x_max], panel_points Gauss–Legendre nodes each, weights × the Gaussian density,
  // normalised to 1), with the nodes ascending and the panel structure kept: panel P is
  // [ends_[P], ends_[P+1]] and holds the nodes [first_[P], first_[P+1]).
  void build_split_rule(const GaussianRuleOptions& rule) {
    std::unique_ptr<gsl_integration_glfixed_table, decltype(&gsl_integration_glfixed_table_free)> table(
        gsl_integration_glfixed_table_alloc(static_cast<std::size_t>(rule.panel_points)),
        &gsl_integration_glfixed_table_free);
    if (!table) throw std::runtime_error("phase1: GSL could not build the Gauss-Legendre table");
    std::vector<std::pair<double, double>> ref(static_cast<std::size_t>(rule.panel_points));
    for (std::size_t i = 0; i < ref.size(); ++i) {
      gsl_integration_glfixed_point(-1.0, 1.0, i, &ref[i].first, &ref[i].second, table.get());
    }
    std::sort(ref.begin(), ref.end());
    ref_x_.clear();
    ref_w_.clear();
    for (const auto& [x, w] : ref) {
      ref_x_.push_back(x);
      ref_w_.push_back(w);
    }
    const int panels = std::max(1, static_cast<int>(std::ceil(2.0 * rule.x_max / rule.panel_width - 1e-9)));
    const double width = 2.0 * rule.x_max / panels;
    ends_.clear();
    first_.clear();
    xi_.clear();
    xi_w_.clear();
    double total = 0.0;
    for (int P = 0; P < panels; ++P) {
      const double a = -rule.x_max + P * width, b = P + 1 == panels ? rule.x_max : -rule.x_max + (P + 1) * width;
      ends_.push_back(a);
      first_.push_back(xi_.size());
      for (std::size_t i = 0; i < ref_x_.size(); ++i) {
        const double x = 0.5 * (a + b) + 0.5 * (b - a) * ref_x_[i];
        xi_.push_back(x);
        xi_w_.push_back(0.5 * (b - a) * ref_w_[i] * std::exp(-0.5 * x * x));
        total += xi_w_.back();
      }
    }
    ends_.push_back(rule.x_max);
    first_.push_back(xi_.size());
    for (double& w : xi_w_) w /= total;
    split_norm_ = total;
    split_ = true;
  }

  // The principal-axis rule (FixedPointOptions::principal_axis_ratio): nodes (ξ, η) with ξ from the
  // 1-D Gauss–Hermite rule of default_u_points(1) + (p − default_u_points(m)) nodes, p the tensor
  // rule's nodes per axis (41 for the law's rule, 40 for its coarser copy, 38 for the iteration
  // rule of m = 4: every refinement of the tensor rule refines the principal axis alike), and η
  // from a rule for N(0, I_m) with E η = 0, E ηηᵀ = I and vanishing third moments: for m = 2 the
  // 2^m sign vectors (±1, ±1), weight 1/4 each; for m ≥ 3 the cross-polytope ±√m e_i, weight
  // 1/(2m) each (2m nodes instead of 2^m: tanh m = 4 `bench_nn` 8.7–9.5 → 6.3–7.5 s,
  // docs/performance.md, session 10; test "the principal-axis rule for m = 3 agrees with the
  // tensor rules"). Either is rotated like the tensor rule for equal second-layer weights, so
  // that no node lies on the planes h_i = h_j. h = mean + √λ₁ v₁ ξ + C_s η with C_s = (Q − MᵀM − λ₁v₁v₁ᵀ)^{1/2} (the symmetric root: the rule
  // does not depend on the choice of eigenvectors within a degenerate small eigenspace, so T stays
  // continuous there): its mean, covariance and third moments are those of N(mean, Q − MᵀM); the
  // fourth moments differ by O(λ₂²). Not built for composite tensor rules.
  void build_principal_rule(const GaussianRuleOptions& rule) {
    const int m = net_.width();
    if (m < 2 || m <= rule.composite_max_dim) return;
    const int p = rule.hermite_points > 0 ? rule.hermite_points : default_u_points(m);
    GaussianRuleOptions axis;
    axis.composite_max_dim = 0;
    axis.hermite_points = std::max(2, default_u_points(1) + p - default_u_points(m));
    std::vector<double> eta, ew;
    gaussian_rule(1, 1.0, axis, axis_x_, axis_w_);
    if (m <= 2) {
      GaussianRuleOptions signs;
      signs.composite_max_dim = 0;
      signs.hermite_points = 2;
      gaussian_rule(m, 1.0, signs, eta, ew);  // nodes ±1, weights 2^{-m}
    } else {
      eta.assign(static_cast<std::size_t>(2 * m * m), 0.0);
      ew.assign(static_cast<std::size_t>(2 * m), 1.0 / (2.0 * m));
      for (int i = 0; i < m; ++i) {
        eta[static_cast<std::size_t>((2 * i) * m + i)] = std::sqrt(static_cast<double>(m));
        eta[static_cast<std::size_t>((2 * i + 1) * m + i)] = -std::sqrt(static_cast<double>(m));
      }
    }
    if (has_equal_second_layer_weights(net_)) rotate_rule(m, eta);
    for (std::size_t i = 0; i < axis_w_.size(); ++i) {
      for (std::size_t j = 0; j < ew.size(); ++j) {
        principal_x_.push_back(axis_x_[i]);
        principal_x_.insert(principal_x_.end(), eta.begin() + j * m, eta.begin() + (j + 1) * m);
        principal_w_.push_back(axis_w_[i] * ew[j]);
      }
    }
  }

  std::size_t rule_size() const override { return principal_w_.empty() ? xi_w_.size() : principal_w_.size(); }

  // Whether a (teacher group, h node) pair of joint weight `w` = group weight × rule weight is left
  // out (FixedPointOptions::node_weight_floor). The one test of accumulate and of apply's count of
  // the law's nodes, whose offsets rely on their agreeing.
  bool pruned(double w) const { return w < opt_.node_weight_floor; }

  // Whether the symmetric A is positive definite: closed form for m = 1, 2 (Eigen's LLT runs its
  // generic unblocked kernel even for a fixed 2×2: 14 % of a softplus m = 2 `nn` run), Cholesky
  // otherwise.
  static bool positive_definite(const Mat& A) {
    if constexpr (N == 1) {
      return A(0, 0) > 0;
    } else if constexpr (N == 2) {
      return A(0, 0) > 0 && A(0, 0) * A(1, 1) - A(0, 1) * A(1, 0) > 0;
    } else {
      Mat L = A;
      return cholesky_in_place(L);
    }
  }

  // Cholesky factor of the symmetric A in the lower triangle of L (which holds A on entry); false
  // when A is not positive definite. Plain loops: Eigen's LLT and triangular solves for a dynamic
  // m ≤ 8 run their generic kernels, which were 40 % of a tanh m = 4 `nn` point (perf).
  static bool cholesky_in_place(Mat& L) {
    const Eigen::Index m = L.rows();
    for (Eigen::Index j = 0; j < m; ++j) {
      double d = L(j, j);
      for (Eigen::Index p = 0; p < j; ++p) d -= L(j, p) * L(j, p);
      if (!(d > 0)) return false;
      d = std::sqrt(d);
      L(j, j) = d;
      for (Eigen::Index i = j + 1; i < m; ++i) {
        double v = L(i, j);
        for (Eigen::Index p = 0; p < j; ++p) v -= L(i, p) * L(j, p);
        L(i, j) = v / d;
      }
    }
    return true;
  }

  // Solves L Lᵀ x = b with the factor of cholesky_in_place.
  static Vec cholesky_solve(const Mat& L, const Vec& b) {
    const Eigen::Index m = L.rows();
    Vec x = b;
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index p = 0; p < i; ++p) x[i] -= L(i, p) * x[p];
      x[i] /= L(i, i);
    }
    for (Eigen::Index i = m - 1; i >= 0; --i) {
      for (Eigen::Index p = i + 1; p < m; ++p) x[i] -= L(p, i) * x[p];
      x[i] /= L(i, i);
    }
    return x;
  }

  MapOutput apply(const Params& x, Law* law) const override {
    if (applications) ++*applications;
    const int m = net_.width(), k = teacher_.k;
    MapOutput out;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> cov(x.Q - x.M.transpose() * x.M);
    const Eigen::VectorXd lam = cov.eigenvalues().cwiseMax(0.0);  // ascending
    // The rule of this map: the principal-axis rule (when built) or the tensor rule, whose nodes ξ
    // the symmetric square root of Q − MᵀM maps to h − mean.
    out.covariance_ratio = covariance_ratio(lam);
    RuleView rule{&xi_, &xi_w_, m, Eigen::MatrixXd()};
    if (!principal_w_.empty() && lam[m - 1] > 0) {
      const bool rank_one = out.covariance_ratio <= kPrincipalRankOne;
      // Nodes (ξ, η) mapped by [√λ₁ v₁ | C_s]; rank one: ξ alone, mapped by √λ₁ v₁.
      rule = RuleView{rank_one ? &axis_x_ : &principal_x_, rank_one ? &axis_w_ : &principal_w_, rank_one ? 1 : m + 1,
                      Eigen::MatrixXd(m, rank_one ? 1 : m + 1)};
      rule.C.col(0) = std::sqrt(lam[m - 1]) * cov.eigenvectors().col(m - 1);
      if (!rank_one) {
        const Eigen::MatrixXd Vs = cov.eigenvectors().leftCols(m - 1);
        rule.C.rightCols(m) = Vs * lam.head(m - 1).cwiseSqrt().asDiagonal() * Vs.transpose();
      }
      out.principal = true;
    } else {
      rule.C = cov.eigenvectors() * lam.cwiseSqrt().asDiagonal() * cov.eigenvectors().transpose();
    }
    Mat Gamma = x.Gamma;
    Mat Ginv = Gamma.inverse();
    Mat axes = Mat::Zero(m, m);
    double gamma_max = Gamma(0, 0);  // λ_max(Γ), for the convexity certificate of the global prox
    if constexpr (N != 1) {
      if (global_ && m > 1) {
        Eigen::SelfAdjointEigenSolver<Mat> eg(Gamma);
        axes = eg.eigenvectors() * eg.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
        gamma_max = eg.eigenvalues().maxCoeff();
      }
    }
    // The prox depends on the teacher node only through (y, Mᵀz). When M = 0 (every latent hard,
    // or the learned rows still at 0) teacher nodes with equal y — the ± pairs of an even link, the
    // atoms of a plateau — share it; otherwise, with the rows of the hard latents at 0 (as T keeps
    // them), nodes with equal y and equal learned latents do — the ± pairs of a link even in a
    // hard latent (tanh(z1) + min(z2², 4) with latent 2 hard: 7200 teacher nodes, 3600 groups).
    // Each group's proxes are computed once and enter the moments with the group's weight W and
    // Σ w z; law nodes are still written per teacher node.
    bool hard_rows_zero = true;
    for (int a = 0; a < k; ++a) hard_rows_zero = hard_rows_zero && (!hard_[a] || x.M.row(a).isZero(0.0));
    const std::vector<Group>& groups =
        x.M.isZero(0.0) ? groups_.by_label : hard_rows_zero ? groups_.by_learned : groups_.by_node;
    // The groups are cut into a fixed set of chunks that depends only on their number; each chunk
    // sums its own moments and writes its own law nodes, and the chunks are combined in order, so
    // the result is bit-identical for any FixedPointOptions::threads (core::Parallel).
    const std::size_t chunks = std::min<std::size_t>(groups.size(), kMapChunks);
    std::vector<Partial> part(chunks);
    if (law && !split_) {
      // The law's arrays are sized once and each chunk writes its nodes at its own offset: the
      // count of kept (teacher node, h node) pairs per chunk uses accumulate's test (pruned).
      // (Growing per-chunk arrays and concatenating them moved ≈ 100 MB per δ of the k = 2
      // fixed-point `nn --find`, 950k law nodes, and page-faulted on each.)
      const std::vector<double>& xw = *rule.w;
      std::size_t total = 0;
      for (std::size_t c = 0; c < chunks; ++c) {
        part[c].law_offset = total;
        const auto [g0, g1] = core::chunk_range(groups.size(), chunks, c);
        for (std::size_t g = g0; g < g1; ++g) {
          std::size_t kept_nodes = 0;
          for (const double v : xw) kept_nodes += pruned(groups[g].weight * v) ? 0 : 1;
          total += kept_nodes * groups[g].law_w.size();
        }
      }
      law->m = m;
      law->k = k;
      law->sample_fraction = teacher_.sample_fraction;
      law->w.assign(total, 0.0);
      law->y.assign(total, 0.0);
      law->u.assign(total * m, 0.0);
      law->z.assign(total * k, 0.0);
      law->radius_range.assign(total * 2, 0.0);
    }
    // With one thread the chunks run in order and append their law nodes to the law's arrays
    // directly: the per-chunk arrays and their concatenation wrote every node twice (a law
    // application took 30 ms against 16 ms without a law, 925k nodes, the bench's tanh m = 1, k = 2).
    const bool direct = law && split_ && pool_.threads() == 1;
    if (direct) {
      std::size_t per_h_node = 0;
      for (const Group& g : groups) per_h_node += g.law_w.size();
      // Room for a node per rule node (a cut panel adds a few: the arrays rarely grow).
      const std::size_t nodes = per_h_node * xi_w_.size();
      for (auto* v : {&law->w, &law->y}) {
        v->clear();
        v->reserve(nodes);
      }
      law->u.clear();
      law->u.reserve(nodes * m);
      law->z.clear();
      law->z.reserve(nodes * k);
      law->radius_range.clear();
      law->radius_range.reserve(nodes * 2);
      for (Partial& q : part) q.direct = law;
    }
    if (split_ && groups_.samples) {
      // Sized here, before the chunks run: each chunk touches only its own groups' lattices.
      auto& lattices = groups_.samples->lattices[group_set(groups)];
      if (lattices.size() != groups.size()) lattices.assign(groups.size(), SampleLattice{});
    }
    pool_.run(chunks, [&](std::size_t c) {
      const auto [g0, g1] = core::chunk_range(groups.size(), chunks, c);
      if (split_) {
        accumulate_split(x, rule, Gamma, Ginv, axes, gamma_max, groups, g0, g1, law, part[c]);
      } else {
        accumulate(x, rule, Gamma, Ginv, axes, gamma_max, groups, g0, g1, law, part[c]);
      }
    });
    if (direct) {
      law->m = m;
      law->k = k;
      law->sample_fraction = teacher_.sample_fraction;
    } else if (law && split_) {
      // The chunks' own law arrays, concatenated in chunk order.
      std::size_t total = 0;
      for (const Partial& q : part) total += q.own.w.size();
      law->m = m;
      law->k = k;
      law->sample_fraction = teacher_.sample_fraction;
      law->w.clear();
      law->y.clear();
      law->u.clear();
      law->z.clear();
      law->radius_range.clear();
      law->w.reserve(total);
      law->y.reserve(total);
      law->u.reserve(total * m);
      law->z.reserve(total * k);
      law->radius_range.reserve(total * 2);
      for (const Partial& q : part) {
        law->w.insert(law->w.end(), q.own.w.begin(), q.own.w.end());
        law->y.insert(law->y.end(), q.own.y.begin(), q.own.y.end());
        law->u.insert(law->u.end(), q.own.u.begin(), q.own.u.end());
        law->z.insert(law->z.end(), q.own.z.begin(), q.own.z.end());
        law->radius_range.insert(law->radius_range.end(), q.own.radius_range.begin(), q.own.radius_range.end());
      }
    }
    Eigen::MatrixXd EuF = Eigen::MatrixXd::Zero(m, m), EzF = Eigen::MatrixXd::Zero(k, m),
                    EDres = Eigen::MatrixXd::Zero(m, m);
    double loss = 0.0, kept_split = 0.0;
    for (const Partial& p : part) {
      EuF += p.EuF;
      EzF += p.EzF;
      EDres += p.EDres;
      loss += p.loss;
      out.certified_mass += p.certified_mass;
      out.nonglobal_mass += p.nonglobal_mass;
      out.prox_failures += p.prox_failures;
      out.nonconvex_mass += p.nonconvex_mass;
      out.pruned_mass += p.pruned_mass;
      out.split_panels += p.split_panels;
      kept_split += p.kept_mass;
    }
    // The moments and the law are those of the kept nodes, renormalised to mass 1 (the law
    // conditioned on the region above the floor; the left-out mass is ≤ 1e-9 at the default floor).
    // On the split rule the nodes' mass is the quadrature, in u, of the density of h (accumulate_split):
    // the law is normalised by its own sum, which is 1 − pruned_mass to that quadrature's accuracy.
    const double kept = split_ ? kept_split : 1.0 - out.pruned_mass;
    loss /= kept;
    EuF /= kept;
    EzF /= kept;
    EDres /= kept;
    if (law) {
      for (double& v : law->w) v /= kept;
    }
    const double lambda = opt_.ridge;
    out.train_loss = loss;
    out.next.k = k;
    out.next.m = m;
    out.next.Q = -(EuF + EuF.transpose()) / (2.0 * lambda);
    out.next.M = -EzF / lambda;
    for (int a = 0; a < k; ++a) {
      if (hard_[a]) out.next.M.row(a).setZero();
    }
    Eigen::MatrixXd A = lambda * Eigen::MatrixXd::Identity(m, m) + 0.5 * (EDres + EDres.transpose());
    Eigen::LLT<Eigen::MatrixXd> llt(A);
    if (llt.info() != Eigen::Success) {
      // λI + E[D(I + ΓD)^{-1}] is not positive definite: the current law of D admits no Γ ≻ 0
      // (the right side decreases in Γ), i.e. (M, Q) are still far from a minimum. Γ is kept and
      // (M, Q) move on; a fixed point is accepted only where this matrix is positive definite.
      out.gamma_defined = false;
      out.next.Gamma = x.Gamma;
    } else {
      out.next.Gamma = llt.solve(Eigen::MatrixXd::Identity(m, m)) / delta_eff_;
      out.next.Gamma = 0.5 * (out.next.Gamma + out.next.Gamma.transpose());
    }
    if (law) {
      law->description = "fixed-point (leave-one-out) law, " + std::to_string(law->size()) + " nodes";
      if (out.pruned_mass > 0) {
        std::ostringstream left;
        left << " (pairs of joint weight below " << opt_.node_weight_floor << ", mass " << out.pruned_mass << ", left out)";
        law->description += left.str();
      }
    }
    return out;
  }

  // Which of the group sets `groups` is (SampleCache::lattices).
  std::size_t group_set(const std::vector<Group>& groups) const {
    return &groups == &groups_.by_label ? 0 : &groups == &groups_.by_learned ? 1 : 2;
  }

  // A rule for the Gaussian part of h: nodes ξ of `stride` coordinates (h = mean + C ξ) and weights.
  struct RuleView {
    const std::vector<double>* xi;
    const std::vector<double>* w;
    int stride;
    Eigen::MatrixXd C;  // m × stride
  };

  // The moments of T over the teacher groups [g0, g1) × the rule `r` (and their law nodes when
  // `law`, non-null, from node p.law_offset on), summed into `p`.
  void accumulate(const Params& x, const RuleView& r, const Mat& Gamma, const Mat& Ginv, const Mat& axes,
                  double gamma_max, const std::vector<Group>& groups, std::size_t g0, std::size_t g1,
                  Law* law, Partial& p) const {
    const int m = net_.width(), k = teacher_.k;
    const std::vector<double>& xi = *r.xi;
    const std::vector<double>& xi_w = *r.w;
    const Eigen::MatrixXd& C = r.C;
    p.EuF = Eigen::MatrixXd::Zero(m, m);
    p.EzF = Eigen::MatrixXd::Zero(k, m);
    p.EDres = Eigen::MatrixXd::Zero(m, m);
    Vec h = Vec::Zero(m), u = Vec::Zero(m), F = Vec::Zero(m);
    Mat D = Mat::Zero(m, m);
    for (std::size_t g = g0; g < g1; ++g) {
      const Group& group = groups[g];
      const std::size_t t0 = group.members.front();
      const double* z = &teacher_.z[t0 * k];
      const double y = teacher_.y[t0];
      const double wt = group.weight;
      Vec mean = Vec::Zero(m);
      for (int a = 0; a < k; ++a) mean += z[a] * x.M.row(a).transpose();
      for (std::size_t s = 0; s < xi_w.size(); ++s) {
        const double w = wt * xi_w[s];
        if (pruned(w)) {
          p.pruned_mass += w;
          continue;
        }
        h = mean;
        for (int j = 0; j < m; ++j)
          for (int l = 0; l < r.stride; ++l) h[j] += C(j, l) * xi[s * r.stride + l];
        double lval = 0.0;
        Vec ul = Vec::Zero(m);
        bool certified = false;
        const bool converged =
            prox(y, h, Gamma, Ginv, axes, gamma_max, global_, u, lval, F, D, global_ ? &ul : nullptr, certified);
        if (global_ && (ul - u).template lpNorm<Eigen::Infinity>() > 1e-7 * (1.0 + u.template lpNorm<Eigen::Infinity>())) {
          p.nonglobal_mass += w;
        }
        add_node(group, y, xi_w[s], u, lval, F, D, converged, certified, Gamma, Ginv, law, p);
      }
    }
  }

  // One (teacher group, h node) pair of rule weight `w_rule` with its prox u (ℓ, F, D there) into the
  // chunk's moments, and into the law when `law` is non-null: at the chunk's offset, or appended to
  // the chunk's own arrays on the split rule.
  void add_node(const Group& group, double y, double w_rule, const Vec& u, double lval, const Vec& F, const Mat& D,
                bool converged, bool certified, const Mat& Gamma, const Mat& Ginv, Law* law, Partial& p) const {
    const int m = net_.width(), k = teacher_.k;
    const double w = group.weight * w_rule;
    p.kept_mass += w;
    if (certified) p.certified_mass += w;
    if (!converged) p.prox_failures += w;
    if (!positive_definite(Ginv + D)) p.nonconvex_mass += w;
    p.loss += w * lval;
    p.EuF.noalias() += w * (u * F.transpose());
    for (int a = 0; a < k; ++a) p.EzF.row(a) += w_rule * group.weighted_z[a] * F.transpose();
    // D (I + Γ D)^{-1}, symmetric by the push-through identity.
    const Mat IGD = Mat::Identity(m, m) + Gamma * D;
    if constexpr (N == 1 || N == 2) {
      p.EDres.noalias() += w * (D * IGD.inverse());  // closed form
    } else {
      p.EDres.noalias() += w * (D * IGD.partialPivLu().inverse());  // pivoted, as Eigen's dynamic inverse
    }
    if (!law) return;
    for (std::size_t j = 0; j < group.law_w.size(); ++j) {
      const double* zj = &group.law_z[j * k];
      const double* rj = &group.law_r[2 * j];
      if (split_) {
        Law& out = p.sink();
        out.w.push_back(group.law_w[j] * w_rule);
        out.y.push_back(y);
        out.u.insert(out.u.end(), u.data(), u.data() + m);
        out.z.insert(out.z.end(), zj, zj + k);
        out.radius_range.insert(out.radius_range.end(), rj, rj + 2);
      } else {
        const std::size_t i = p.law_offset++;
        law->w[i] = group.law_w[j] * w_rule;
        law->y[i] = y;
        std::copy(u.data(), u.data() + m, law->u.begin() + i * m);
        std::copy(zj, zj + k, law->z.begin() + i * k);
        std::copy(rj, rj + 2, law->radius_range.begin() + 2 * i);
      }
    }
  }

  // accumulate on the split rule (FixedPointOptions::split_at_prox_jumps; m = 1, global prox). For
  // m = 1 the prox's objective is (G(u) − h u)/Γ + h²/(2Γ) with G(u) = u²/2 + Γ ℓ(y, f(u)), so its
  // global minimiser u*(h) is the point where the line of slope h touches the lower convex
  // envelope of G: nondecreasing in h, a root of H(u) = G'(u) = u + Γ F(y, u) = h on a piece where G
  // is its own envelope (H increasing there), and jumping across each linear piece of the envelope
  // (a bitangent touching G at a < b) at the Maxwell point h_c = H(a) = H(b). Per teacher group:
  //  1. the range [h0 − r(h0), h1 + r(h1)] (widened by kSplitRangeMargin) that holds u*(h) for every
  //     h of the kept panels, r = √(2Γ min φ) (ℓ ≥ 0);
  //  2. G sampled there (kSplitSamplesPerUnit, intervals bisected where they may hold the end of a
  //     non-convex piece, local minima of H' = 1 + ΓD refined so that a piece is seen from its
  //     birth) and its lower convex hull; every edge that skips samples lying above it is a
  //     bitangent, (a, b, h_c) by Newton on the Maxwell condition over the slope, and the cut
  //     ξ_c = (h_c − mean)/R (an edge from an end of the range where that fails: the tangent through
  //     that end, which bounds the range of u*); a run of samples with H' ≤ 0 that no edge covers
  //     (a piece too shallow for the hull) gets its bitangent by the same Newton;
  //  3. each kept panel integrated in u: Gauss–Legendre nodes on [u*(h(e_P)), u*(h(e_{P+1}))], cut
  //     into [·, a] and [b, ·] at each bitangent inside, with the density of h, φ(ξ(u)) H'(u)/R du.
  // T is then continuous in (M, Q, Γ), and smooth except where a piece is born (its bitangent's
  // width grows like √ of the distance): the pieces move with the cuts, which move smoothly. A dip
  // of G that the sampling misses leaves its jump inside a panel, as on the rules that are not cut.
  void accumulate_split(const Params& x, const RuleView& r, const Mat& Gamma, const Mat& Ginv, const Mat& axes,
                        double gamma_max, const std::vector<Group>& groups, std::size_t g0, std::size_t g1, Law* law,
                        Partial& p) const {
    if constexpr (N != 1) {
      throw std::logic_error("phase1: the split rule is for m = 1");
    } else {
      const int k = teacher_.k;
      p.EuF = Eigen::MatrixXd::Zero(1, 1);
      p.EzF = Eigen::MatrixXd::Zero(k, 1);
      p.EDres = Eigen::MatrixXd::Zero(1, 1);
      const double gamma = Gamma(0, 0), R = r.C(0, 0);
      const std::size_t panels = ends_.size() - 1;
      std::vector<double> su, sG, sH1, cuts;
      struct RefinePoint {
        double u, G, H, H1;
      };
      std::vector<RefinePoint> refine_stack;
      std::vector<std::pair<double, double>> pieces;  // u-intervals [lo, hi] of the envelope's contact pieces
      std::vector<std::pair<double, double>> bitangents;  // their contact points (a, b), one per cut
      std::vector<int> hull;
      struct Dip {
        double u, G, H1;
      };
      std::vector<Dip> dips;
      struct Bitangent {
        double a, b, hc;
      };
      std::vector<Bitangent> found;
      Vec h = Vec::Zero(1), u = Vec::Zero(1), F = Vec::Zero(1);
      Mat D = Mat::Zero(1, 1);
      double lval = 0.0;
      if (law && !p.direct) {
        // The chunk's law nodes: at most one per (group law node, rule node) on the kept panels
        // plus the nodes of the panels' second pieces; reserved for every rule node (the floor
        // leaves out about half of them, and untouched capacity costs no memory traffic), so that
        // the arrays rarely grow (growing them copied each ≈ twice per law).
        std::size_t per_h_node = 0;
        for (std::size_t g = g0; g < g1; ++g) per_h_node += groups[g].law_w.size();
        const std::size_t nodes = per_h_node * xi_w_.size();
        p.own.w.reserve(nodes);
        p.own.y.reserve(nodes);
        p.own.u.reserve(nodes);
        p.own.z.reserve(nodes * k);
        p.own.radius_range.reserve(nodes * 2);
      }
      for (std::size_t g = g0; g < g1; ++g) {
        const Group& group = groups[g];
        const std::size_t t0 = group.members.front();
        const double y = teacher_.y[t0];
        double mean = 0.0;
        for (int a = 0; a < k; ++a) mean += teacher_.z[t0 * k + a] * x.M(a, 0);
        auto geval = [&](double v, double& G, double& H, double& H1) {
          double Fv = 0.0, Dv = 0.0;
          net_.derivatives(y, &v, &Fv, &Dv, &lval);
          F[0] = Fv;
          D(0, 0) = Dv;
          G = 0.5 * v * v + gamma * lval;
          H = v + gamma * Fv;
          H1 = 1.0 + gamma * Dv;
        };
        // Kept panels [P0, P1).
        std::size_t P0 = panels, P1 = 0;
        for (std::size_t P = 0; P < panels; ++P) {
          for (std::size_t s = first_[P]; s < first_[P + 1]; ++s) {
            if (!pruned(group.weight * xi_w_[s])) {
              P0 = std::min(P0, P);
              P1 = P + 1;
            }
          }
        }
        if (P0 >= P1) {
          for (double w : xi_w_) p.pruned_mass += group.weight * w;
          continue;
        }
        for (std::size_t s = 0; s < first_[P0]; ++s) p.pruned_mass += group.weight * xi_w_[s];
        for (std::size_t s = first_[P1]; s < xi_w_.size(); ++s) p.pruned_mass += group.weight * xi_w_[s];
        // 1. The range: ℓ ≥ 0 and φ(u*) ≤ φ(v) for any v put u*(h) within r(h) = √(2Γ min_v φ(v)) of h;
        //    with v = h and the end of Newton from h, for h ∈ [h0, h1] (the kept panels) u* lies in
        //    [h0 − r(h0), h1 + r(h1)] (monotone).
        const double h0 = mean + R * ends_[P0], h1 = mean + R * ends_[P1];
        auto radius = [&](double hv) {
          double G = 0.0, H = 0.0, H1 = 0.0, phi = 0.0;
          geval(hv, G, H, H1);
          const double at_h = lval;
          h[0] = hv;
          newton(y, h, Gamma, Ginv, h, u, lval, phi, F, D);
          return std::sqrt(2.0 * gamma * std::max(0.0, std::min(at_h, phi))) + 1e-9 * (1.0 + std::fabs(hv));
        };
        // (Widened by kSplitRangeMargin, so that a well of G at the bound is sampled on both sides.)
        double L = h0 - radius(h0) - kSplitRangeMargin, Rr = h1 + radius(h1) + kSplitRangeMargin;
        double G = 0.0, H = 0.0, H1 = 0.0;
        if (!(R > 0) || !(Rr > L)) {
          // One value of h (R = 0): the global prox at each node.
          bool certified = false;
          for (std::size_t s = first_[P0]; s < first_[P1]; ++s) {
            const double w = group.weight * xi_w_[s];
            if (pruned(w)) {
              p.pruned_mass += w;
              continue;
            }
            h[0] = mean + R * xi_[s];
            const bool ok = prox(y, h, Gamma, Ginv, axes, gamma_max, true, u, lval, F, D, nullptr, certified);
            add_node(group, y, xi_w_[s], u, lval, F, D, ok, certified, Gamma, Ginv, law, p);
          }
          continue;
        }
        // 2. The lower convex hull of G sampled on [L, Rr]; each edge that skips samples lying above
        //    it is a linear piece of the envelope: a bitangent (a, b), H(a) = H(b) = h_c and
        //    G(b) − G(a) = h_c (b − a) (below); where that fails at an edge from an end of the range
        //    (G concave there), the tangent through that end, whose tangency point bounds the range
        //    of u*.
        //    The samples: a grid (uniform, widened over ℓ's convex tails), each of whose intervals is
        //    bisected (down to kSplitMinSpacing) while it may hold the end of a non-convex piece of
        //    G — H' = 1 + ΓD < 0 at one end only, H decreasing across it, or the cubic Hermite
        //    interpolant of H through (H, H') at its ends with a negative slope inside — and the
        //    local minima of H' among them refined (below). A dip narrower than the grid that none
        //    of these shows is missed (its jump then stays inside a panel, as on unsplit rules).
        const int n0 = std::clamp(static_cast<int>(std::ceil(kSplitSamplesPerUnit * (Rr - L))), kSplitMinSamples, kSplitMaxSamples);
        // The grid lies on the lattice base·Z, base = 2^j nearest (Rr − L)/n0 (1/8 on ranges of
        // 4–256 units), and covers [L, Rr] (a bound on u*, so a wider range is one too): its
        // points recur from one application of T to the next, and their values are kept
        // (SampleLattice). Sampling made most of T's loss evaluations on k = 2 teachers (log cosh,
        // z1 + z2², ridge 0.1, `nn --find`: 255 samples per group and application, against 87 law
        // nodes per teacher node).
        const double base = std::ldexp(1.0, static_cast<int>(std::lround(std::log2((Rr - L) / n0))));
        L = std::floor(L / base) * base;
        Rr = std::ceil(Rr / base) * base;
        SampleLattice* lattice = groups_.samples ? &groups_.samples->lattices[group_set(groups)][g] : nullptr;
        if (lattice && (lattice->base != base || lattice->y != y)) {
          lattice->base = base;
          lattice->y = y;
          lattice->val.clear();
        }
        // G, H, H' at the lattice point v (values as geval's, without its side effects on F, D, ℓ).
        auto gsample = [&](double v, double& Gv, double& Hv, double& H1v) {
          double vals[3];
          double* e = vals;
          if (lattice) {
            const long long i = std::llround(v / base);
            auto& val = lattice->val;
            constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
            long long count = static_cast<long long>(val.size() / 3);
            // A point that would stretch the kept window beyond the cap starts it afresh.
            if (count > 0 && (i < lattice->i0 + count - kMaxLatticePoints || i >= lattice->i0 + kMaxLatticePoints)) {
              val.clear();
              count = 0;
            }
            if (count == 0) {
              lattice->i0 = i;
              val.assign(3, kNaN);
            } else if (i < lattice->i0) {
              val.insert(val.begin(), static_cast<std::size_t>(3 * (lattice->i0 - i)), kNaN);
              lattice->i0 = i;
            } else if (i >= lattice->i0 + count) {
              val.resize(static_cast<std::size_t>(3 * (i - lattice->i0 + 1)), kNaN);
            }
            e = &val[static_cast<std::size_t>(3 * (i - lattice->i0))];
            if (std::isnan(e[0])) net_.derivatives(y, &v, &e[1], &e[2], &e[0]);
          } else {
            net_.derivatives(y, &v, &e[1], &e[2], &e[0]);
          }
          Gv = 0.5 * v * v + gamma * e[0];
          Hv = v + gamma * e[1];
          H1v = 1.0 + gamma * e[2];
        };
        su.clear();
        sG.clear();
        sH1.clear();
        double Gmax = 0.0;
        auto suspicious = [](double du, double Ha, double H1a, double Hb, double H1b) {
          if (H1a < 0 && H1b < 0) return false;  // inside a non-convex piece, which the hull sees
          if (H1a < 0 || H1b < 0 || Hb < Ha) return true;
          // p'(t)/du of the Hermite cubic on t ∈ [0, 1]: c0 + c1 t + c2 t², its minimum.
          const double s0 = H1a, s1 = H1b, m = (Hb - Ha) / du;
          const double c0 = s0, c1 = -4 * s0 - 2 * s1 + 6 * m, c2 = 3 * s0 + 3 * s1 - 6 * m;
          if (c2 > 0) {
            const double t = -c1 / (2 * c2);
            if (t > 0 && t < 1 && c0 + c1 * t + c2 * t * t < 0) return true;
          }
          return false;
        };
        {
          double Ga = 0.0, Ha = 0.0, H1a = 0.0;
          gsample(L, Ga, Ha, H1a);
          su.push_back(L);
          sG.push_back(Ga);
          sH1.push_back(H1a);
          Gmax = std::fabs(Ga);
          // The grid's spacing starts at base and doubles (up to kSplitMaxSpacing) over each interval
          // where G is clearly convex and H' nearly constant — ℓ's tails, which made up most of
          // the range (≈ 50 units for log cosh, whose ℓ grows like u²) — and returns to base
          // wherever it is not.
          double spacing = base;
          for (double ua = L; ua < Rr;) {
            const double ub = ua + spacing >= Rr - 0.5 * base ? Rr : ua + spacing;
            double Gb = 0.0, Hb = 0.0, H1b = 0.0;
            gsample(ub, Gb, Hb, H1b);
            // Bisect [su.back(), ub] depth-first, emitting the samples in order.
            using Pt = RefinePoint;
            std::vector<Pt>& stack = refine_stack;
            stack.clear();
            stack.push_back({ub, Gb, Hb, H1b});
            Pt a{su.back(), sG.back(), Ha, H1a};
            bool bisected = false;
            while (!stack.empty()) {
              const Pt b = stack.back();
              if (b.u - a.u > kSplitMinSpacing && suspicious(b.u - a.u, a.H, a.H1, b.H, b.H1)) {
                bisected = true;
                Pt mid{0.5 * (a.u + b.u), 0.0, 0.0, 0.0};
                geval(mid.u, mid.G, mid.H, mid.H1);
                stack.push_back(mid);
                continue;
              }
              stack.pop_back();
              su.push_back(b.u);
              sG.push_back(b.G);
              sH1.push_back(b.H1);
              Gmax = std::max(Gmax, std::fabs(b.G));
              a = b;
            }
            const bool flat = !bisected && H1a > kSplitFlatFloor && H1b > kSplitFlatFloor &&
                              std::fabs(H1b - H1a) <= kSplitFlatChange * std::min(H1a, H1b);
            spacing = flat ? std::min(2.0 * spacing, std::max(base, kSplitMaxSpacing)) : base;
            ua = ub;
            Ha = Hb;
            H1a = H1b;
          }
        }
        // A non-convex piece of G is born where a local minimum of H' = 1 + ΓD crosses 0, at a width
        // far below the grid's spacing; it is then seen by none of the tests above, and the hull of
        // the samples shows it only once G's dip exceeds round-off. Cutting it only then made T jump
        // (the nodes in [a, b] leave the moments at a finite width: 4.5e-4 in T_Γ for log cosh,
        // min(z², 4), δ = 1.58, where the group y = 0.4677 has its birth at Γ = 1/y, and the fixed
        // point had no solution). So every interior local minimum of the sampled H' that is still
        // positive is refined (golden section, to a bracket 1e-9 wide unless the minimum is
        // certainly positive first), and a point with H' ≤ 0 it finds joins the samples; the
        // bitangent of that piece is found below even where the hull does not see it.
        const std::size_t sampled = su.size();
        for (std::size_t i = 1; i + 1 < sampled; ++i) {
          if (!(sH1[i] > 0) || sH1[i] > sH1[i - 1] || sH1[i] > sH1[i + 1]) continue;
          // (The test that ends the search below, at the samples: flat stretches of H' ≈ 1, where G is
          // ℓ's tail, have local minima at round-off.)
          if (sH1[i] > 2.0 * (std::max(sH1[i - 1], sH1[i + 1]) - sH1[i])) continue;
          constexpr double kGolden = 0.6180339887498949;
          double lo = su[i - 1], hi = su[i + 1], f_lo = sH1[i - 1], f_hi = sH1[i + 1];
          double x1 = hi - kGolden * (hi - lo), x2 = lo + kGolden * (hi - lo);
          double G1 = 0.0, G2 = 0.0, Hx = 0.0, f1 = 0.0, f2 = 0.0;
          geval(x1, G1, Hx, f1);
          geval(x2, G2, Hx, f2);
          // Until a point with H' ≤ 0, or the minimum is certainly positive (the values inside the
          // bracket lie below its ends by far less than their level), or the bracket is 1e-9 wide.
          while (std::min(f1, f2) > 0 && std::min(f1, f2) <= 2.0 * (std::max(f_lo, f_hi) - std::min(f1, f2)) &&
                 hi - lo > 1e-9 * (1.0 + std::fabs(lo))) {
            if (f1 < f2) {
              hi = x2;
              f_hi = f2;
              x2 = x1;
              f2 = f1;
              G2 = G1;
              x1 = hi - kGolden * (hi - lo);
              geval(x1, G1, Hx, f1);
            } else {
              lo = x1;
              f_lo = f1;
              x1 = x2;
              f1 = f2;
              G1 = G2;
              x2 = lo + kGolden * (hi - lo);
              geval(x2, G2, Hx, f2);
            }
          }
          if (!(std::min(f1, f2) <= 0)) continue;
          dips.push_back({f1 < f2 ? x1 : x2, f1 < f2 ? G1 : G2, std::min(f1, f2)});
        }
        for (const Dip& d : dips) {
          const std::size_t at = static_cast<std::size_t>(std::upper_bound(su.begin(), su.end(), d.u) - su.begin());
          su.insert(su.begin() + static_cast<std::ptrdiff_t>(at), d.u);
          sG.insert(sG.begin() + static_cast<std::ptrdiff_t>(at), d.G);
          sH1.insert(sH1.begin() + static_cast<std::ptrdiff_t>(at), d.H1);
        }
        dips.clear();
        const int n = static_cast<int>(su.size()) - 1;
        hull.clear();
        for (int i = 0; i <= n; ++i) {
          while (hull.size() >= 2) {
            const int o = hull[hull.size() - 2], a = hull.back();
            if ((su[a] - su[o]) * (sG[i] - sG[o]) - (sG[a] - sG[o]) * (su[i] - su[o]) > 0) break;
            hull.pop_back();
          }
          hull.push_back(i);
        }
        cuts.clear();
        pieces.clear();
        bitangents.clear();
        found.clear();
        double piece_lo = L, piece_hi = Rr;
        // Newton on the Maxwell condition E(s) = G(b) − G(a) − s (b − a) = 0 over the slope s, with
        // a(s), b(s) the roots of H = s on the convex branches through a and b's starts (Newton from
        // the previous ones, abandoned where H' ≤ 0): dE/ds = −(b − a) (envelope theorem), and the
        // branches keep a and b apart.
        // (Gv: G at the returned root.)
        auto branch_root = [&](double& v, double target, double& Gv) {
          double Hv = 0.0, H1v = 0.0;
          for (int it = 0; it < 50; ++it) {
            geval(v, Gv, Hv, H1v);
            const double res = Hv - target;
            // H's resolution at v: its terms v and ΓF rounded (relative to their size, not to 1: at a
            // dip just born H − target is ~1e-15 where a and b still lie far apart relative to the
            // dip's width), and one rounding of v moves it by ε|v|H'.
            const double floor = 8 * kEps * (std::fabs(v) + std::fabs(Hv - v) + std::fabs(target)) +
                                 8 * kEps * (1.0 + std::fabs(v)) * std::fabs(H1v);
            if (std::fabs(res) <= floor) return true;
            if (!(H1v > 0)) return false;
            v -= res / H1v;
          }
          return false;
        };
        auto maxwell = [&](double& a, double& b, double& hc) {
          for (int it = 0; it < 40; ++it) {
            double ta = a, tb = b, Ga = 0.0, Gb = 0.0;
            if (!branch_root(ta, hc, Ga) || !branch_root(tb, hc, Gb) || !(tb > ta)) return false;
            a = ta;
            b = tb;
            // To E's round-off at these points (not relative to the largest |G| of the range: G's
            // far tails, u²/2 + Γℓ, reach 1e3–1e4 for log cosh and left h_c loose by 1e-10, so that
            // T moved by that much with the samples' positions).
            const double E = Gb - Ga - hc * (b - a);
            if (std::fabs(E) <= 64 * kEps * (std::fabs(Ga) + std::fabs(Gb) + std::fabs(hc * (b - a)))) return true;
            const double step = E / (b - a);
            hc += step;
            if (std::fabs(step) <= 4 * kEps * (1.0 + std::fabs(hc))) return true;
          }
          return false;
        };
        for (std::size_t e = 0; e + 1 < hull.size(); ++e) {
          const int i = hull[e], j = hull[e + 1];
          if (j == i + 1) continue;
          const double slope = (sG[j] - sG[i]) / (su[j] - su[i]);
          double gap = 0.0;
          for (int t = i + 1; t < j; ++t) gap = std::max(gap, sG[t] - sG[i] - slope * (su[t] - su[i]));
          if (!(gap > 1e-13 * (1.0 + Gmax))) continue;
          double a = su[i], b = su[j], hc = slope;
          const bool converged = maxwell(a, b, hc) && a > su[0] && b < su[n];
          if (!converged && (i == 0) != (j == n)) {
            // The tangent from the range's end (L, G(L)) or (Rr, G(Rr)) to G: Newton on
            // f(v) = G(v) − G(end) − H(v)(v − end), f' = −H'(v)(v − end), from the edge's other end.
            const double end_u = i == 0 ? su[0] : su[n], end_G = i == 0 ? sG[0] : sG[n];
            double v = i == 0 ? su[j] : su[i];
            for (int it = 0; it < 60; ++it) {
              geval(v, G, H, H1);
              const double f = G - end_G - H * (v - end_u), df = -H1 * (v - end_u);
              if (std::fabs(f) <= 64 * kEps * (std::fabs(G) + std::fabs(end_G) + std::fabs(H * (v - end_u))) ||
                  !(std::fabs(df) > 0)) {
                break;
              }
              const double next = v - f / df;
              if (!(next > su[i == 0 ? 0 : i - 1] && next < su[j == n ? n : j + 1])) break;
              v = next;
            }
            if (i == 0) {
              piece_lo = v;
            } else {
              piece_hi = v;
            }
            continue;
          }
          if (!converged) {
            // The hull's estimate (the sampled edge), which leaves T non-smooth at the sampling's
            // resolution here.
            a = su[i];
            b = su[j];
            hc = slope;
          }
          found.push_back({a, b, hc});
        }
        // Each run of samples with H' ≤ 0 inside the contact range that no bitangent covers (a dip
        // too shallow for the hull to resolve in G, e.g. one just born): its bitangent by the
        // Maxwell Newton from the samples on either side, from the slope H(u_m) at the run's
        // sample of least H' (between H's local extremes around the dip; for a dip of width w the
        // Maxwell slope to O(w²), exactly for a symmetric one).
        for (int r0 = 1; r0 < n; ++r0) {
          if (sH1[r0] > 0) continue;
          int r1 = r0, least = r0;
          while (r1 + 1 < n && !(sH1[r1 + 1] > 0)) {
            ++r1;
            if (sH1[r1] < sH1[least]) least = r1;
          }
          const double ul = su[r0 - 1], ur = su[r1 + 1];
          bool covered = !(ul > piece_lo) || !(ur < piece_hi);
          for (const Bitangent& f : found) covered = covered || (f.a < su[r1] && f.b > su[r0]);
          if (!covered) {
            double a = ul, b = ur, hc = 0.0, Gm = 0.0, H1m = 0.0;
            geval(su[least], Gm, hc, H1m);
            if (maxwell(a, b, hc) && a > ul - (ur - ul) && b < ur + (ur - ul)) found.push_back({a, b, hc});
          }
          r0 = r1;
        }
        std::sort(found.begin(), found.end(), [](const Bitangent& x, const Bitangent& y) { return x.a < y.a; });
        for (const Bitangent& f : found) {
          if (!(f.a > piece_lo) || !(f.b > f.a) || !(f.b < piece_hi)) continue;
          pieces.emplace_back(piece_lo, f.a);
          piece_lo = f.b;
          cuts.push_back((f.hc - mean) / R);
          bitangents.emplace_back(f.a, f.b);
        }
        pieces.emplace_back(piece_lo, std::max(piece_lo, piece_hi));
        // 3. The nodes, in u: per kept panel [e_P, e_{P+1}] of ξ, Gauss–Legendre nodes on
        //    [u*(h(e_P)), u*(h(e_{P+1}))] cut into [·, a] and [b, ·] at each bitangent inside, with
        //    the density of h there, φ(ξ(u)) H'(u)/R du, ξ(u) = (H(u) − mean)/R (u is the prox of
        //    h = H(u) exactly). In h the integrand has a peak of height ~1/H' where H' = 1 + ΓD
        //    nearly vanishes on the envelope (near a bitangent that is about to form; D/(1 + ΓD) is
        //    one of the moments); in u it is smooth.
        // u*(h) at a panel end: the root of H(u) = h on the contact piece of h (bracketed Newton).
        bool ends_converged = true;
        // `from_left`: the limit from below at a cut that falls on xi (a panel's upper end), else
        // from above.
        auto root = [&](double xi, double start, bool from_left) {
          const double hv = mean + R * xi;
          std::size_t piece = 0;
          while (piece < cuts.size() && (from_left ? xi > cuts[piece] : xi >= cuts[piece])) ++piece;
          double lo = pieces[piece].first, hi = std::max(lo, pieces[piece].second);
          double v = std::clamp(start, lo, hi), G = 0.0, H = 0.0, H1 = 0.0;
          for (int it = 0; it < 200; ++it) {
            geval(v, G, H, H1);
            const double res = H - hv;
            if (std::fabs(res) <= opt_.prox_tol * (1.0 + std::fabs(v))) return v;
            (res < 0 ? lo : hi) = v;
            double next = H1 > 0 ? v - res / H1 : 0.5 * (lo + hi);
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (next == v || hi - lo <= 1e-15 * (1.0 + std::fabs(v))) {
              ends_converged = ends_converged && std::fabs(res) <= 1e-8 * (1.0 + std::fabs(v));
              return v;
            }
            v = next;
          }
          ends_converged = false;
          return v;
        };
        std::size_t c = 0;
        double ua = root(ends_[P0], pieces.front().first, false);
        for (std::size_t P = P0; P < P1; ++P) {
          const double xa = ends_[P], xb = ends_[P + 1];
          if (P > P0 && std::find(cuts.begin(), cuts.end(), xa) != cuts.end()) ua = root(xa, ua, false);
          const double ub = root(xb, ua, true);
          while (c < cuts.size() && cuts[c] <= xa) ++c;
          double lo = ua;
          bool cut_here = false;
          for (;;) {
            const bool at_cut = c < cuts.size() && cuts[c] < xb;
            const double hi = at_cut ? bitangents[c].first : ub;
            if (hi > lo) {
              const double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
              for (std::size_t i = 0; i < ref_x_.size(); ++i) {
                const double v = mid + half * ref_x_[i];
                double G = 0.0, H = 0.0, H1 = 0.0;
                geval(v, G, H, H1);
                const double xi = (H - mean) / R;
                const double w_rule = half * ref_w_[i] * std::exp(-0.5 * xi * xi) * std::max(H1, 0.0) / (R * split_norm_);
                if (pruned(group.weight * w_rule)) {
                  p.pruned_mass += group.weight * w_rule;
                  continue;
                }
                u[0] = v;
                const double phi = 0.5 * gamma * F[0] * F[0] + lval;  // h − u = ΓF
                const bool cert = opt_.prox_convexity_certificate &&
                                  convex_by_suprema(sup_abs_loss_d1(y, phi, lval, Gamma), gamma_max);
                add_node(group, y, w_rule, u, lval, F, D, true, cert, Gamma, Ginv, law, p);
              }
            }
            if (!at_cut) break;
            cut_here = true;
            lo = bitangents[c].second;
            ++c;
          }
          if (cut_here) ++p.split_panels;
          ua = ub;
        }
        if (!ends_converged) p.prox_failures += group.weight;
      }
    }
  }

  // The proximal point u = argmin φ, φ(u) = ½(u − h)ᵀΓ^{-1}(u − h) + ℓ(y, f(u)): the leave-one-out
  // u of a sample at a minimum of the risk is the global minimiser of φ (El Karoui arXiv
  // 1311.2445). φ(u*) ≤ φ(h) = ℓ(y, f(h)) confines u* to the ellipsoid ‖u − h‖²_{Γ^{-1}} ≤ 2ℓ(y, f(h)).
  // For non-convex ℓ∘f a local Newton from h can stop on a branch that is not the global one and
  // then follow it to its spinodal, where Γ^{-1} + D → 0 and D takes values near −Γ^{-1} that
  // the global minimiser never visits (they would move the Hessian's bulk edge). So Newton starts
  // from h and from points spread over the ellipsoid (m = 1: the best of a 17-point grid on the
  // interval; m ≥ 2: h ± radius along each eigen-axis of Γ) and the lowest φ is kept — unless φ is
  // certifiably convex where a better point could lie (convex_by_suprema, convex_on_box; `certified`), then
  // Newton from h is the global minimiser (measured: 65 % of the law's mass for softplus m = 2 at
  // δ = 3 and 35–43 % at its thresholds δ = 1.8, 2.1; all of it for tanh m = 1 at δ = 6 and m = 4 at
  // δ = 20; log cosh m = 1, ridge 0.05: 72 % at δ = 8, 84 % at δ = 16).
  // Returns whether Newton converged; fills u, ℓ, F, D at the minimiser, and `u_local` (optional)
  // with the end point of Newton from h (the first start, so the local prox costs nothing extra).
  // `axes`: the columns of Γ^{1/2} along the eigenvectors of Γ (used for m ≥ 2); `gamma_max`: λ_max(Γ).
  bool prox(double y, const Vec& h, const Mat& Gamma, const Mat& Ginv, const Mat& axes, double gamma_max,
            bool global, Vec& u, double& lval, Vec& F, Mat& D, Vec* u_local, bool& certified) const {
    const int m = net_.width();
    // Newton from h first: where φ is certifiably convex on the set that holds every better point,
    // it is the global minimiser and the other starts are skipped (convex_by_suprema, convex_on_box).
    double phi_local = 0.0;
    const bool local_converged = newton(y, h, Gamma, Ginv, h, u, lval, phi_local, F, D);
    if (u_local) *u_local = u;
    certified = false;
    if (global && opt_.prox_convexity_certificate && local_converged) {
      const double sup_l1 = sup_abs_loss_d1(y, phi_local, lval, Gamma);
      certified = convex_by_suprema(sup_l1, gamma_max) ||
                  (opt_.prox_interval_certificate && convex_on_box(y, h, phi_local, sup_l1, Gamma, Ginv, gamma_max));
    }
    if (!global || certified) return local_converged;
    double l_h = 0.0;
    net_.derivatives(y, h.data(), nullptr, nullptr, &l_h);
    const double radius = std::sqrt(2.0 * std::max(l_h, 0.0));
    std::vector<Vec> starts;
    if (radius > 0) {
      if (m == 1) {
        const double half = radius * std::sqrt(Gamma(0, 0));
        double best = std::numeric_limits<double>::infinity();
        Vec cand = h, best_u = h;
        for (int i = 0; i <= 16; ++i) {
          cand[0] = h[0] - half + 2.0 * half * i / 16.0;
          double l = 0.0;
          net_.derivatives(y, cand.data(), nullptr, nullptr, &l);
          const double phi = 0.5 * (cand[0] - h[0]) * (cand[0] - h[0]) * Ginv(0, 0) + l;
          if (phi < best) {
            best = phi;
            best_u = cand;
          }
        }
        if ((best_u - h).norm() > 0) starts.push_back(best_u);
      } else {
        for (int j = 0; j < m; ++j) {
          const Vec axis = axes.col(j) * radius;
          starts.push_back(h + axis);
          starts.push_back(h - axis);
        }
      }
    }
    double best_phi = phi_local;
    bool best_converged = local_converged;
    Vec cu = Vec::Zero(m), cF = Vec::Zero(m);
    Mat cD = Mat::Zero(m, m);
    for (const Vec& start : starts) {
      double cl = 0.0, cphi = 0.0;
      // The stop applies only where the best point so far is a converged minimiser.
      bool reached_known = false;
      const bool ok = newton(y, h, Gamma, Ginv, start, cu, cl, cphi, cF, cD,
                             opt_.prox_stop_at_known_minimiser && best_converged ? &u : nullptr, &reached_known);
      if (reached_known) continue;  // on its way to the best minimiser found so far
      if (cphi < best_phi) {
        best_phi = cphi;
        best_converged = ok;
        u = cu;
        lval = cl;
        F = cF;
        D = cD;
      }
    }
    return best_converged;
  }

  // Whether φ(v) = ½(v − h)ᵀΓ⁻¹(v − h) + ℓ(y, f(v)) is strictly convex on the ellipsoid
  // E = {½(v − h)ᵀΓ⁻¹(v − h) ≤ φ(u)}, u a stationary point: E is convex and holds u and every v with
  // φ(v) ≤ φ(u) (ℓ ≥ 0), so u is then the global minimiser. On E, ∇²φ = Γ⁻¹ + D(v) ⪰
  // Γ⁻¹ + diag(ℓ'(v) a ⊙ σ''(v)), because D = ℓ'' J Jᵀ + ℓ' diag(a ⊙ σ'') and ℓ'' ≥ 0 for both losses.
  // Two bounds on the diagonal term, tried in turn:
  // 1. Global suprema: ⪰ (1/λ_max(Γ) − B) I with B = sup|ℓ'| · max_j |a_j| · sup|σ''|. sup|ℓ'|:
  //    |y| for the logistic loss; for the square loss |f(v) − y| ≤ min(|y| + Σ|a_j| sup|σ|,
  //    √(2ℓ(u)) + 2 Σ_j |a_j| sup|σ'| r_j), since |v_j − h_j| and |u_j − h_j| are both ≤ r_j =
  //    √(2φ(u)Γ_jj) on E. Never for quadratic (sup|σ'| = ∞), He_K and relu (sup|σ''| = ∞).
  // 2. (prox_interval_certificate) Per neuron on the box Π_j [h_j − r_j, h_j + r_j] ⊇ E: the ranges
  //    of σ(v_j) and σ''(v_j) there (Activation::ranges) bound f(v), hence ℓ'(v)
  //    (increasing in f for both losses; also within the bound of 1), and each ℓ' a_j σ''(v_j) from
  //    below by c_j; certified when Γ⁻¹ + diag(c) − ε I has a Cholesky factor. The box first
  //    shrinks: on it ℓ ≥ L, the least loss over its range of f, so every v with φ(v) ≤ φ(u) has
  //    ½(v − h)ᵀΓ⁻¹(v − h) ≤ φ(u) − L, a smaller ellipsoid (still convex, still holding u) and box
  //    (up to kCertificateShrinks times). That matters where y lies outside the range of f (z²
  //    labels beyond Σ|a_j| sup|σ|): there φ(u) is mostly the loss no v can avoid. Every c_j ≥ −B,
  //    so 2 certifies wherever 1 does; it also covers the quadratic activation (σ'' = 2, the box's
  //    f finite). He_K and relu never certify.
  // sup_abs_loss_d1 is sup|ℓ'| of bound 1, convex_by_suprema bound 1, convex_on_box bound 2 (which
  // takes bound 1's sup|ℓ'| as a second bound on ℓ'). The split rule uses bound 1 only: its nodes are
  // global minimisers by construction and only report the certificate.
  double sup_abs_loss_d1(double y, double phi, double l_u, const Mat& Gamma) const {
    if (net_.loss().kind() == model::Loss::Kind::logistic) return std::fabs(y);
    double spread = 0.0;
    for (int j = 0; j < net_.width(); ++j) spread += std::fabs(net_.a()[j]) * std::sqrt(2.0 * std::max(phi, 0.0) * Gamma(j, j));
    return std::min(std::fabs(y) + sum_abs_a_ * sup_value_, std::sqrt(2.0 * std::max(l_u, 0.0)) + 2.0 * sup_d1_ * spread);
  }
  bool convex_by_suprema(double sup_l1, double gamma_max) const {
    return gamma_max > 0 && std::isfinite(sup_d2_) && gamma_max * sup_l1 * max_abs_a_ * sup_d2_ < 1.0 - 1e-9;
  }
  bool convex_on_box(double y, const Vec& h, double phi, double sup_l1, const Mat& Gamma, const Mat& Ginv,
                     double gamma_max) const {
    if (!(gamma_max > 0)) return false;
    const int m = net_.width();
    const bool logistic = net_.loss().kind() == model::Loss::Kind::logistic;
    // a·[lo, hi] as an interval.
    auto scaled = [](double a, const model::Activation::Range& r) {
      return a >= 0 ? model::Activation::Range{a * r.lo, a * r.hi} : model::Activation::Range{a * r.hi, a * r.lo};
    };
    // The box of the ellipsoid ½(v − h)ᵀΓ⁻¹(v − h) ≤ level: the range of f and of each σ'' on it.
    double f_lo = 0.0, f_hi = 0.0;
    model::Activation::Range s2[kMaxWidth];
    auto ranges_on_box = [&](double level) {
      f_lo = f_hi = 0.0;
      for (int j = 0; j < m; ++j) {
        const double r = std::sqrt(2.0 * level * Gamma(j, j));
        const model::Activation::Ranges box = net_.activation().ranges(h[j] - r, h[j] + r);
        const model::Activation::Range f_j = scaled(net_.a()[j], box.value);
        s2[j] = box.d2;
        f_lo += f_j.lo;
        f_hi += f_j.hi;
      }
    };
    // u lies in every ellipsoid below: the margin covers the rounding of φ(u) and L.
    const double margin = 1e-12 * (1.0 + std::fabs(phi));
    double level = std::max(phi, 0.0) + margin;
    ranges_on_box(level);
    for (int shrink = 0; shrink < kCertificateShrinks && std::isfinite(f_lo) && std::isfinite(f_hi); ++shrink) {
      double least = 0.0;  // the least loss over f ∈ [f_lo, f_hi]
      if (logistic) {
        least = std::min(net_.loss().value(y, f_lo), net_.loss().value(y, f_hi));
      } else if (y < f_lo || y > f_hi) {
        const double gap = y < f_lo ? f_lo - y : y - f_hi;
        least = 0.5 * gap * gap;
      }
      const double next = std::max(phi - least, 0.0) + margin;
      if (!(next < 0.9 * level)) break;
      level = next;
      ranges_on_box(level);
    }
    for (int j = 0; j < m; ++j) {
      if (!std::isfinite(s2[j].lo) || !std::isfinite(s2[j].hi)) return false;
    }
    // ℓ' over f ∈ [f_lo, f_hi] (ℓ' is increasing in f), intersected with |ℓ'| ≤ sup_l1.
    double l1_lo = -sup_l1, l1_hi = sup_l1;
    if (std::isfinite(f_lo)) l1_lo = std::max(l1_lo, net_.loss().d1(y, f_lo));
    if (std::isfinite(f_hi)) l1_hi = std::min(l1_hi, net_.loss().d1(y, f_hi));
    if (!std::isfinite(l1_lo) || !std::isfinite(l1_hi)) return false;
    Mat A = Ginv;
    for (int j = 0; j < m; ++j) {
      const model::Activation::Range c = scaled(net_.a()[j], s2[j]);
      A(j, j) += std::min(std::min(l1_lo * c.lo, l1_lo * c.hi), std::min(l1_hi * c.lo, l1_hi * c.hi)) - 1e-9 / gamma_max;
    }
    return cholesky_in_place(A);
  }

  // Damped Newton on ∇φ = Γ^{-1}(u − h) + F(y, u) = 0 from `start`, with a Levenberg shift when
  // Γ^{-1} + D is not positive definite and backtracking on φ. Each evaluation gives φ, F and D
  // at once; an accepted trial point is the next iterate. With `known` (a minimiser of φ found
  // already), stops with *reached_known = true once an iterate lies within
  // kKnownMinimiserDistance (1 + ‖u‖∞) of it.
  bool newton(double y, const Vec& h, const Mat& Gamma, const Mat& Ginv, const Vec& start, Vec& u, double& lval,
              double& phi, Vec& F, Mat& D, const Vec* known = nullptr, bool* reached_known = nullptr) const {
    const int m = net_.width();
    double Fbuf[kMaxWidth], Dbuf[kMaxWidth * kMaxWidth];
    const Mat I = Mat::Identity(m, m);
    Vec g = Vec::Zero(m), step = Vec::Zero(m), trial = Vec::Zero(m);
    Mat Hp = Mat::Zero(m, m);
    auto evaluate = [&](const Vec& v, double& phi_out) {
      net_.derivatives(y, v.data(), Fbuf, Dbuf, &lval);
      const Vec dv = v - h;
      phi_out = 0.5 * dv.dot(Ginv.lazyProduct(dv)) + lval;
    };
    auto load = [&]() {
      for (int j = 0; j < m; ++j) {
        F[j] = Fbuf[j];
        for (int l = 0; l < m; ++l) D(j, l) = Dbuf[j * m + l];
      }
    };
    u = start;
    evaluate(u, phi);
    for (int it = 0; it <= opt_.prox_max_iter; ++it) {
      load();
      const Vec r = u - h + Gamma.lazyProduct(F);
      const double rn = r.template lpNorm<Eigen::Infinity>(), un = 1.0 + u.template lpNorm<Eigen::Infinity>();
      if (rn <= opt_.prox_tol * un) return true;
      if (known && (u - *known).template lpNorm<Eigen::Infinity>() <= kKnownMinimiserDistance * un) {
        *reached_known = true;
        return true;
      }
      if (it == opt_.prox_max_iter) return false;
      g = Ginv.lazyProduct(u - h) + F;
      Hp = Ginv + D;
      double shift = 0.0;
      Mat Hs = Hp;
      for (int tries = 0; tries < 60; ++tries) {
        Hs = Hp + shift * I;
        if constexpr (N == 1 || N == 2) {
          if (positive_definite(Hs)) break;
        } else {
          if (cholesky_in_place(Hs)) break;  // Hs now holds the factor
        }
        shift = shift == 0.0 ? 1e-8 * (1.0 + Hp.diagonal().cwiseAbs().maxCoeff()) : 10.0 * shift;
      }
      if constexpr (N == 1 || N == 2) {
        step = -(Hs.inverse() * g);  // closed form
      } else {
        step = -cholesky_solve(Hs, g);
      }
      // Near the root the decrease of φ is below its round-off: the full Newton step is taken
      // without the Armijo test (quadratic convergence region).
      const bool near_root = rn <= 1e-7 * un;
      double t_step = 1.0;
      bool accepted = false;
      for (int ls = 0; ls < 40; ++ls) {
        trial = u + t_step * step;
        double phi_trial = 0.0;
        evaluate(trial, phi_trial);
        if (std::isfinite(phi_trial) && (near_root || phi_trial <= phi + 1e-4 * t_step * g.dot(step))) {
          u = trial;
          phi = phi_trial;
          accepted = true;
          break;
        }
        t_step *= 0.5;
      }
      if (!accepted) {
        // No decrease is possible at this precision: u is a minimiser to round-off.
        evaluate(u, phi);
        load();
        return rn <= 1e-8 * un;
      }
    }
    return false;
  }

 private:
  const TeacherNodes& teacher_;
  const TeacherGroups& groups_;
  core::Parallel& pool_;  // the solve's threads (run() is called by one map at a time)
  const Network& net_;
  double delta_eff_;
  const FixedPointOptions& opt_;
  std::vector<double> xi_, xi_w_;
  // Principal-axis rule (empty when not used): nodes (ξ, η) of m + 1 coordinates with their
  // weights; axis_*: the 1-D rule of ξ alone (used where λ₂ = 0 to round-off).
  std::vector<double> principal_x_, principal_w_, axis_x_, axis_w_;
  std::vector<bool> hard_;
  bool global_ = false;
  // The split rule (build_split_rule, accumulate_split): panel ends, the first node of each panel
  // (and the node count last), the Gauss–Legendre rule on [−1, 1] ascending, and the normalisation
  // of the rule's weights.
  bool split_ = false;
  std::vector<double> ends_, ref_x_, ref_w_;
  std::vector<std::size_t> first_;
  double split_norm_ = 1.0;
  // Bounds for convex_by_suprema and sup_abs_loss_d1: max_j |a_j|, Σ_j |a_j|, sup|σ|, sup|σ'|, sup|σ''|.
  double max_abs_a_ = 0.0, sum_abs_a_ = 0.0, sup_value_ = 0.0, sup_d1_ = 0.0, sup_d2_ = 0.0;

};

// `applications` (may be null) counts the map's applications of T (FixedPointResult::map_applications).
std::unique_ptr<FixedPointMap> make_map(const TeacherNodes& teacher, const TeacherGroups& groups, core::Parallel& pool,
                                        const Network& net, double delta, const FixedPointOptions& opt,
                                        const GaussianRuleOptions& rule, bool global, int* applications,
                                        bool principal = false) {
  std::unique_ptr<FixedPointMap> map;
  switch (net.width()) {
    case 1: map = std::make_unique<FixedPointMapT<1>>(teacher, groups, pool, net, delta, opt, rule, global, principal); break;
    case 2: map = std::make_unique<FixedPointMapT<2>>(teacher, groups, pool, net, delta, opt, rule, global, principal); break;
    // Fixed-size kernels for m = 3, 4 (the prox's Newton, the map's loop and its 4×4 pivoted
    // inverse were 20 %, 10 % and 8 % of a tanh m = 4 `nn` profile with the dynamic size).
    case 3: map = std::make_unique<FixedPointMapT<3>>(teacher, groups, pool, net, delta, opt, rule, global, principal); break;
    case 4: map = std::make_unique<FixedPointMapT<4>>(teacher, groups, pool, net, delta, opt, rule, global, principal); break;
    default: map = std::make_unique<FixedPointMapT<Eigen::Dynamic>>(teacher, groups, pool, net, delta, opt, rule, global, principal);
  }
  map->applications = applications;
  return map;
}

// A map that remembers T(x) (without a law) at every point it was applied to during one solve, so
// that applying it again at the same point costs a lookup: the solvers hand on the point of lowest
// residual they applied T at, and the next stage starts there (the Anderson stage after Broyden,
// the second round of the resolution-limited continuation) or the quadrature-error estimate
// evaluates T there. Keyed by the exact bits of (M, Q, Γ) (all entries: Q and Γ may be symmetric
// only to round-off); T is deterministic (kMapChunks), so a hit returns what the application would.
// Holds one solve's applications (at most a few hundred MapOutputs of size O(m²)).
class MemoMap final : public FixedPointMap {
 public:
  explicit MemoMap(std::unique_ptr<FixedPointMap> inner) : inner_(std::move(inner)) {}
  MapOutput apply(const Params& x, Law* law) const override {
    if (law) return inner_->apply(x, law);
    std::vector<double> key = key_of(x);
    for (const auto& [k, out] : memo_) {
      if (k == key) return out;
    }
    memo_.emplace_back(std::move(key), inner_->apply(x, nullptr));
    return memo_.back().second;
  }
  // Records T(x) computed by another map of the same rule and prox (the law-writing application
  // at a point, whose moments are those of the plain one), so that an application at x here
  // returns it.
  void remember(const Params& x, const MapOutput& out) const { memo_.emplace_back(key_of(x), out); }
  std::size_t rule_size() const override { return inner_->rule_size(); }

 private:
  static std::vector<double> key_of(const Params& x) {
    std::vector<double> key(x.M.data(), x.M.data() + x.M.size());
    key.insert(key.end(), x.Q.data(), x.Q.data() + x.Q.size());
    key.insert(key.end(), x.Gamma.data(), x.Gamma.data() + x.Gamma.size());
    return key;
  }
  std::unique_ptr<FixedPointMap> inner_;
  mutable std::vector<std::pair<std::vector<double>, MapOutput>> memo_;
};

double max_norm(const Eigen::VectorXd& v) { return v.size() ? v.lpNorm<Eigen::Infinity>() : 0.0; }

// Forward-difference Jacobian of G(X) = T(X) − X over the free coordinates at x (G(x) = g given):
// one application of T per column. Step √ε_T·(1 + |x|), ε_T ≈ 1e-13 the relative accuracy of T (the
// prox is solved to 1e-12): the Jacobian is accurate to ~1e-6, enough for Newton steps that gain
// 6 digits each. False when Γ is undefined at a perturbed point.
bool fd_jacobian(const FixedPointMap& map, const Params& x, const Eigen::VectorXd& g, const std::vector<int>& free,
                 Eigen::MatrixXd& J, int& evaluations) {
  const Eigen::VectorXd xv = x.pack();
  const int n = static_cast<int>(free.size());
  J.resize(n, n);
  for (int c = 0; c < n; ++c) {
    const double step = 3e-7 * (1.0 + std::fabs(xv[free[c]]));
    Eigen::VectorXd xp = xv;
    xp[free[c]] += step;
    Params p = x;
    p.unpack(xp);
    const MapOutput tp = map.apply(p, nullptr);
    ++evaluations;
    if (!tp.gamma_defined) {
      J.resize(0, 0);  // not a half-filled matrix: the caller may pass J on (broyden_from)
      return false;
    }
    const Eigen::VectorXd gp = tp.next.pack() - xp;
    for (int r = 0; r < n; ++r) J(r, c) = (gp[free[r]] - g[free[r]]) / step;
  }
  if (!J.allFinite()) {
    J.resize(0, 0);
    return false;
  }
  return true;
}

// Backtracking along a quasi-Newton direction dx (free coordinates): tries x + s·dx for
// s = 1, 1/2, … (at most `tries` values, while evaluations < budget) and moves (x, xv, g, t,
// residual) to the first admissible point where Γ is defined and ‖G‖∞ falls below `residual`.
// A trial point whose Q − MᵀM is not positive semidefinite is projected onto that cone
// (make_admissible) first. Returns the step factor accepted, or 0 when none was; the step
// actually taken is the change of xv (it differs from s·dx where the point was projected).
double backtrack(const FixedPointMap& map, const Eigen::VectorXd& dx, const std::vector<int>& free, int tries,
                 int budget, int& evaluations, Params& x, Eigen::VectorXd& xv, Eigen::VectorXd& g, MapOutput& t,
                 double& residual) {
  if (!dx.allFinite()) return 0.0;
  double s = 1.0;
  for (int i = 0; i < tries && evaluations < budget; ++i, s *= 0.5) {
    Eigen::VectorXd xt = xv;
    for (std::size_t r = 0; r < free.size(); ++r) xt[free[r]] += s * dx[static_cast<Eigen::Index>(r)];
    Params p = x;
    p.unpack(xt);
    if (!admissible(p)) {
      if (!make_admissible(p)) continue;
      xt = p.pack();
    }
    MapOutput tt = map.apply(p, nullptr);
    ++evaluations;
    const Eigen::VectorXd gt = tt.next.pack() - xt;
    if (!tt.gamma_defined || !gt.allFinite()) continue;
    const double rt = max_norm(gt);
    if (rt < residual) {
      x = p;
      xv = xt;
      g = gt;
      t = std::move(tt);
      residual = rt;
      return s;
    }
  }
  return 0.0;
}

// Newton on G(X) = T(X) − X with a forward-difference Jacobian over the free coordinates (the
// rows of M of the hard latents are 0 and T keeps them 0, so they are left out). Where ∂T has an
// eigenvalue near 1 (near a threshold the phase-1 minimum is about to lose stability, pitfall 9)
// damped and Anderson iterations contract slowly, while Newton converges quadratically as long as
// ∂G is invertible and T is smooth. One step costs (free coordinates + 1) applications of T, e.g.
// 7 for m = 2, k = 1. It does not help where the discretised T is discontinuous (a node's
// Newton-from-h prox switching between local minima; measured for softplus m = 2 near δ ≈ 1.6,
// docs/nn.md), hence FixedPointOptions::newton_after = 0 by default. Backtracking on ‖G‖∞ keeps
// the iterate admissible; a step that does not decrease ‖G‖∞ ends the Newton phase (returns
// false) and the caller goes on with the Anderson iteration. `evaluations` counts the applications
// of T.
bool newton_polish(const FixedPointMap& map, Params& x, const std::vector<int>& free, const FixedPointOptions& opt,
                   int budget, int& evaluations, double& residual, bool& converged) {
  converged = false;
  Eigen::VectorXd xv = x.pack();
  MapOutput t = map.apply(x, nullptr);
  ++evaluations;
  if (!t.gamma_defined) return false;
  Eigen::VectorXd g = t.next.pack() - xv;
  residual = max_norm(g);
  const int n = static_cast<int>(free.size());
  while (evaluations + n + 1 <= budget) {
    if (residual <= opt.tol * (1.0 + max_norm(xv))) {
      converged = true;
      return true;
    }
    Eigen::MatrixXd J;
    if (!fd_jacobian(map, x, g, free, J, evaluations)) return false;
    Eigen::VectorXd gf(n);
    for (int r = 0; r < n; ++r) gf[r] = g[free[r]];
    const Eigen::VectorXd dx = J.colPivHouseholderQr().solve(-gf);
    // Step factors 1 … 2⁻⁹.
    if (backtrack(map, dx, free, 10, budget, evaluations, x, xv, g, t, residual) == 0.0) return false;
  }
  converged = residual <= opt.tol * (1.0 + max_norm(xv));
  return converged;
}

// Fills the branch's (M, Q, Γ) from x and its loss, risk and masses from t = T(x).
void record_point(const Params& x, const MapOutput& t, double ridge, FixedPointBranch& br) {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Mr = x.M;
  br.M.assign(Mr.data(), Mr.data() + Mr.size());
  br.Q.assign(x.Q.data(), x.Q.data() + x.Q.size());
  br.Gamma.assign(x.Gamma.data(), x.Gamma.data() + x.Gamma.size());
  br.train_loss = t.train_loss;
  br.risk = t.train_loss + 0.5 * ridge * x.Q.trace();
  br.nonconvex_mass = t.nonconvex_mass;
  br.prox_failures = t.prox_failures;
}

// Damped iteration with Anderson acceleration (type II, Walker & Ni, SIAM J. Numer. Anal. 49
// (2011)); an accelerated point outside Q − MᵀM ⪰ 0 is projected onto that cone, and where it is
// still not admissible (Γ not positive definite) the damped step replaces it and the history is
// cleared. Plain iteration slows down near thresholds (pitfall 9); Anderson mixing of the
// last few residuals restores fast convergence for these low-dimensional maps.
// After opt.newton_after steps without convergence the Newton phase (newton_polish) is tried once.
// `stop_on_stall`: the stall test abandons the iteration whenever its best residual has not halved
// over a window, even where halving once per window could still reach tol (the continuation's
// stages, whose fallback is the full path).
// `known`: the packed solutions (Params::pack) that earlier cold starts converged to. The iteration
// stops, with *merged_into set to the index of a known solution, once its residual r is below
// kMergeResidual (1 + ‖X‖∞) and that solution lies within kMergeDistance · r of the iterate: the
// start is then heading for it, and the remaining iterations would only confirm what
// same_solution would find (its tolerances, 1e-6 on the spectrum of Q, are of the same size).
// Measured, cold starts at δ = 0.05, tanh m = 2, fixed:0.5,0.5, z1 + z2² (latent 2 hard): starts
// 2–6 stop at 9–10 applications of T instead of 17–25.
FixedPointBranch solve_from(const FixedPointMap& map, Params x, const FixedPointOptions& opt, int start,
                            const std::vector<int>& free, bool stop_on_stall = false,
                            const std::vector<Eigen::VectorXd>* known = nullptr, int* merged_into = nullptr) {
  FixedPointBranch br;
  br.start = start;
  bool newton_tried = false;
  std::vector<Eigen::VectorXd> dX, dG;
  Eigen::VectorXd x_prev, g_prev;
  // Stall test (FixedPointOptions::stall_window): best residual at the start of the current window.
  double window_best = std::numeric_limits<double>::infinity(), best = window_best;
  // T applied at the final x (the converged point), so that its loss and masses need no extra
  // application.
  std::optional<MapOutput> at_x;
  // Without convergence the branch is the iterate of lowest residual (where Γ is defined), not the
  // last one: where the discretised T has no fixed point to tol the residual fluctuates at the
  // size of its jumps, and the caller may accept the best point (see law_resolution_limited).
  std::optional<std::pair<Params, MapOutput>> best_point;
  double best_point_residual = std::numeric_limits<double>::infinity();
  for (int it = 1; it <= opt.max_iter; ++it) {
    if (opt.newton_after > 0 && !newton_tried && it > opt.newton_after) {
      // Anderson has not converged within newton_after steps: switch to Newton (newton_polish).
      newton_tried = true;
      Params trial = x;
      int evaluations = 0;
      double residual = 0.0;
      bool converged = false;
      newton_polish(map, trial, free, opt, opt.max_iter - it + 1, evaluations, residual, converged);
      it += evaluations;
      br.iterations = it - 1;
      if (converged) {
        x = trial;
        br.residual = residual;
        br.status = Status::success;
        break;
      }
      if (residual < br.residual) x = trial;
      dX.clear();
      dG.clear();
      x_prev.resize(0);
      if (it > opt.max_iter) break;
    }
    const MapOutput t = map.apply(x, nullptr);
    br.iterations = it;
    const Eigen::VectorXd xv = x.pack();
    const Eigen::VectorXd gv = t.next.pack() - xv;
    if (!gv.allFinite()) {
      br.status = Status::numerical_issue;
      break;
    }
    br.residual = max_norm(gv);
    if (t.gamma_defined && br.residual <= opt.tol * (1.0 + max_norm(xv))) {
      br.status = Status::success;
      at_x = t;
      break;
    }
    if (known && merged_into && t.gamma_defined && br.residual <= kMergeResidual * (1.0 + max_norm(xv))) {
      for (std::size_t c = 0; c < known->size() && *merged_into < 0; ++c) {
        if (max_norm(xv - (*known)[c]) <= kMergeDistance * br.residual) *merged_into = static_cast<int>(c);
      }
      if (*merged_into >= 0) {
        br.status = Status::success;
        at_x = t;
        break;
      }
    }
    best = std::min(best, br.residual);
    if (t.gamma_defined && br.residual < best_point_residual) {
      best_point_residual = br.residual;
      best_point.emplace(x, t);
    }
    if (opt.stall_window > 0 && it % opt.stall_window == 0) {
      // The best residual did not halve over the last window: at that rate (or slower) the
      // remaining iterations cannot reach the tolerance, so the start is abandoned now instead of
      // after max_iter (near-critical δ, where the phase-1 minimum loses stability, pitfall 9).
      const double remaining_halvings = static_cast<double>(opt.max_iter - it) / opt.stall_window;
      if (best > 0.5 * window_best &&
          (stop_on_stall || best * std::pow(0.5, remaining_halvings) > opt.tol * (1.0 + max_norm(xv)))) {
        break;
      }
      window_best = best;
    }
    if (x_prev.size()) {
      dX.push_back(xv - x_prev);
      dG.push_back(gv - g_prev);
      if (static_cast<int>(dX.size()) > opt.anderson) {
        dX.erase(dX.begin());
        dG.erase(dG.begin());
      }
    }
    x_prev = xv;
    g_prev = gv;
    Eigen::VectorXd next = xv + opt.damping * gv;
    if (opt.anderson > 0 && !dX.empty()) {
      Eigen::MatrixXd G(gv.size(), dG.size()), X(gv.size(), dX.size());
      for (std::size_t c = 0; c < dG.size(); ++c) {
        G.col(c) = dG[c];
        X.col(c) = dX[c];
      }
      const Eigen::VectorXd gamma = G.colPivHouseholderQr().solve(gv);
      if (gamma.allFinite()) next = xv + opt.damping * gv - (X + opt.damping * G) * gamma;
    }
    Params candidate = x;
    candidate.unpack(next);
    // An accelerated point just outside Q − MᵀM ⪰ 0 is projected onto that cone (as Broyden's
    // trial points are) rather than replaced by the damped step: where the solution lies on the
    // cone's boundary (coincident neurons) the extrapolation overshoots it at every step, and the
    // damped step with the history cleared converges at the damping's rate 1/2. Measured, cold
    // starts at δ = 0.05: tanh m = 4, fixed:1/4,…, ridge 0.2, min(z², 4) (λ₂/λ₁ ≈ 1e-8): 28–31 →
    // 10–14 applications of T per start; tanh m = 2, fixed:0.5,0.5, z1 + z2² (latent 2 hard):
    // 23–34 → 17–25. Not where the projection collapses the covariance (make_admissible; for
    // m = 1 always).
    if (!make_admissible(candidate)) {
      candidate.unpack(xv + opt.damping * gv);
      dX.clear();
      dG.clear();
      if (!admissible(candidate)) {
        // The damped step leaves the admissible set: shorten it until admissible.
        double s = opt.damping;
        for (int r = 0; r < 40 && !admissible(candidate); ++r) {
          s *= 0.5;
          candidate.unpack(xv + s * gv);
        }
      }
    }
    x = candidate;
  }
  if (br.status == Status::not_computed) br.status = Status::not_converged;
  if (br.status != Status::success && best_point) {
    br.residual = best_point_residual;
    record_point(best_point->first, best_point->second, opt.ridge, br);
    return br;
  }
  record_point(x, at_x ? *at_x : map.apply(x, nullptr), opt.ridge, br);
  return br;
}

// Continuation by Broyden's method on G(X) = T(X) − X over the free coordinates (C. G. Broyden,
// Math. Comp. 19 (1965), the "good" rank-one update J ← J + (Δg − J s) sᵀ / sᵀs). From the
// solution at a nearby δ (or the continuation predictor) the residual is small and the Jacobian of G
// there (`J`, carried from δ to δ; when empty or of another size: computed by forward differences
// for at most kBroydenRefreshColumns free coordinates, −I beyond) is close to the one here, so the
// quasi-Newton steps converge superlinearly where the damped Anderson iteration needs 9–20 applications of T (measured along `nn --find`, softplus
// m = 2; docs/nn.md, Numerics). A step that does not decrease ‖G‖∞ is halved up to three times;
// then, with `quadrature_error` (q of the map's rule at a point, as in solve_fixed_point), the run
// ends where ‖G‖∞ ≤ q/10 already: the rule's jumps stopped the steps, and a refreshed Jacobian
// does not step over them (tanh(z1) + min(z2², 4), m = 1, k = 2, δ = 0.5 along `nn --find`: the
// refresh and eight more failed trials cost 11 applications; test "a continuation at the law
// rule's jumps stops at its resolution without a refreshed Jacobian"). Otherwise the Jacobian is
// recomputed once by differences (only for at most kBroydenRefreshColumns free coordinates), and a
// second failure returns not_converged (the caller falls back to the Anderson iteration).
// `max_evals` bounds the applications of T.
FixedPointBranch broyden_from(const FixedPointMap& map, Params x, const FixedPointOptions& opt,
                              const std::vector<int>& free, Eigen::MatrixXd& J, int max_evals,
                              const std::function<double(const Params&)>& quadrature_error = {}) {
  FixedPointBranch br;
  br.status = Status::not_converged;
  const int n = static_cast<int>(free.size());
  int evaluations = 0;
  MapOutput t = map.apply(x, nullptr);
  ++evaluations;
  Eigen::VectorXd xv = x.pack();
  Eigen::VectorXd g = t.next.pack() - xv;
  br.residual = g.allFinite() ? max_norm(g) : std::numeric_limits<double>::infinity();
  bool fresh = false, resolution_tested = false;
  if (t.gamma_defined && std::isfinite(br.residual) && (J.rows() != n || J.cols() != n || !J.allFinite())) {
    if (n > kBroydenRefreshColumns) {
      J = -Eigen::MatrixXd::Identity(n, n);  // G's Jacobian where T is flat: the first step is x ← T(x)
    } else {
      if (!fd_jacobian(map, x, g, free, J, evaluations)) J.resize(0, 0);
      fresh = true;
    }
  }
  while (t.gamma_defined && std::isfinite(br.residual) && J.rows() == n) {
    if (br.residual <= opt.tol * (1.0 + max_norm(xv))) {
      br.status = Status::success;
      break;
    }
    if (evaluations >= max_evals) break;
    Eigen::VectorXd gf(n);
    for (int r = 0; r < n; ++r) gf[r] = g[free[r]];
    Eigen::VectorXd dx = J.partialPivLu().solve(-gf);
    // An entry of M that is exactly 0 with T's entry exactly 0 lies on a set T leaves invariant (a
    // latent the link is symmetric in — z1 of z1·z2 — with the teacher's groups cancelling exactly
    // in Σ w z, group_teacher): the step keeps it there instead of moving it by the Jacobian
    // estimate's cross terms (≈ 1e-12), which made every later application of T take a prox per
    // teacher node instead of one per label (z1·z2, latent 2 hard: 6400 against 1600 groups).
    for (int r = 0; r < n; ++r) {
      if (free[r] < x.k * x.m && xv[free[r]] == 0.0 && g[free[r]] == 0.0) dx[r] = 0.0;
    }
    const Eigen::VectorXd g_old = g;
    const Eigen::VectorXd x_old = xv;
    const double s = backtrack(map, dx, free, 4, max_evals, evaluations, x, xv, g, t, br.residual);
    if (s > 0) {
      Eigen::VectorXd step(n), dg(n);
      for (int r = 0; r < n; ++r) {
        step[r] = xv[free[r]] - x_old[free[r]];
        dg[r] = g[free[r]] - g_old[free[r]];
      }
      const double ss = step.squaredNorm();
      if (ss > 0) J += (dg - J * step) * step.transpose() / ss;
      continue;
    }
    if (quadrature_error && !resolution_tested) {
      // The first failed step: where the residual is already within the law rule's resolution,
      // the rule's jumps stop the steps and neither a refreshed Jacobian nor more steps help.
      resolution_tested = true;
      if (within_tenth(br.residual, quadrature_error(x))) break;
    }
    if (fresh || n > kBroydenRefreshColumns || evaluations + n >= max_evals) break;
    if (!fd_jacobian(map, x, g, free, J, evaluations)) break;
    fresh = true;
  }
  br.iterations = evaluations;
  record_point(x, t, opt.ridge, br);
  return br;
}

// Whether Q − MᵀM is nearly one-dimensional: m ≥ 2 and λ₂ < ratio · λ₁ (FixedPointOptions::
// principal_axis_ratio; ratio 0: never).
bool nearly_one_dimensional(const Params& x, double ratio) {
  if (x.m < 2 || !(ratio > 0)) return false;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> c(x.Q - x.M.transpose() * x.M, Eigen::EigenvaluesOnly);
  return covariance_ratio(c.eigenvalues().cwiseMax(0.0)) < ratio;
}

Params params_of(const FixedPointBranch& b, int k, int m) {
  Params p;
  p.k = k;
  p.m = m;
  p.M = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(b.M.data(), k, m);
  p.Q = Eigen::Map<const Eigen::MatrixXd>(b.Q.data(), m, m);
  p.Gamma = Eigen::Map<const Eigen::MatrixXd>(b.Gamma.data(), m, m);
  return p;
}

// Invariants of a solution under neuron permutations and sign flips: risk, spectrum of Q and
// singular values of M.
bool same_solution(const FixedPointBranch& a, const FixedPointBranch& b, int k, int m) {
  const Params pa = params_of(a, k, m), pb = params_of(b, k, m);
  if (std::fabs(a.risk - b.risk) > 1e-7 * (1.0 + std::fabs(a.risk))) return false;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> qa(pa.Q, Eigen::EigenvaluesOnly), qb(pb.Q, Eigen::EigenvaluesOnly);
  if ((qa.eigenvalues() - qb.eigenvalues()).lpNorm<Eigen::Infinity>() > 1e-6 * (1.0 + pa.Q.norm())) return false;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ma(pa.M.transpose() * pa.M, Eigen::EigenvaluesOnly),
      mb(pb.M.transpose() * pb.M, Eigen::EigenvaluesOnly);
  return (ma.eigenvalues() - mb.eigenvalues()).lpNorm<Eigen::Infinity>() <= 1e-6 * (1.0 + pa.Q.norm());
}
}  // namespace

int default_iteration_points(int m) {
  static const int table[kMaxWidth] = {40, 16, 6, 4, 3, 3, 3, 3};
  return table[std::clamp(m, 1, kMaxWidth) - 1];
}

std::pair<int, int> split_rule_points(int p) {
  if (p < 1) fail("hermite_points", "the split rule needs p >= 1 points per axis");
  return {std::max(2, p - p / 4), std::clamp(p / 3, 1, 40)};
}

std::string h_rule_text(int p, int m, bool split, bool cut_at_jumps) {
  if (cut_at_jumps) return std::to_string(p) + " composite h nodes (cut where the prox jumps)";
  if (!split) return std::to_string(p) + "^" + std::to_string(m) + " h nodes";
  const auto [ns, nt] = split_rule_points(p);
  return std::to_string(ns) + " x 2*" + std::to_string(nt) + " h nodes (split along h1 = h2)";
}

int coarse_iteration_points(int m) {
  // m ≥ 3: the iteration rule (6³, 4⁴, …) is already small; no coarse stage.
  static const int table[kMaxWidth] = {16, 6, 0, 0, 0, 0, 0, 0};
  return table[std::clamp(m, 1, kMaxWidth) - 1];
}

void FixedPointOptions::validate(int k, int m) const {
  if (!(ridge > 0) || !std::isfinite(ridge)) fail("ridge", "the stationary-point equations need a ridge > 0 (λQ = −E[uFᵀ])");
  std::vector<bool> seen(k, false);
  for (int h : hard) {
    if (h < 0 || h >= k) fail("hard", "latent index " + std::to_string(h + 1) + " is out of range 1.." + std::to_string(k));
    if (seen[h]) fail("hard", "latent index " + std::to_string(h + 1) + " is repeated");
    seen[h] = true;
  }
  if (xi_points < 0 || xi_points > 64) fail("xi_points", "must be in 0..64 (0: automatic)");
  std::size_t total = 1;
  const int points = xi_points > 0 ? xi_points : default_iteration_points(m);
  for (int d = 0; d < m; ++d) total *= static_cast<std::size_t>(points);
  if (total > 200000) fail("xi_points", std::to_string(points) + "^" + std::to_string(m) + " nodes exceed the cap 2e5");
  law_rule.validate();
  if (!(tol > 0 && tol < 1e-2)) fail("tol", "must be in (0, 1e-2)");
  if (max_iter < 1 || max_iter > 100000) fail("max_iter", "must be in 1..100000");
  if (stall_window < 0) fail("stall_window", "must be >= 0 (0: no stall test)");
  if (continuation_max_iter < 0 || continuation_max_iter > 100000) fail("continuation_max_iter", "must be in 0..100000 (0: no direct continuation)");
  if (escalations < 0 || escalations > 4) fail("escalations", "must be in 0..4");
  if (polish_max_iter < 1 || polish_max_iter > 100000) fail("polish_max_iter", "must be in 1..100000");
  if (!(damping > 0 && damping <= 1)) fail("damping", "must be in (0, 1]");
  if (anderson < 0 || anderson > 20) fail("anderson", "must be in 0..20");
  if (newton_after < 0) fail("newton_after", "must be >= 0 (0: no Newton phase)");
  if (prox_max_iter < 1 || prox_max_iter > 1000) fail("prox_max_iter", "must be in 1..1000");
  if (!(prox_tol > 0 && prox_tol < 1e-3)) fail("prox_tol", "must be in (0, 1e-3)");
  if (!(node_weight_floor >= 0 && node_weight_floor <= 1e-10)) fail("node_weight_floor", "must be in [0, 1e-10]");
  if (!(principal_axis_ratio >= 0 && principal_axis_ratio <= 0.1)) {
    fail("principal_axis_ratio", "must be in [0, 0.1] (0: tensor rule only)");
  }
  if (threads < 1 || threads > core::kMaxThreads) fail("threads", "must be in 1..64");
  if (start_scales.empty()) fail("start_scales", "needs at least one start");
  for (double s : start_scales) {
    if (!(s > 0) || !std::isfinite(s)) fail("start_scales", "starts must be finite and > 0");
  }
}

FixedPointBranch apply_stationary_map(const TeacherNodes& teacher, const Network& net, double delta,
                                      const FixedPointOptions& options, const FixedPointBranch& at) {
  const int k = teacher.k, m = net.width();
  options.validate(k, m);
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be finite and > 0");
  if (at.M.size() != static_cast<std::size_t>(k) * m || at.Q.size() != static_cast<std::size_t>(m) * m ||
      at.Gamma.size() != static_cast<std::size_t>(m) * m) {
    throw InputError("at", "M must be k x m and Q, Gamma m x m for the teacher's k and the network's m");
  }
  const TeacherGroups groups = group_teacher(teacher, options.hard);
  core::Parallel pool(options.threads);
  const Params x = params_of(at, k, m);
  const auto map = make_map(teacher, groups, pool, net, delta, options, options.law_rule, true, nullptr);
  const MapOutput t = map->apply(x, nullptr);
  FixedPointBranch out;
  record_point(t.next, t, options.ridge, out);
  out.risk = t.train_loss + 0.5 * options.ridge * x.Q.trace();
  out.residual = t.gamma_defined ? max_norm(t.next.pack() - x.pack()) : std::numeric_limits<double>::infinity();
  out.iterations = 1;
  out.status = t.gamma_defined ? Status::success : Status::numerical_issue;
  return out;
}

FixedPointBranch continuation_predictor(const std::vector<std::pair<double, const FixedPointBranch*>>& points,
                                        double delta) {
  if (points.size() < 2 || points.size() > 3) throw InputError("points", "continuation_predictor needs 2 or 3 solutions");
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "continuation_predictor needs delta > 0");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& [d, b] = points[i];
    if (!(d > 0) || !std::isfinite(d) || !b) throw InputError("points", "continuation_predictor needs solutions at delta > 0");
    for (std::size_t j = 0; j < i; ++j) {
      if (points[j].first == d) throw InputError("points", "continuation_predictor needs distinct deltas");
    }
    const FixedPointBranch& a = *points.front().second;
    if (b->M.size() != a.M.size() || b->Q.size() != a.Q.size() || b->Gamma.size() != a.Gamma.size()) {
      throw InputError("points", "continuation_predictor: the solutions have different shapes");
    }
  }
  // Lagrange weights in t = 1/δ.
  const double t = 1.0 / delta;
  std::vector<double> weight(points.size(), 1.0);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double ti = 1.0 / points[i].first;
    for (std::size_t j = 0; j < points.size(); ++j) {
      if (j != i) weight[i] *= (t - 1.0 / points[j].first) / (ti - 1.0 / points[j].first);
    }
  }
  FixedPointBranch p = *points.front().second;
  auto mix = [&](std::vector<double>& out, std::vector<double> FixedPointBranch::*field) {
    for (std::size_t e = 0; e < out.size(); ++e) {
      double v = 0.0;
      for (std::size_t i = 0; i < points.size(); ++i) v += weight[i] * ((*points[i].second).*field)[e];
      out[e] = v;
    }
  };
  mix(p.M, &FixedPointBranch::M);
  mix(p.Gamma, &FixedPointBranch::Gamma);
  // Q through the symmetric square root of Q − MᵀM (comment in fixed_point.hpp).
  const int m = static_cast<int>(std::lround(std::sqrt(static_cast<double>(p.Q.size()))));
  if (m < 1 || static_cast<std::size_t>(m) * m != p.Q.size() || p.Gamma.size() != p.Q.size() || p.M.size() % m != 0) {
    throw InputError("points", "continuation_predictor: Q and Gamma must be m x m and M k x m");
  }
  const int k = static_cast<int>(p.M.size()) / m;
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(m, m);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Params x = params_of(*points[i].second, k, m);
    const Eigen::MatrixXd C = x.Q - x.M.transpose() * x.M;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (C + C.transpose()));
    S += weight[i] * (es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() *
                      es.eigenvectors().transpose());
  }
  const Params x = params_of(p, k, m);  // M (and Γ) already predicted
  const Eigen::MatrixXd Q = x.M.transpose() * x.M + S * S;
  for (int j = 0; j < m; ++j)
    for (int l = 0; l < m; ++l) p.Q[static_cast<std::size_t>(l * m + j)] = 0.5 * (Q(j, l) + Q(l, j));
  p.status = Status::not_computed;
  return p;
}

FixedPointResult solve_fixed_point(const TeacherNodes& teacher, const Network& net, double delta,
                                   const FixedPointOptions& options, const FixedPointBranch* warm,
                                   const FixedPointBranch* predictor) {
  const int k = teacher.k, m = net.width();
  options.validate(k, m);
  if (!(delta > 0) || !std::isfinite(delta)) throw InputError("delta", "delta must be finite and > 0");
  // FixedPointOptions::split_at_prox_jumps: every map uses the global prox on composite rules cut at
  // its jumps (the iteration's: 8 panels of xi_points / 8 nodes, 12 without xi_points).
  const bool split = options.split_at_prox_jumps && m == 1 && options.law_rule.composite_max_dim >= 1;
  const bool global_iteration = options.prox_global_iteration || split;
  GaussianRuleOptions iteration_rule;
  iteration_rule.composite_max_dim = 0;
  iteration_rule.hermite_points = options.xi_points > 0 ? options.xi_points : default_iteration_points(m);
  if (split) {
    iteration_rule.composite_max_dim = 1;
    iteration_rule.x_max = options.law_rule.x_max;
    iteration_rule.panel_width = options.law_rule.x_max / 4.0;
    iteration_rule.panel_points = options.xi_points > 0 ? std::clamp(options.xi_points / 8, 2, 40) : 12;
  }
  // The nodes of an iteration rule (FixedPointResult::iteration_points).
  auto rule_points = [split](const GaussianRuleOptions& r) { return split ? 8 * r.panel_points : r.hermite_points; };
  TeacherGroups groups = group_teacher(teacher, options.hard);
  SampleCache samples;
  if (split) groups.samples = &samples;
  core::Parallel pool(options.threads);
  int applications = 0;  // FixedPointResult::map_applications
  const auto map_ptr = make_map(teacher, groups, pool, net, delta, options, iteration_rule, global_iteration, &applications);
  const FixedPointMap& map = *map_ptr;

  std::vector<Params> starts;
  if (warm) starts.push_back(params_of(*warm, k, m));
  std::vector<int> learned;
  for (int a = 0; a < k; ++a) {
    if (std::find(options.hard.begin(), options.hard.end(), a) == options.hard.end()) learned.push_back(a);
  }
  const double gamma0 = 1.0 / (delta * teacher.sample_fraction * (options.ridge + 1.0));
  for (double s : options.start_scales) {
    for (bool with_m : {true, false}) {
      if (with_m && learned.empty()) continue;
      Params p;
      p.k = k;
      p.m = m;
      p.Q = s * s * Eigen::MatrixXd::Identity(m, m);
      p.M = Eigen::MatrixXd::Zero(k, m);
      p.Gamma = gamma0 * Eigen::MatrixXd::Identity(m, m);
      if (with_m) {
        for (std::size_t l = 0; l < learned.size(); ++l) p.M(learned[l], static_cast<int>(l) % m) = s / std::sqrt(2.0);
      }
      starts.push_back(p);
    }
  }

  // Free coordinates of the packed (M, Q, Γ): all but the hard rows of M (held at 0).
  std::vector<int> free;
  for (int a = 0; a < k; ++a) {
    const bool is_hard = std::find(options.hard.begin(), options.hard.end(), a) != options.hard.end();
    for (int j = 0; j < m; ++j) {
      if (!is_hard) free.push_back(a * m + j);
    }
  }
  for (int i = k * m; i < k * m + m * (m + 1); ++i) free.push_back(i);

  FixedPointResult result;
  // The iteration rule (composite_max_dim = 0) is split wherever the map splits Gauss–Hermite rules.
  result.split_rule = options.split_symmetric_rule && m == 2 && has_equal_second_layer_weights(net);
  result.split_at_jumps = split;
  std::vector<FixedPointBranch> converged, failed;
  // The local-prox map on the law's rule, shared by the continuation and the polish (built once,
  // when first needed), and their budget: at most `max_iter` iterations, abandoned when the best
  // residual has not halved over 20 (the polish) or kContinuationStallWindow (the continuation's
  // Anderson stages); both start within a small distance of their solution.
  std::unique_ptr<MemoMap> law_rule_map_storage;
  // The law's rule is the principal-axis rule (FixedPointOptions::principal_axis_ratio) when the
  // first point it integrates — the warm start (else the predictor) of a continuation, or the
  // solution on the iteration rule that the polish starts from — has λ₂/λ₁ of Q − MᵀM below the
  // ratio. The choice holds for the whole solve (continuation, quadrature error, polish, returned
  // law): T stays one map. A switch of rule between two δ of a scan moves the solution by the
  // rules' difference, which the continuation meets like a predictor error. (Choosing the rule per
  // application of T instead, with the two rules mixed over λ₂/λ₁ ∈ [ratio/2, ratio] to keep T
  // continuous, gave T a Jacobian term (T_tensor − T_principal)/(ratio/2) of order 1 where the
  // rules differ by their quadrature error: tanh m = 2, z1 + z2², stalled at δ = 0.158 for minutes.)
  std::optional<bool> law_principal;
  auto law_rule_map = [&](const Params& first_point) -> const FixedPointMap* {
    if (!law_rule_map_storage) {
      law_principal = nearly_one_dimensional(first_point, options.principal_axis_ratio);
      law_rule_map_storage = std::make_unique<MemoMap>(make_map(teacher, groups, pool, net, delta, options, options.law_rule,
                                                                global_iteration, &applications, *law_principal));
    }
    return law_rule_map_storage.get();
  };
  // Resolution test for a point that misses `tol` on the law's rule (FixedPointResult::
  // law_resolution_limited): its residual against the quadrature error of T there, estimated by
  // the law's rule with one node fewer per axis (two applications of T).
  std::unique_ptr<FixedPointMap> coarser_map;
  // The quadrature error q at b's point (also stored in result.law_quadrature_error); 0 when it
  // cannot be estimated.
  std::optional<std::pair<Eigen::VectorXd, double>> last_quadrature_error;  // (point, q)
  auto quadrature_error_of = [&](const Params& x) {
    const Eigen::VectorXd xv = x.pack();
    if (last_quadrature_error && last_quadrature_error->first == xv) {
      result.law_quadrature_error = last_quadrature_error->second;
      return last_quadrature_error->second;
    }
    GaussianRuleOptions coarser = options.law_rule;
    if (m <= coarser.composite_max_dim) {
      coarser.panel_points -= 1;
      if (coarser.panel_points < 2) return 0.0;
    } else {
      coarser.hermite_points = (coarser.hermite_points > 0 ? coarser.hermite_points : default_u_points(m)) - 1;
      if (coarser.hermite_points < 2) return 0.0;
    }
    const FixedPointMap* law_map = law_rule_map(x);
    if (!coarser_map) {
      coarser_map = make_map(teacher, groups, pool, net, delta, options, coarser, global_iteration, &applications,
                             *law_principal);
    }
    const MapOutput fine = law_map->apply(x, nullptr), coarse = coarser_map->apply(x, nullptr);
    if (!fine.gamma_defined || !coarse.gamma_defined) return 0.0;
    result.law_quadrature_error = max_norm(fine.next.pack() - coarse.next.pack());
    last_quadrature_error.emplace(xv, result.law_quadrature_error);
    return result.law_quadrature_error;
  };
  // The global-prox map on the law's rule that writes the returned law (built once, when first
  // needed), and the law it wrote at a point that was accepted as the solution, if any.
  std::unique_ptr<FixedPointMap> global_law_map_storage;
  auto global_law_map = [&](const Params& x) -> const FixedPointMap* {
    if (!global_law_map_storage) {
      // The rule the solve used; nearly_one_dimensional only where no law's-rule map was built
      // (its eigen-decomposition would otherwise run for nothing: value_or evaluates its argument).
      const bool principal = law_principal ? *law_principal : nearly_one_dimensional(x, options.principal_axis_ratio);
      global_law_map_storage = make_map(teacher, groups, pool, net, delta, options, options.law_rule, true, &applications, principal);
    }
    return global_law_map_storage.get();
  };
  std::optional<std::pair<Eigen::VectorXd, std::pair<MapOutput, Law>>> law_at_solution;
  auto quadrature_error_at = [&](const FixedPointBranch& b) {
    return std::isfinite(b.residual) ? quadrature_error_of(params_of(b, k, m)) : 0.0;
  };
  auto within_resolution = [&](const FixedPointBranch& b) {
    const double q = quadrature_error_at(b);
    return within_tenth(b.residual, q);
  };
  auto short_budget = [&options](int max_iter, int window) {
    FixedPointOptions o = options;
    o.max_iter = max_iter;
    o.stall_window = options.stall_window > 0 ? std::min(options.stall_window, window) : 0;
    return o;
  };
  auto strictly_converged = [&](const FixedPointBranch& b) {
    return b.status == Status::success && b.residual <= options.tol * (1.0 + max_norm(params_of(b, k, m).pack()));
  };
  // Continuation on the law's rule: from a nearby δ's solution (itself a fixed point on the law's
  // rule) the iteration goes on directly on that rule instead of moving to the iteration rule's
  // fixed point and being polished back (two solves across the quadrature error of the coarse
  // rule). Measured on softplus m = 2, fixed:0.7,0.4, ridge 0.2, min(z², 4), along `nn --find`:
  // 13 iterations on the 16² rule + 14 on the 33² law rule per δ before; see docs/nn.md (Numerics)
  // for the counts after. Skipped when every start must run (cold_starts_with_warm).
  if ((warm || predictor) && options.polish_on_law_rule && options.continuation_max_iter > 0 &&
      !options.cold_starts_with_warm) {
    FixedPointOptions copt = short_budget(options.continuation_max_iter, kContinuationStallWindow);
    const FixedPointMap* law_map = law_rule_map(params_of(warm ? *warm : *predictor, k, m));
    std::vector<std::pair<int, Params>> candidates;
    if (predictor) {
      Params p = params_of(*predictor, k, m);
      if (admissible(p)) candidates.emplace_back(1, p);
    }
    if (warm) candidates.emplace_back(2, params_of(*warm, k, m));
    Eigen::MatrixXd J;
    if (warm && !warm->jacobian.empty()) {
      const int n = static_cast<int>(free.size());
      if (warm->jacobian.size() == static_cast<std::size_t>(n) * n) J = Eigen::Map<const Eigen::MatrixXd>(warm->jacobian.data(), n, n);
    }
    // The lowest-residual point reached, and from which candidate.
    FixedPointBranch best;
    best.residual = std::numeric_limits<double>::infinity();
    int best_from = 0;
    auto take = [&](const FixedPointBranch& br, int which) {
      if (strictly_converged(br)) {
        converged.push_back(br);
        result.continued_from = which;
        return true;
      }
      if (br.residual < best.residual) {
        best = br;
        best_from = which;
      }
      return false;
    };
    bool resolved = false;
    double q_best = 0.0;  // the quadrature error at `best` (0: not estimated)
    const double nearby_quadrature_error = warm ? warm->quadrature_error : 0.0;
    if (nearby_quadrature_error == 0) {
      // FixedPointOptions::continuation_iteration_rule_first: Broyden on the iteration rule first,
      // where the law's rule is smooth here (the nearby law certified convex on all its mass) and
      // the iteration rule is at most a third of its size. Its solution becomes the first
      // candidate, with the Jacobian estimate it updated; where it does not converge, the
      // candidates and the Jacobian are left as they were.
      const int n = static_cast<int>(free.size());
      if (options.continuation_iteration_rule_first && warm && (warm->law_convex_certified || split) && !candidates.empty() &&
          J.rows() == n && (split || 3 * map.rule_size() <= law_map->rule_size())) {
        Eigen::MatrixXd Jc = J;
        const int before = applications;
        const FixedPointBranch pre =
            broyden_from(map, candidates.front().second, copt, free, Jc, std::max(1, copt.max_iter / 3));
        if (pre.status == Status::success) {
          result.iteration_rule_first_applications = applications - before;
          const Params xp = params_of(pre, k, m);
          // The law's global map at the iteration rule's solution. Where it certifies every node
          // (and no node's global prox differs from Newton from h), its T is the local map's T
          // — each node runs the same Newton from h and skips the other starts — so this one
          // application both tests the point on the law's rule and writes the returned law
          // (instead of one application of the local map here and one of the global map at the
          // end; measured along `nn --find` for tanh(z1) + min(z2², 4), m = 1, k = 2: accepted
          // at 15 of the 17 δ where the stage ran, not at δ = 10.8 and 1000). Otherwise the law
          // rule's Broyden starts from it.
          const FixedPointMap* global = global_law_map(xp);
          Law law_here;
          const MapOutput t = global->apply(xp, &law_here);
          FixedPointBranch br;
          record_point(xp, t, options.ridge, br);
          br.residual = t.gamma_defined ? max_norm(t.next.pack() - xp.pack()) : std::numeric_limits<double>::infinity();
          br.iterations = 1;
          br.status = Status::success;
          if ((split || (t.nonglobal_mass == 0 && t.certified_everywhere(options.tol))) && strictly_converged(br)) {
            br.jacobian.assign(Jc.data(), Jc.data() + Jc.size());
            take(br, candidates.front().first);
            law_at_solution.emplace(xp.pack(), std::make_pair(t, std::move(law_here)));
          } else {
            candidates.insert(candidates.begin(), std::make_pair(candidates.front().first, xp));
            // With the global prox on every map (split, prox_global_iteration) the law rule's map is
            // this one (same rule, same prox), so its Broyden's first application at xp is this one's
            // (one application of T on the law's rule per δ fewer where the point is not accepted).
            if (global_iteration) law_rule_map_storage->remember(xp, t);
          }
          J = Jc;
        }
      }
      for (std::size_t c = 0; c < candidates.size() && converged.empty(); ++c) {
        const auto& [which, p] = candidates[c];
        FixedPointBranch br = broyden_from(*law_map, p, copt, free, J, copt.max_iter, quadrature_error_of);
        if (br.status == Status::success) br.jacobian.assign(J.data(), J.data() + J.size());
        if (take(br, which)) break;
        if (c + 1 < candidates.size() && std::isfinite(best.residual)) {
          // Broyden failed from the predictor. Where its best point is already within the
          // quadrature error q of the law's rule, the rule jumps here and Broyden from the warm
          // start ends on the same jumps (measured for tanh(z1) + min(z2², 4), m = 1, k = 2, at
          // δ = 0.5 along `nn --find`: 16 applications from the predictor to r = 2.3e-4, then 21
          // from the warm start to 1.5e-4, with q ≈ 2e-4): the Anderson stage below goes on
          // instead.
          q_best = quadrature_error_at(best);
          if (q_best > 0 && best.residual <= q_best) break;
        }
      }
      if (converged.empty() && std::isfinite(best.residual)) {
        // Broyden may have stopped on the resolution test at its best point (q known there).
        if (q_best == 0 && last_quadrature_error && last_quadrature_error->first == params_of(best, k, m).pack()) {
          q_best = last_quadrature_error->second;
        }
        resolved = within_tenth(best.residual, q_best);
      }
      if (converged.empty() && std::isfinite(best.residual) && !resolved) {
        // Broyden stalls where the discretised T jumps (a node's prox switching minimum within
        // the finite-difference step; measured for tanh(z1) + min(z2², 4), m = 1, k = 2 at
        // δ = 0.5: residual 3.6e-5 after 8 applications, then no decrease). The damped Anderson
        // iteration, whose secants span larger steps, goes on from Broyden's best point with the
        // same budget, and stops at a tenth of q where q is known; its best point is then tested
        // against the rule's resolution.
        FixedPointOptions aopt = copt;
        if (q_best > 0) aopt.tol = std::max(options.tol, kResolutionFraction * q_best / (1.0 + max_norm(params_of(best, k, m).pack())));
        const double before = best.residual;
        take(solve_from(*law_map, params_of(best, k, m), aopt, 0, free, true), best_from);
        if (best.residual < before) q_best = 0.0;  // estimated at another point
      }
    } else if (!candidates.empty()) {
      // The nearby solution was resolution-limited: the law's rule jumps within Broyden's
      // finite-difference steps here too, and its Jacobian is useless (measured for tanh m = 4,
      // fixed:1/4,…, ridge 0.2, min(z², 4), δ = 1.6 → 1.8 → 2: Broyden spent 21–27 applications
      // of T and ended at residuals 0.01–0.23, above its start, while the Anderson iteration from
      // the same start reached a tenth of the quadrature error in 6). So the Anderson iteration
      // runs from the first candidate and stops at a tenth of the nearby quadrature error; where
      // the quadrature error here is smaller (it fluctuates by 2× between nearby points: it is
      // the difference of two jumping maps), it goes on once more with that tolerance.
      Params x0 = candidates.front().second;
      double q = nearby_quadrature_error;
      for (int round = 0; round < 2 && converged.empty() && !resolved; ++round) {
        copt.tol = std::max(options.tol, kResolutionFraction * q / (1.0 + max_norm(x0.pack())));
        const FixedPointBranch br = solve_from(*law_map, x0, copt, 0, free, true);
        if (take(br, candidates.front().first) || br.status != Status::success) break;
        q = quadrature_error_at(br);
        if (br.residual == best.residual) q_best = q;  // br is the best point so far
        resolved = within_tenth(br.residual, q);
        x0 = params_of(br, k, m);
      }
    }
    if (converged.empty() && !resolved && std::isfinite(best.residual)) {
      if (q_best == 0) q_best = quadrature_error_at(best);
      result.law_quadrature_error = q_best;
      resolved = within_tenth(best.residual, q_best);
    }
    // Stalled above a tenth of the rule's quadrature error q but within q: the point's distance to
    // the rule's fixed point, (I − ∂T)⁻¹ r, is then at most the rule's own distance to the
    // continuum's, (I − ∂T)⁻¹ q, and the full path below does no better on the same jumping rule:
    // measured for tanh(z1) + min(z2², 4), m = 1, k = 2, latent 2 hard, along `nn --find`, at
    // δ = 0.5, 1.077, 1.581 the continuation stalled at r = 3.6e-5, 1.2e-4, 7.0e-4 (q = 3.6e-4,
    // 5.8e-4, 2.2e-3), and the cold starts, polishes and escalations after it ended at 1.6e-4,
    // 1.2e-4, 1.2e-3, costing 6, 4 and 25 s of CPU. Accepted, but not as law-consistent: the law
    // carries the warning with r and q (FixedPointResult::law_within_quadrature_error).
    const bool within_quadrature = converged.empty() && !resolved && q_best > 0 && best.residual <= q_best;
    if (resolved || within_quadrature) {
      // No fixed point to tol on the law's rule near the continued branch, but one within its
      // resolution: accepted as such (the full path below would end on the same rule's jumps).
      best.status = Status::success;
      best.start = 0;
      best.quadrature_error = result.law_quadrature_error;
      converged.push_back(best);
      result.continued_from = best_from;
      result.law_resolution_limited = resolved;
      result.law_within_quadrature_error = within_quadrature;
    }
    result.law_consistent = !converged.empty() && !within_quadrature;
    if (!converged.empty()) result.law_residual = converged.front().residual;
  }
  bool cold_run = false;
  std::vector<Eigen::VectorXd> start_solutions;  // the solutions of the starts so far, packed
  // The points the starts run from on the iteration rule, with their indices in `starts`: the
  // starts themselves, unless the coarse stage below replaces them by its solutions.
  std::vector<std::pair<Params, int>> own_starts;
  for (std::size_t s = 0; s < starts.size(); ++s) own_starts.emplace_back(starts[s], static_cast<int>(s));
  std::vector<std::pair<Params, int>> run_from = own_starts;
  // Cold starts on a coarse rule first (FixedPointOptions::coarse_cold_starts): the starts run on
  // coarse_iteration_points(m) nodes per axis, a start that reaches a solution found there by an
  // earlier one stops (kMergeResidual, as below), and only the distinct coarse solutions — and the
  // starts that did not converge there, from their own start — go on to the iteration rule, where
  // they arrive within the coarse rule's quadrature error of its fixed point. Where none is left
  // to run or none of them converges there, every start runs on the iteration rule as before.
  // Likewise on the teacher's coarser rule (FixedPointOptions::coarse_teacher_cold_starts), with
  // the iteration rule or, with coarse_cold_starts too, the coarse one.
  bool coarse_used = false;
  const bool coarse_h = options.coarse_cold_starts && options.xi_points == 0 && coarse_iteration_points(m) > 0;
  const TeacherNodes* coarse_teacher =
      options.coarse_teacher_cold_starts && teacher.coarse && teacher.coarse->k == k ? teacher.coarse.get() : nullptr;
  if (!warm && !result.continued_from && (coarse_h || coarse_teacher)) {
    GaussianRuleOptions coarse_rule = iteration_rule;
    if (coarse_h) {
      coarse_rule.hermite_points = coarse_iteration_points(m);
      if (split) coarse_rule.panel_points = coarse_iteration_points(m) / 8;
    }
    std::optional<TeacherGroups> coarse_groups;
    SampleCache coarse_samples;
    if (coarse_teacher) {
      coarse_groups = group_teacher(*coarse_teacher, options.hard);
      if (split) coarse_groups->samples = &coarse_samples;
    }
    const auto coarse_map = make_map(coarse_teacher ? *coarse_teacher : teacher, coarse_groups ? *coarse_groups : groups,
                                     pool, net, delta, options, coarse_rule, global_iteration, &applications);
    const FixedPointOptions coarse_options = short_budget(std::min(options.max_iter, kCoarseStartMaxIter), kCoarseStallWindow);
    std::vector<Eigen::VectorXd> coarse_solutions;
    std::vector<std::pair<Params, int>> refined;
    int coarse_merged = 0;
    for (std::size_t s = 0; s < starts.size(); ++s) {
      int merged_into = -1;
      const FixedPointBranch br = solve_from(*coarse_map, starts[s], coarse_options, static_cast<int>(s), free, true,
                                             &coarse_solutions, &merged_into);
      if (merged_into >= 0) {
        ++coarse_merged;
      } else if (br.status == Status::success) {
        coarse_solutions.push_back(params_of(br, k, m).pack());
        refined.emplace_back(params_of(br, k, m), static_cast<int>(s));
      } else {
        refined.emplace_back(starts[s], static_cast<int>(s));
        // On the coarse teacher alone (same h rule) a start that fails there is taken as a sign
        // that its map jumps where the full teacher's does not (z1·z2, tanh m = 2, δ = 1: no start
        // converged on the 2304-node teacher within its budget, and the stage cost 260
        // applications for nothing); the rest of the stage is abandoned and every start runs on
        // the full teacher from its own start.
        if (coarse_teacher && !coarse_h) {
          coarse_solutions.clear();
          break;
        }
      }
    }
    result.coarse_start_solutions = static_cast<int>(coarse_solutions.size());
    if (!coarse_solutions.empty()) {
      run_from = std::move(refined);
      result.merged_starts += coarse_merged;
      result.coarse_teacher_nodes = coarse_teacher ? coarse_teacher->size() : 0;
      result.coarse_h_rule = coarse_h;
      coarse_used = true;
    }
  }
  auto run_starts = [&]() {
    for (std::size_t s = 0; s < run_from.size() && !result.continued_from; ++s) {
      if (warm && s == 1 && !converged.empty() && !options.cold_starts_with_warm) break;
      cold_run = cold_run || !warm || s > 0;
      int merged_into = -1;
      FixedPointBranch br =
          solve_from(map, run_from[s].first, options, run_from[s].second, free, false, &start_solutions, &merged_into);
      if (merged_into >= 0) {
        ++result.merged_starts;
        continue;
      }
      if (br.status == Status::success) {
        start_solutions.push_back(params_of(br, k, m).pack());
        bool known = false;
        for (const auto& c : converged) known = known || same_solution(c, br, k, m);
        if (!known) converged.push_back(br);
      } else {
        failed.push_back(br);
      }
    }
  };
  run_starts();
  if (coarse_used && converged.empty()) {
    // No coarse solution converged on the iteration rule: every start runs there from its own
    // start, as without the coarse stage.
    result.coarse_start_solutions = 0;
    result.coarse_teacher_nodes = 0;
    result.coarse_h_rule = false;
    result.merged_starts = 0;
    failed.clear();
    start_solutions.clear();
    run_from = own_starts;
    run_starts();
  }
  // Polish on the law's rule: the returned law must satisfy the equations on its own nodes, or its
  // Hessian is that of a point that is not stationary. The iteration rule (Gauss–Hermite) and the
  // law rule (composite for m = 1, 33² for m = 2) give fixed points that differ by the quadrature
  // error, which is not small for non-convex proxes: log cosh m = 1, ridge 0.05, min(z², 4), δ = 8:
  // Q = 2.032 on the 40-node iteration rule, 2.125 on the 256-node composite law rule (independent
  // solve, tools/ref_fixed_point.py: 2.129 ± 0.002), and the law
  // of the unpolished point has a Hessian bulk edge of −0.077 (flagged unstable) where the
  // self-consistent law's edge is +6e-8 (measured with `nn --phase1 fixed-point --delta 8,16,24`).
  // The polish starts within the quadrature error of its solution: converged polishes took 1–15
  // iterations (softplus m = 2 along `nn --find`). Where the law's rule has no fixed point to
  // `tol` (tanh m = 4 at δ = 2.4: residual 8.9e-4 after 300 iterations; tanh(z1) + min(z2², 4),
  // k = 2, δ = 0.5) the residual stalls, and with the general budget (2000 iterations, stall
  // window 100) a failing polish cost 300 applications of T on the finest rule. Returns the
  // polish's point of lowest residual, with status success when it converged or is within the
  // rule's resolution.
  auto polish = [&](const FixedPointBranch& from) {
    FixedPointBranch polished = solve_from(*law_rule_map(params_of(from, k, m)), params_of(from, k, m),
                                           short_budget(std::min(options.max_iter, options.polish_max_iter), 20),
                                           from.start, free);
    result.law_residual = polished.residual;
    result.polish_iterations = polished.iterations;
    if (polished.status != Status::success && within_resolution(polished)) {
      polished.status = Status::success;
      polished.quadrature_error = result.law_quadrature_error;
      result.law_resolution_limited = true;
    }
    result.law_consistent = polished.status == Status::success;
    polished.iterations += from.iterations;
    return polished;
  };
  // Where no start converged on the iteration rule because that rule jumps too (tanh m = 4 on 4⁴
  // nodes; the escalations below then cost minutes), the best of them is polished on the law's
  // rule first: accepted when it converges there or comes within the law's rule's resolution.
  bool polished_already = false;
  if (converged.empty() && !result.continued_from && options.polish_on_law_rule && !failed.empty()) {
    std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.residual < b.residual; });
    FixedPointBranch polished = polish(failed.front());
    if (polished.status == Status::success) {
      converged.push_back(polished);
      result.iteration_converged = false;
      polished_already = true;
    }
  }
  // Escalation: where no start converged on the automatic rule, the discretised map is usually
  // discontinuous near the solution (a node's prox switching between local minima as (Q, Γ) move)
  // and a finer rule moves the jumps below the tolerance. Measured for softplus m = 2, ridge 0.2,
  // min(z^2,4): at δ = 1.8, 2, 2.4 the 12² rule stalls at residuals 1e-2..3e-1 while 16² converges
  // in 16–17 iterations; which size works is erratic in the size (20² converges at δ = 1.4, 24²
  // does not), so up to `escalations` sizes are tried, each from the failed start (warm or cold)
  // with the lowest residual.
  int points_used = result.continued_from ? 0 : rule_points(iteration_rule);
  if (converged.empty() && options.xi_points == 0) {
    std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.residual < b.residual; });
    const int base = iteration_rule.hermite_points;
    for (int e = 1; e <= options.escalations && converged.empty(); ++e) {
      GaussianRuleOptions finer = iteration_rule;
      finer.hermite_points = base + e * std::max(1, base / 4);
      finer.panel_points = std::min(40, iteration_rule.panel_points + 2 * e);  // the split rule's (composite)
      if (std::pow(static_cast<double>(finer.hermite_points), m) > 2e5) break;
      if (failed.empty()) break;
      const auto fine_map = make_map(teacher, groups, pool, net, delta, options, finer, global_iteration, &applications);
      FixedPointBranch br = solve_from(*fine_map, params_of(failed.front(), k, m), options, -1, free);
      if (br.status == Status::success) {
        points_used = rule_points(finer);
        converged.push_back(br);
      }
    }
  }
  std::sort(converged.begin(), converged.end(), [](const auto& a, const auto& b) { return a.risk < b.risk; });
  result.iteration_points = points_used;
  result.escalated = !result.continued_from && points_used != rule_points(iteration_rule);
  if (!converged.empty() && options.polish_on_law_rule && !result.continued_from && !polished_already) {
    // Without convergence the polish's best point is kept all the same: its residual on the law's
    // rule is at most that of the iteration rule's solution it started from.
    FixedPointBranch polished = polish(converged.front());
    if (std::isfinite(polished.residual)) {
      polished.status = Status::success;
      converged.front() = polished;
    }
  }
  result.unique = converged.size() <= 1;
  result.uniqueness_checked = cold_run;
  if (!converged.empty()) {
    result.chosen = 0;
    result.status = Status::success;
  } else {
    std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.residual < b.residual; });
    result.chosen = failed.empty() ? -1 : 0;
    result.status = failed.empty() ? Status::numerical_issue : worst(Status::not_converged, failed.front().status);
    result.message = "phase1 fixed-point: no start converged (best residual " +
                     (failed.empty() ? std::string("n/a") : std::to_string(failed.front().residual)) + ")";
  }
  if (!converged.empty()) {
    // A solution whose M is 0 up to round-off (≤ kSnapM) is tried with M = 0 exactly: where T's
    // residual there is no larger (within tol), it is the same solution on the set T leaves
    // invariant for a symmetric link (broyden_from), its law has the symmetry exactly and is written
    // with one prox per label, and the continuation from it stays on that set. (z1·z2, latent 2
    // hard: M = 7.6e-13, −8.3e-12, 4.2e-13 at δ = 0.5, 2, 20 before.)
    FixedPointBranch& b = converged.front();
    Params x = params_of(b, k, m);
    const double scale = 1.0 + max_norm(x.pack());
    // (On the law's rule, where the solution lives unless polish_on_law_rule is off.)
    if (options.polish_on_law_rule && !x.M.isZero(0.0) && x.M.cwiseAbs().maxCoeff() <= kSnapM * scale) {
      x.M.setZero();
      // Grouped by label the node weight floor leaves out other pairs than per node (it applies to
      // a group's weight), so T moves by up to the left-out mass (1e-9 measured): a few Broyden
      // steps on the law's rule, M held at 0 (broyden_from), go the rest of the way.
      const int n = static_cast<int>(free.size());
      Eigen::MatrixXd J;
      if (b.jacobian.size() == static_cast<std::size_t>(n) * n) J = Eigen::Map<const Eigen::MatrixXd>(b.jacobian.data(), n, n);
      FixedPointBranch s = broyden_from(*law_rule_map(x), x, short_budget(kSnapEvaluations, kContinuationStallWindow), free,
                                        J, kSnapEvaluations);
      const Params xs = params_of(s, k, m);
      if (xs.M.isZero(0.0) && (strictly_converged(s) || s.residual <= b.residual)) {
        s.status = Status::success;
        s.start = b.start;
        s.iterations += b.iterations;
        s.quadrature_error = b.quadrature_error;
        if (J.size() > 0) s.jacobian.assign(J.data(), J.data() + J.size());
        b = s;
        result.law_residual = b.residual;
      }
    }
  }
  result.branches = converged;
  result.branches.insert(result.branches.end(), failed.begin(), failed.end());
  if (result.chosen >= 0) {
    const Params x = params_of(result.branches[result.chosen], k, m);
    MapOutput at_law;
    if (law_at_solution && law_at_solution->first == x.pack()) {
      at_law = law_at_solution->second.first;
      result.law = std::move(law_at_solution->second.second);
    } else {
      at_law = global_law_map(x)->apply(x, &result.law);
    }
    result.nonglobal_mass = at_law.nonglobal_mass;
    result.convex_certified_mass = at_law.certified_mass;
    result.pruned_mass = at_law.pruned_mass;
    result.split_panels = at_law.split_panels;
    result.branches[result.chosen].law_convex_certified = at_law.certified_everywhere(options.tol);
    result.covariance_ratio = at_law.covariance_ratio;
    result.principal_axis_rule = at_law.principal;
    if (!converged.empty() && converged.size() > 1) {
      result.law.description += "; " + std::to_string(converged.size()) + " distinct solutions, lowest risk taken";
    }
  }
  result.map_applications = applications;
  return result;
}

}  // namespace deltacrit::phase1
