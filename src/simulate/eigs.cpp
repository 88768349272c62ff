#include "deltacrit/simulate/eigs.hpp"

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>

namespace deltacrit::simulate {

namespace {
// Spectra's matrix-operation concept: rows(), cols(), perform_op(in, out).
class FunctionOp {
 public:
  using Scalar = double;
  FunctionOp(int dim, const std::function<void(const double*, double*)>& f, long& counter)
      : dim_(dim), f_(f), counter_(counter) {}
  Eigen::Index rows() const { return dim_; }
  Eigen::Index cols() const { return dim_; }
  void perform_op(const double* in, double* out) const {
    ++counter_;
    f_(in, out);
  }

 private:
  int dim_;
  const std::function<void(const double*, double*)>& f_;
  long& counter_;
};
}  // namespace

void LanczosOptions::validate(int dim) const {
  if (dim < 2) throw InputError("dim", "lanczos: operator dimension " + std::to_string(dim) + " must be >= 2");
  if (nev < 1 || nev >= dim) {
    throw InputError("nev", "nev = " + std::to_string(nev) + " eigenpairs: accepted 1.." + std::to_string(dim - 1));
  }
  if (ncv != 0 && (ncv <= nev || ncv > dim)) {
    throw InputError("ncv", "ncv = " + std::to_string(ncv) + ": accepted 0 (auto) or nev < ncv <= dim (" +
                                std::to_string(dim) + ")");
  }
  if (max_restarts < 1) throw InputError("max_restarts", "max_restarts must be >= 1");
  if (!(tol > 0.0 && tol < 1.0)) throw InputError("tol", "tol must be in (0, 1)");
}

LanczosResult lanczos(int dim, const std::function<void(const double*, double*)>& matvec, const LanczosOptions& options,
                      const Eigen::VectorXd& start) {
  options.validate(dim);
  const int ncv = options.ncv != 0 ? options.ncv : std::min(dim, std::max(2 * options.nev + 1, 40));
  LanczosResult result;
  long counter = 0;
  FunctionOp op(dim, matvec, counter);
  Spectra::SymEigsSolver<FunctionOp> solver(op, options.nev, ncv);
  if (start.size() == dim) solver.init(start.data());
  else solver.init();
  const auto rule = options.largest ? Spectra::SortRule::LargestAlge : Spectra::SortRule::SmallestAlge;
  solver.compute(rule, options.max_restarts, options.tol, rule);
  result.restarts = solver.num_iterations();
  if (solver.info() != Spectra::CompInfo::Successful) {
    result.status = Status::not_converged;
    result.matvecs = counter;
    return result;
  }
  result.values = solver.eigenvalues();
  result.vectors = solver.eigenvectors();
  Eigen::VectorXd av(dim);
  for (int j = 0; j < result.values.size(); ++j) {
    matvec(result.vectors.col(j).data(), av.data());
    result.max_residual = std::max(result.max_residual, (av - result.values[j] * result.vectors.col(j)).norm());
  }
  result.matvecs = counter;
  result.status = result.values.allFinite() && result.vectors.allFinite() ? Status::success : Status::numerical_issue;
  return result;
}

}  // namespace deltacrit::simulate
