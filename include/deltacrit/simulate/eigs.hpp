#pragma once
// Extreme eigenpairs of a symmetric operator given only by its matrix–vector product
// (restarted Lanczos, Spectra's SymEigsSolver).
//
// Lanczos builds the Krylov space span{v, Av, A²v, ...}, which is the same for A and σI − A, so
// the lowest eigenvalues need no shift: we ask Spectra for SmallestAlge (or LargestAlge) directly.
// Unlike the power method, Lanczos is not stalled by a spectrum that is unbounded on the other side
// (spectral preprocessing 1 − 1/y, pitfall 11): isolated far eigenvalues are captured by a few Ritz
// values and the wanted end converges at a rate set by its own gap.
#include <Eigen/Core>
#include <functional>

#include "deltacrit/core/status.hpp"

namespace deltacrit::simulate {

struct LanczosOptions {
  int nev = 1;             // number of eigenpairs wanted, 1 ≤ nev < dim
  int ncv = 0;             // Krylov basis size; 0 = auto: min(dim, max(2·nev + 1, 40))
  int max_restarts = 3000; // Spectra restarts before giving up (status not_converged)
  double tol = 1e-9;       // relative residual tolerance of a Ritz pair (Spectra's criterion)
  bool largest = true;     // true: largest algebraic eigenvalues; false: smallest algebraic
  void validate(int dim) const;  // throws InputError naming the field
};

struct LanczosResult {
  Status status = Status::not_computed;
  Eigen::VectorXd values;   // nev eigenvalues, ordered from the wanted end (largest first or smallest first)
  Eigen::MatrixXd vectors;  // dim × nev, orthonormal columns
  long matvecs = 0;
  long restarts = 0;
  double max_residual = 0.0;  // max_j ‖A v_j − λ_j v_j‖ recomputed after convergence
};

// `matvec(in, out)` computes out = A·in for vectors of length `dim`. `start` (length dim, may be
// empty) is the initial vector; pass one drawn from a seeded Rng for reproducibility.
LanczosResult lanczos(int dim, const std::function<void(const double*, double*)>& matvec, const LanczosOptions& options,
                      const Eigen::VectorXd& start);

}  // namespace deltacrit::simulate
