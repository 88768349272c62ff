#pragma once
// Subspace overlap matrix of an estimate with the hidden directions, the per-run quantity the
// `simulate` sweeps average over seeds (sweep.hpp, SeedResult::subspace_matrix).
//
// Θ̂ = Θ* with unit-norm columns (d×k), E = a basis of the estimate (d×r: GD/hessian neurons,
// spectral eigenvectors, GAMP's Ŵ columns; any r ≥ 1, any column scale, possibly rank-deficient),
// G = EᵀE its Gram matrix and P_E = E G⁺ Eᵀ the orthogonal projector on span(E). Then
//     S = Θ̂ᵀ P_E Θ̂ = C G⁺ Cᵀ,   C = Θ̂ᵀE (k×r),
// so S needs only the k×r cross products and the r×r Gram matrix, never a d-dimensional vector.
// S is k×k, symmetric, positive semi-definite with eigenvalues in [0, 1]. It depends on span(E)
// alone: it is invariant under permutations, sign flips, rescaling and any invertible (in
// particular orthogonal) recombination of the estimate's columns, which are arbitrary from seed
// to seed (neuron order, eigenvector signs, the symmetries of the link). For orthonormal Θ* (the
// simulator's case) its eigenvalues are the squared cosines of the principal angles between
// span(Θ*) and span(E) (Björck & Golub, Math. Comp. 27 (1973) 579), padded with zeros when
// rank E < k, and tr S / k = ‖Θ*ᵀP_E‖_F²/k is the scalar subspace overlap of the sweeps.
// Entry (a, b) is ⟨P_E θ̂_a, P_E θ̂_b⟩: the diagonal is how much of each hidden direction the
// estimate captures, the off-diagonal how their captured parts are aligned. Under a permutation
// or sign flip of Θ*'s columns S transforms as S → ΠᵀSΠ (the order of Θ* is fixed by the model).
#include <Eigen/Core>

namespace deltacrit::simulate {

// The columns are scaled to unit length first (a zero column is dropped), so S does not depend on
// their lengths. Eigenvalues λ of that unit-column Gram matrix below kGramRelativeCutoff·λ_max are
// then dropped from the pseudo-inverse: such a direction is (to double rounding, singular values
// below 1e-6 of the largest) a combination of the others — repeated or collinear neurons, GAMP
// columns that have merged. G = 0 (every column zero) gives S = 0; no division by zero occurs.
inline constexpr double kGramRelativeCutoff = 1e-12;

// S = C G⁺ Cᵀ (symmetrised) from C = Θ̂ᵀE (k×r) and G = EᵀE (r×r, symmetric PSD). Both must be
// in the same scaling of E's columns (the caller's choice: raw, normalised...). Non-finite input
// gives a k×k matrix of NaN. Throws std::invalid_argument when the shapes do not match.
Eigen::MatrixXd subspace_overlap_matrix(const Eigen::MatrixXd& cross, const Eigen::MatrixXd& gram);

// The same from theta (d×k, columns normalised here) and the estimate (d×r); O(d·r·(r + k)).
Eigen::MatrixXd subspace_overlap_matrix_of(const Eigen::MatrixXd& theta, const Eigen::MatrixXd& estimate);

// Eigenvalues of a subspace overlap matrix, largest first (squared cosines of the principal
// angles for orthonormal Θ*). NaN entries when S is not finite.
Eigen::VectorXd principal_cos2(const Eigen::MatrixXd& S);

}  // namespace deltacrit::simulate
