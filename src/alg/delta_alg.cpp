// δ_alg: trivial subspace, the operator F on symmetric matrices, classification, staircase.
#include "deltacrit/alg/delta_alg.hpp"

#include <Eigen/Eigenvalues>

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "deltacrit/alg/closed_form.hpp"
#include "delta_alg_internal.hpp"
#include "deltacrit/gauss/hermite.hpp"

namespace deltacrit::alg {

std::string_view to_string(DirectionClass c) {
  switch (c) {
    case DirectionClass::trivial: return "trivial";
    case DirectionClass::easy: return "easy";
    case DirectionClass::hard: return "hard";
  }
  return "hard";
}

void AlgOptions::validate() const {
  if (!(tol > 0 && tol <= 0.1)) {
    std::ostringstream m;
    m << "tol = " << tol << " is out of range (accepted: 0 < tol <= 0.1)";
    throw InputError("tol", m.str());
  }
  if (!(staircase_nodes == 0 || (staircase_nodes >= 2 && staircase_nodes <= 64 && staircase_nodes % 2 == 0))) {
    throw InputError("staircase_nodes", "staircase_nodes = " + std::to_string(staircase_nodes) +
                                            " is out of range (accepted: 0 for automatic, or an even number in 2..64)");
  }
  ChannelOptions c;
  c.radius = radius;
  c.fibre_grid = fibre_grid;
  c.validate();
}

namespace {

// Orthonormal basis of Sym_m for ⟨A, B⟩ = tr(AB): E_aa and (e_a e_bᵀ + e_b e_aᵀ)/√2.
std::vector<Eigen::MatrixXd> sym_basis(int m) {
  std::vector<Eigen::MatrixXd> out;
  for (int a = 0; a < m; ++a)
    for (int b = a; b < m; ++b) {
      Eigen::MatrixXd e = Eigen::MatrixXd::Zero(m, m);
      if (a == b) {
        e(a, a) = 1.0;
      } else {
        e(a, b) = e(b, a) = M_SQRT1_2;
      }
      out.push_back(e);
    }
  return out;
}

// F_IJ = Σ_j w_j tr(B_I G_j B_J G_j) with G_j = Vᵀ(m2_j − I)V.
Eigen::MatrixXd operator_matrix(const std::vector<ChannelNode>& nodes, const Eigen::MatrixXd& V) {
  const int m = static_cast<int>(V.cols());
  const auto basis = sym_basis(m);
  const int p = static_cast<int>(basis.size());
  Eigen::MatrixXd F = Eigen::MatrixXd::Zero(p, p);
  if (m == 0) return F;
  const int k = static_cast<int>(V.rows());
  std::vector<Eigen::MatrixXd> GB(p);
  for (const auto& n : nodes) {
    const Eigen::MatrixXd G = V.transpose() * (Eigen::MatrixXd(n.m2) - Eigen::MatrixXd::Identity(k, k)) * V;
    for (int I = 0; I < p; ++I) GB[I] = basis[I] * G;
    for (int I = 0; I < p; ++I)
      for (int J = I; J < p; ++J) F(I, J) += n.weight * (GB[I] * GB[J]).trace();
  }
  for (int I = 0; I < p; ++I)
    for (int J = 0; J < I; ++J) F(I, J) = F(J, I);
  return F;
}

Eigen::MatrixXd from_sym_coordinates(const Eigen::VectorXd& c, int m) {
  const auto basis = sym_basis(m);
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(m, m);
  for (std::size_t I = 0; I < basis.size(); ++I) M += c(static_cast<Eigen::Index>(I)) * basis[I];
  return M;
}

}  // namespace

StageAnalysis analyse_stage(const std::vector<ChannelNode>& nodes, int k, double rel_error) {
  StageAnalysis a;
  a.C = Eigen::MatrixXd::Zero(k, k);
  a.G_square = Eigen::MatrixXd::Zero(k, k);
  for (const auto& n : nodes) {
    const Eigen::VectorXd m1 = n.m1;
    const Eigen::MatrixXd G = Eigen::MatrixXd(n.m2) - Eigen::MatrixXd::Identity(k, k);
    a.C += n.weight * m1 * m1.transpose();
    a.G_square += n.weight * G * G;
  }
  a.C = 0.5 * (a.C + a.C.transpose()).eval();
  a.G_square = 0.5 * (a.G_square + a.G_square.transpose()).eval();
  const double floor = 1e-3;

  // Trivial subspace: eigenvalues of C above the quadrature noise. The functionals of the law are
  // accurate to rel_error relative to max(floor, |value|) (channel.hpp); a direction is trivial
  // only if its eigenvalue exceeds 10× that and 1e-9 (pitfall 1: a residue must not make an easy
  // direction trivial; E[(vᵀz)²] = 1 sets the scale).
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ec(a.C);
  const double tol_c = std::max(1e-9, 10.0 * rel_error * std::max(floor, a.C.cwiseAbs().maxCoeff()));
  std::vector<int> triv, comp;
  for (int i = 0; i < k; ++i) (ec.eigenvalues()(i) > tol_c ? triv : comp).push_back(i);
  a.trivial.resize(k, static_cast<Eigen::Index>(triv.size()));
  a.complement.resize(k, static_cast<Eigen::Index>(comp.size()));
  for (std::size_t i = 0; i < triv.size(); ++i) a.trivial.col(static_cast<Eigen::Index>(i)) = ec.eigenvectors().col(triv[i]);
  for (std::size_t i = 0; i < comp.size(); ++i) a.complement.col(static_cast<Eigen::Index>(i)) = ec.eigenvectors().col(comp[i]);

  a.F_full = operator_matrix(nodes, Eigen::MatrixXd::Identity(k, k));
  a.F = operator_matrix(nodes, a.complement);
  const int m = static_cast<int>(a.complement.cols());
  a.easy.resize(k, 0);
  a.hard.resize(k, 0);
  if (m == 0) return a;

  // Error of F_top: each entry of F is accurate to rel_error · max(floor, |F_IJ|); Weyl's
  // inequality bounds |Δλ| by the Frobenius norm of the perturbation.
  a.abs_error = rel_error * a.F.cwiseAbs().cwiseMax(floor).norm();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ef(a.F);
  const auto& lam = ef.eigenvalues();
  const int p = static_cast<int>(lam.size());
  a.F_top = std::max(0.0, lam(p - 1));
  const double tol_f = std::max(1e-10, 10.0 * a.abs_error);
  if (a.F_top > tol_f) {
    // Easy directions: union of the ranges of the top eigen-matrices (a cluster when degenerate,
    // e.g. z1² + z2² where F = (2/k)·Id).
    const double cluster = std::max(1e-6 * a.F_top, 3.0 * a.abs_error);
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(m, m);
    for (int i = p - 1; i >= 0 && lam(i) >= a.F_top - cluster; --i) {
      const Eigen::MatrixXd M = from_sym_coordinates(ef.eigenvectors().col(i), m);
      S += M * M;
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(S);
    const double smax = es.eigenvalues().maxCoeff();
    std::vector<int> easy;
    for (int i = 0; i < m; ++i)
      if (es.eigenvalues()(i) > 1e-6 * smax) easy.push_back(i);
    a.easy.resize(k, static_cast<Eigen::Index>(easy.size()));
    for (std::size_t i = 0; i < easy.size(); ++i)
      a.easy.col(static_cast<Eigen::Index>(i)) = a.complement * es.eigenvectors().col(easy[i]);
  } else {
    a.F_top = std::max(a.F_top, 0.0);
  }
  // Hard directions: null space of E[G²] on the complement (G(y)v = 0 for a.e. y).
  const Eigen::MatrixXd K = a.complement.transpose() * a.G_square * a.complement;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ek(K);
  const double tol_k = std::max(1e-10, 10.0 * rel_error * std::max(floor, K.cwiseAbs().maxCoeff()));
  std::vector<int> hard;
  for (int i = 0; i < m; ++i)
    if (ek.eigenvalues()(i) <= tol_k) hard.push_back(i);
  a.hard.resize(k, static_cast<Eigen::Index>(hard.size()));
  for (std::size_t i = 0; i < hard.size(); ++i)
    a.hard.col(static_cast<Eigen::Index>(i)) = a.complement * ek.eigenvectors().col(hard[i]);
  return a;
}

namespace {

// Orthonormal basis of the orthogonal complement of span(A) (k × r, orthonormal columns).
Eigen::MatrixXd orthogonal_complement(const Eigen::MatrixXd& A, int k) {
  if (A.cols() == 0) return Eigen::MatrixXd::Identity(k, k);
  const Eigen::MatrixXd P = Eigen::MatrixXd::Identity(k, k) - A * A.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(P);
  std::vector<int> keep;
  for (int i = 0; i < k; ++i)
    if (es.eigenvalues()(i) > 0.5) keep.push_back(i);
  Eigen::MatrixXd out(k, static_cast<Eigen::Index>(keep.size()));
  for (std::size_t i = 0; i < keep.size(); ++i) out.col(static_cast<Eigen::Index>(i)) = es.eigenvectors().col(keep[i]);
  return out;
}

// Sign convention for reported vectors: largest-magnitude entry positive; tiny entries zeroed.
Eigen::VectorXd canonical(Eigen::VectorXd v) {
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (std::fabs(v(i)) < 1e-13) v(i) = 0.0;
  Eigen::Index imax = 0;
  v.cwiseAbs().maxCoeff(&imax);
  if (v(imax) < 0) v = -v;
  return v.normalized();
}

// Rotates a basis of a subspace so that its vectors are as close as possible to coordinate axes
// (reduced row echelon form of the projector, orthonormalised). Makes reports readable: the
// easy subspace of z1² + z2² is reported as e1, e2 rather than an arbitrary rotation.
Eigen::MatrixXd readable_basis(const Eigen::MatrixXd& B) {
  const int k = static_cast<int>(B.rows()), r = static_cast<int>(B.cols());
  if (r == 0) return B;
  Eigen::MatrixXd P = B * B.transpose();  // projector
  Eigen::MatrixXd out(k, 0);
  for (int pass = 0; pass < r; ++pass) {
    // Pick the coordinate axis with the largest projection not yet covered.
    Eigen::MatrixXd Q = P - out * out.transpose();
    Eigen::Index best = 0;
    Q.diagonal().maxCoeff(&best);
    Eigen::VectorXd v = Q.col(best);
    if (v.norm() < 1e-12) break;
    v.normalize();
    out.conservativeResize(k, out.cols() + 1);
    out.col(out.cols() - 1) = canonical(v);
  }
  return out;
}

struct StageInput {
  std::vector<ChannelNode> nodes;
  double rel_error = 0;
  Status status = Status::success;
  std::string note;
  long evaluations = 0;
};

StageInput law_for_remaining(const model::Link& link, const model::Noise& noise, const Eigen::MatrixXd& U,
                             const Eigen::MatrixXd& R, const ChannelOptions& copt, int nodes_per_axis) {
  StageInput in;
  const int k = link.k();
  const int kl = static_cast<int>(U.cols()), kr = static_cast<int>(R.cols());
  if (kl == 0) {
    const auto law = build_channel_law(link, noise, copt);
    in.nodes = law.nodes;
    in.rel_error = law.error_estimate;
    in.status = law.status;
    in.note = law.diagnostics.note;
    in.evaluations = law.diagnostics.link_evaluations;
    return in;
  }
  // Average over the learned fields s ~ N(0, I_kl) with a Gauss–Hermite tensor rule.
  const auto rule = gauss::hermite_tensor_rule(kl, nodes_per_axis);
  auto base = std::make_shared<model::Link>(link);
  for (std::size_t q = 0; q < rule.size(); ++q) {
    Eigen::VectorXd s(kl);
    for (int i = 0; i < kl; ++i) s(i) = rule.x[q * kl + i];
    const Eigen::VectorXd offset = U * s;
    Eigen::MatrixXd Rc = R;
    model::Link cond("conditioned", kr, [base, offset, Rc, k, kr](const double* t) {
      double z[3] = {0, 0, 0};
      for (int i = 0; i < k; ++i) {
        z[i] = offset(i);
        for (int j = 0; j < kr; ++j) z[i] += Rc(i, j) * t[j];
      }
      return (*base)(z);
    });
    const auto law = build_channel_law(cond, noise, copt);
    for (auto n : law.nodes) {
      n.weight *= rule.w[q];
      in.nodes.push_back(std::move(n));
    }
    in.rel_error = std::max(in.rel_error, law.error_estimate);
    in.status = worst(in.status, law.status);
    in.evaluations += law.diagnostics.link_evaluations;
  }
  return in;
}

}  // namespace

AlgResult compute_delta_alg(const model::Link& link, const model::Noise& noise, const AlgOptions& options) {
  options.validate();
  AlgResult res;
  const int k = link.k();
  res.k = k;
  res.link = link.text();
  res.noise = noise.text();
  res.idealisation =
      "staircase: directions learned at earlier stages are treated as exactly known; later stages "
      "condition on them (z = U s + V t, s ~ N(0, I) averaged by Gauss-Hermite)";

  if (options.closed_form) {
    if (auto cf = closed_form_delta_alg(link, noise)) return *cf;
    res.note = "no closed form for this link; generic route used";
  }
  res.method = "generic";

  ChannelOptions copt;
  copt.tol = std::min(0.1, std::max(1e-12, options.tol * 0.5));
  copt.radius = options.radius;
  copt.fibre_grid = options.fibre_grid;
  const int ns = options.staircase_nodes > 0 ? options.staircase_nodes : 12;

  Eigen::MatrixXd U(k, 0);                         // learned so far
  Eigen::MatrixXd R = Eigen::MatrixXd::Identity(k, k);  // remaining coordinates
  Status status = Status::success;
  Eigen::MatrixXd hard_final(k, 0);
  for (int stage = 0; R.cols() > 0 && stage < k; ++stage) {
    const int kr = static_cast<int>(R.cols());
    StageInput in = law_for_remaining(link, noise, U, R, copt, ns);
    StageAnalysis a = analyse_stage(in.nodes, kr, in.rel_error);
    double gh_error = 0.0;
    if (U.cols() > 0) {
      // Error of the Gauss–Hermite average over s: compare with a rule of half the size.
      StageInput half = law_for_remaining(link, noise, U, R, copt, std::max(2, ns / 2));
      StageAnalysis b = analyse_stage(half.nodes, kr, half.rel_error);
      gh_error = std::fabs(a.F_top - b.F_top) + std::fabs(a.C.trace() - b.C.trace());
      in.evaluations += half.evaluations;
    }
    status = worst(status, in.status);
    res.link_evaluations += in.evaluations;
    if (!in.note.empty() && res.note.find(in.note) == std::string::npos)
      res.note += (res.note.empty() ? "" : "; ") + in.note;
    if (stage == 0) {
      res.trivial_gram = a.C;
      res.F_top_eigenvalue = a.F_top;
      res.F_norm = a.F_full.norm();
      res.F_matrix = a.F;
      res.G_square = a.G_square;
      res.channel_error_estimate = in.rel_error;
      res.channel_nodes = static_cast<int>(in.nodes.size());
    }
    AlgStage st;
    st.trivial_gram = a.C;
    st.status = in.status;
    Eigen::MatrixXd learned;
    if (a.trivial.cols() > 0) {
      st.kind = DirectionClass::trivial;
      st.delta = 0.0;
      learned = R * a.trivial;
    } else if (a.easy.cols() > 0) {
      st.kind = DirectionClass::easy;
      st.F_top_eigenvalue = a.F_top;
      st.delta = 1.0 / a.F_top;
      const double err = a.abs_error + gh_error;
      st.error_estimate = st.delta * err / std::max(a.F_top - err, 0.5 * a.F_top);
      learned = R * a.easy;
    } else {
      hard_final = R;
      break;
    }
    learned = readable_basis(learned);
    for (Eigen::Index i = 0; i < learned.cols(); ++i) st.directions.push_back(learned.col(i));
    res.stages.push_back(st);
    Eigen::MatrixXd Unew(k, U.cols() + learned.cols());
    Unew << U, learned;
    U = Unew;
    R = orthogonal_complement(U, k);
    R = readable_basis(R);
  }
  if (hard_final.cols() == 0 && R.cols() > 0) hard_final = R;

  for (std::size_t s = 0; s < res.stages.size(); ++s)
    for (const auto& v : res.stages[s].directions)
      res.directions.push_back({v, res.stages[s].kind, static_cast<int>(s)});
  hard_final = readable_basis(hard_final);
  for (Eigen::Index i = 0; i < hard_final.cols(); ++i)
    res.directions.push_back({hard_final.col(i), DirectionClass::hard, -1});

  if (res.stages.empty()) {
    res.delta_alg = std::numeric_limits<double>::infinity();
  } else if (res.stages.front().kind == DirectionClass::trivial) {
    res.delta_alg = 0.0;
  } else {
    res.delta_alg = res.stages.front().delta;
    res.error_estimate = res.stages.front().error_estimate;
  }
  if (status == Status::success && res.delta_alg > 0 && std::isfinite(res.delta_alg) &&
      res.error_estimate > options.tol * res.delta_alg) {
    status = Status::not_converged;
    res.note += (res.note.empty() ? "" : "; ") + std::string("error estimate above the tolerance");
  }
  res.status = status;
  return res;
}

namespace detail {

AlgResult single_stage_result(const ChannelLaw& law, const model::Link& link, const model::Noise& noise,
                              const std::string& method) {
  AlgResult res;
  const int k = link.k();
  res.k = k;
  res.link = link.text();
  res.noise = noise.text();
  res.method = method;
  const StageAnalysis a = analyse_stage(law.nodes, k, law.error_estimate);
  res.trivial_gram = a.C;
  res.F_top_eigenvalue = a.F_top;
  res.F_norm = a.F_full.norm();
  res.F_matrix = a.F;
  res.G_square = a.G_square;
  res.channel_error_estimate = law.error_estimate;
  res.channel_nodes = static_cast<int>(law.nodes.size());
  res.status = law.status;
  AlgStage st;
  st.trivial_gram = a.C;
  st.status = law.status;
  Eigen::MatrixXd learned(k, 0);
  if (a.trivial.cols() > 0) {
    st.kind = DirectionClass::trivial;
    learned = a.trivial;
  } else if (a.easy.cols() > 0) {
    st.kind = DirectionClass::easy;
    st.F_top_eigenvalue = a.F_top;
    st.delta = 1.0 / a.F_top;
    st.error_estimate = st.delta * a.abs_error / std::max(a.F_top - a.abs_error, 0.5 * a.F_top);
    learned = a.easy;
  }
  learned = readable_basis(learned);
  for (Eigen::Index i = 0; i < learned.cols(); ++i) {
    st.directions.push_back(learned.col(i));
    res.directions.push_back({learned.col(i), st.kind, 0});
  }
  if (learned.cols() > 0) res.stages.push_back(st);
  const Eigen::MatrixXd rest = readable_basis(orthogonal_complement(learned, k));
  for (Eigen::Index i = 0; i < rest.cols(); ++i) res.directions.push_back({rest.col(i), DirectionClass::hard, -1});
  if (res.stages.empty()) {
    res.delta_alg = std::numeric_limits<double>::infinity();
  } else {
    res.delta_alg = st.delta;
    res.error_estimate = st.error_estimate;
  }
  return res;
}

}  // namespace detail

}  // namespace deltacrit::alg
