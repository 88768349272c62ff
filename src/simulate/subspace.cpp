#include "deltacrit/simulate/subspace.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace deltacrit::simulate {

Eigen::MatrixXd subspace_overlap_matrix(const Eigen::MatrixXd& cross, const Eigen::MatrixXd& gram) {
  const Eigen::Index k = cross.rows();
  const Eigen::Index r = cross.cols();
  if (gram.rows() != r || gram.cols() != r) {
    throw std::invalid_argument("subspace_overlap_matrix: the Gram matrix is " + std::to_string(gram.rows()) + "x" +
                                std::to_string(gram.cols()) + ", expected " + std::to_string(r) + "x" +
                                std::to_string(r) + " (columns of the cross products)");
  }
  if (!cross.allFinite() || !gram.allFinite()) {
    return Eigen::MatrixXd::Constant(k, k, std::numeric_limits<double>::quiet_NaN());
  }
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(k, k);
  if (r == 0) return S;
  // Unit-length columns first (G ← DGD, C ← CD, D = diag(G_jj^{-1/2})): the projector is unchanged
  // and the conditioning of G then reflects the angles between the columns only, not their
  // lengths (GD neurons of very different norms). A zero column (G_jj = 0) is dropped.
  Eigen::VectorXd scale(r);
  for (Eigen::Index j = 0; j < r; ++j) {
    const double inv = gram(j, j) > 0.0 ? 1.0 / std::sqrt(gram(j, j)) : 0.0;
    scale[j] = std::isfinite(inv) ? inv : 0.0;
  }
  const Eigen::MatrixXd cross_unit = cross * scale.asDiagonal();
  const Eigen::MatrixXd gram_unit = scale.asDiagonal() * (0.5 * (gram + gram.transpose())) * scale.asDiagonal();
  // G⁺ = Σ_q v_q v_qᵀ/λ_q over the kept eigenpairs, so S = Σ_q (C v_q)(C v_q)ᵀ/λ_q: a sum of
  // rank-one PSD terms, each with entries in [−1, 1] (|θ̂ᵀE v_q| ≤ ‖E v_q‖ = √λ_q). Accuracy: G
  // carries rounding ≈ ε·λ_max, so a term with λ_q = c·λ_max is accurate to ≈ ε/c relative (the
  // Gram route squares the condition number of the unit-column E): 1e-16 for a well-conditioned
  // estimate, ≈ 1e-4 for a direction at the cutoff (two columns at an angle ≈ 1e-6).
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram_unit);
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const double top = lambda.maxCoeff();
  if (!(top > 0.0)) return S;
  for (Eigen::Index q = 0; q < r; ++q) {
    if (!(lambda[q] > kGramRelativeCutoff * top)) continue;
    const Eigen::VectorXd cv = cross_unit * eig.eigenvectors().col(q);
    S.noalias() += cv * cv.transpose() / lambda[q];
  }
  return 0.5 * (S + S.transpose());
}

Eigen::MatrixXd subspace_overlap_matrix_of(const Eigen::MatrixXd& theta, const Eigen::MatrixXd& estimate) {
  if (theta.rows() != estimate.rows()) {
    throw std::invalid_argument("subspace_overlap_matrix_of: theta has " + std::to_string(theta.rows()) +
                                " rows, the estimate " + std::to_string(estimate.rows()));
  }
  Eigen::MatrixXd unit = theta;
  for (Eigen::Index a = 0; a < unit.cols(); ++a) {
    const double norm = unit.col(a).norm();
    if (norm > 0) unit.col(a) /= norm;
  }
  return subspace_overlap_matrix(unit.transpose() * estimate, estimate.transpose() * estimate);
}

Eigen::VectorXd principal_cos2(const Eigen::MatrixXd& S) {
  if (!S.allFinite()) return Eigen::VectorXd::Constant(S.rows(), std::numeric_limits<double>::quiet_NaN());
  if (S.size() == 0) return Eigen::VectorXd();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (S + S.transpose()), Eigen::EigenvaluesOnly);
  return eig.eigenvalues().reverse();
}

}  // namespace deltacrit::simulate
