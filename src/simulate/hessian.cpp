#include "deltacrit/simulate/hessian.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "deltacrit/simulate/eigs.hpp"
#include "fused_product.hpp"

namespace deltacrit::simulate {

namespace {
struct HvpContext {
  const double* D = nullptr;
  int m = 1;
};
// c_i = D_i s_i (m×m times m).
void hvp_row(void* context, std::size_t row, const double* s, double* c) {
  const auto* ctx = static_cast<HvpContext*>(context);
  const int m = ctx->m;
  const double* Di = ctx->D + row * static_cast<std::size_t>(m) * m;
  for (int j = 0; j < m; ++j) {
    double v = 0.0;
    for (int l = 0; l < m; ++l) v += Di[j * m + l] * s[l];
    c[j] = v;
  }
}
}  // namespace

struct HessianOperator::Impl {
  Impl(const Samples& s, Parallel& p) : samples(s), parallel(p) {}
  const Samples& samples;
  Parallel& parallel;
  int m = 1;
  int d = 0;
  double ridge = 0.0;
  RowMatrix U;
  std::vector<double> D;
  HvpContext context;
  std::vector<detail::RowCallback> callbacks;
  detail::FusedProduct product;
};

HessianOperator::HessianOperator(const Samples& samples, const RowMatrix& Wt, std::vector<double> a,
                                 const model::Activation& activation, const model::Loss& loss, double ridge,
                                 Parallel& parallel)
    : impl_(std::make_unique<Impl>(samples, parallel)) {
  const int m = static_cast<int>(Wt.rows());
  if (m < 1 || m > kMaxWidth || static_cast<int>(a.size()) != m) {
    throw InputError("--width", "hessian: width " + std::to_string(m) + " with " + std::to_string(a.size()) +
                                    " second-layer values (accepted: 1..8, equal counts)");
  }
  if (Wt.cols() != samples.X.cols()) throw InputError("d", "hessian: W and X have different dimensions");
  if (!(ridge >= 0.0)) throw InputError("--ridge", "--ridge: must be >= 0");
  auto& I = *impl_;
  I.m = m;
  I.d = static_cast<int>(Wt.cols());
  I.ridge = ridge;
  I.U = samples.X * Wt.transpose();
  const std::size_t n = samples.n();
  I.D.assign(n * static_cast<std::size_t>(m) * m, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double J[kMaxWidth], c2[kMaxWidth];
    double f = 0.0;
    for (int j = 0; j < m; ++j) {
      const double u = I.U(static_cast<Eigen::Index>(i), j);
      f += a[static_cast<std::size_t>(j)] * activation.value(u);
      J[j] = a[static_cast<std::size_t>(j)] * activation.d1(u);
      c2[j] = a[static_cast<std::size_t>(j)] * activation.d2(u);
    }
    const double y = samples.y[static_cast<Eigen::Index>(i)];
    const double l1 = loss.d1(y, f), l2 = loss.d2(y, f);
    double* Di = I.D.data() + i * static_cast<std::size_t>(m) * m;
    for (int j = 0; j < m; ++j) {
      for (int l = 0; l < m; ++l) Di[j * m + l] = l2 * J[j] * J[l];
      Di[j * m + j] += l1 * c2[j];
    }
  }
  I.context = HvpContext{I.D.data(), m};
  I.callbacks.assign(chunk_count(n), detail::RowCallback{&hvp_row, &I.context});
}

HessianOperator::~HessianOperator() = default;
int HessianOperator::width() const { return impl_->m; }
int HessianOperator::d() const { return impl_->d; }
const RowMatrix& HessianOperator::pre_activations() const { return impl_->U; }
const std::vector<double>& HessianOperator::weights() const { return impl_->D; }
double HessianOperator::ridge() const { return impl_->ridge; }

void HessianOperator::apply(const double* v, double* out) {
  auto& I = *impl_;
  I.product.run(I.parallel, I.samples.X, v, I.m, I.callbacks, out);
  const double inv_n = 1.0 / static_cast<double>(I.samples.n());
  const std::size_t size = static_cast<std::size_t>(I.m) * I.d;
  for (std::size_t e = 0; e < size; ++e) out[e] = out[e] * inv_n + I.ridge * v[e];
}

Eigen::MatrixXd HessianOperator::dense() const {
  const auto& I = *impl_;
  const int dim = I.m * I.d;
  if (dim > kMaxDenseHessianDim) {
    throw InputError("--spectrum", "--spectrum: the dense Hessian needs d*m <= " + std::to_string(kMaxDenseHessianDim) +
                                       " (got " + std::to_string(dim) + ")");
  }
  // Block (j, l) = (1/n) Xᵀ diag(D_{·,jl}) X; blocks (l, j) by symmetry of D_i.
  const std::size_t n = I.samples.n();
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(dim, dim);
  Eigen::VectorXd w(static_cast<Eigen::Index>(n));
  for (int j = 0; j < I.m; ++j) {
    for (int l = j; l < I.m; ++l) {
      for (std::size_t i = 0; i < n; ++i)
        w[static_cast<Eigen::Index>(i)] = I.D[i * static_cast<std::size_t>(I.m) * I.m + static_cast<std::size_t>(j) * I.m + l];
      RowMatrix weighted = I.samples.X;
      weighted.array().colwise() *= w.array();
      const Eigen::MatrixXd block = I.samples.X.transpose() * weighted / static_cast<double>(n);
      H.block(j * I.d, l * I.d, I.d, I.d) = block;
      if (l != j) H.block(l * I.d, j * I.d, I.d, I.d) = block.transpose();
    }
  }
  H.diagonal().array() += I.ridge;
  return H;
}

void HessianOptions::validate(int dim) const {
  const int max_nev = std::min(20, dim - 1);
  if (nev < 1 || nev > max_nev) {
    throw InputError("--nev", "--nev: " + std::to_string(nev) + " is out of range (accepted: 1.." + std::to_string(max_nev) + ")");
  }
  if (!(tol > 0.0 && tol < 1e-2)) throw InputError("--tol", "--tol: must be in (0, 0.01)");
  if (ncv != 0 && (ncv <= nev || ncv > dim)) {
    throw InputError("--ncv", "--ncv: accepted 0 (auto) or nev < ncv <= d*m");
  }
  if (max_restarts < 1) throw InputError("--max-restarts", "--max-restarts: must be >= 1");
  if (spectrum_bins < 0 || spectrum_bins > 100000) throw InputError("--spectrum", "--spectrum: bins accepted 0..100000");
  if (spectrum_bins > 0 && dim > kMaxDenseHessianDim) {
    throw InputError("--spectrum", "--spectrum: the dense spectrum needs d*m <= " + std::to_string(kMaxDenseHessianDim) +
                                       " (got " + std::to_string(dim) + ")");
  }
}

HessianResult hessian_spectrum(HessianOperator& H, const Eigen::MatrixXd& theta, const std::vector<int>& hard,
                               const HessianOptions& options, Rng& rng) {
  const int dim = H.dim();
  options.validate(dim);
  HessianResult result;
  LanczosOptions lo;
  lo.nev = options.nev;
  lo.ncv = options.ncv;
  lo.tol = options.tol;
  lo.max_restarts = options.max_restarts;
  lo.largest = false;
  std::normal_distribution<double> normal;
  Eigen::VectorXd start(dim);
  for (int e = 0; e < dim; ++e) start[e] = normal(rng);
  const LanczosResult eig = lanczos(dim, [&](const double* in, double* out) { H.apply(in, out); }, lo, start);
  result.matvecs = eig.matvecs;
  if (eig.status != Status::success) {
    result.status = eig.status;
    result.message = "Lanczos did not converge after " + std::to_string(eig.matvecs) + " Hessian-vector products";
    return result;
  }
  result.eigenvalues = eig.values;
  result.residual = eig.max_residual;
  const int m = H.width(), d = H.d();
  Eigen::MatrixXd hard_cols(d, static_cast<Eigen::Index>(hard.size()));
  for (std::size_t h = 0; h < hard.size(); ++h) hard_cols.col(static_cast<Eigen::Index>(h)) = theta.col(hard[h] - 1);
  for (int q = 0; q < eig.values.size(); ++q) {
    const Eigen::Map<const RowMatrix> V(eig.vectors.col(q).data(), m, d);
    const Eigen::MatrixXd M = V * theta;  // m×k
    result.overlap_matrices.push_back(M);
    result.overlaps.push_back(M.squaredNorm());
    if (!hard.empty()) result.hard_overlaps.push_back((V * hard_cols).squaredNorm());
  }
  if (options.spectrum_bins > 0) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> all(H.dense(), Eigen::EigenvaluesOnly);
    if (all.info() != Eigen::Success) {
      result.status = Status::numerical_issue;
      result.message = "dense Hessian eigenvalue solver failed";
      return result;
    }
    const Eigen::VectorXd& ev = all.eigenvalues();
    const double lo_v = ev.minCoeff(), hi_v = ev.maxCoeff();
    const int bins = options.spectrum_bins;
    const double width = hi_v > lo_v ? (hi_v - lo_v) / bins : 1.0;
    result.histogram_edges.resize(static_cast<std::size_t>(bins) + 1);
    for (int b = 0; b <= bins; ++b) result.histogram_edges[static_cast<std::size_t>(b)] = lo_v + b * width;
    result.histogram_counts.assign(static_cast<std::size_t>(bins), 0);
    for (Eigen::Index e = 0; e < ev.size(); ++e) {
      const int b = std::min(bins - 1, static_cast<int>((ev[e] - lo_v) / width));
      ++result.histogram_counts[static_cast<std::size_t>(b)];
    }
  }
  result.status = Status::success;
  return result;
}

EmpiricalLaw empirical_law(const HessianOperator& H, const Samples& samples, const std::vector<double>& a,
                           const std::vector<int>& hard, double delta, int d) {
  EmpiricalLaw law;
  const std::size_t n = samples.n();
  law.n = n;
  law.m = H.width();
  law.k = static_cast<int>(samples.z.cols());
  law.hard = hard;
  law.delta = delta;
  law.d = static_cast<std::uint64_t>(d);
  law.ridge = H.ridge();
  law.a = a;
  law.y.assign(samples.y.data(), samples.y.data() + n);
  law.u.assign(H.pre_activations().data(), H.pre_activations().data() + n * static_cast<std::size_t>(law.m));
  law.z.assign(samples.z.data(), samples.z.data() + n * static_cast<std::size_t>(law.k));
  law.D = H.weights();
  return law;
}

SeedKind hessian_kind(const HessianConfig& config) {
  validate_gd_config(config.gd);
  return [config](const SeedContext& ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    config.hessian.validate(ctx.d * config.gd.options.width);
    SeedResult out;
    const std::uint64_t base = ctx.rng();
    const Dataset data = generate_dataset(config.gd.link, config.gd.noise, ctx.d, ctx.n, base, ctx.parallel);
    const double budget = std::isfinite(ctx.deadline_seconds) ? ctx.deadline_seconds : 0.0;
    const GdRun run = train_gd(data, nullptr, config.gd.options, base, ctx.parallel, ctx.stop, budget);
    out.details["gd_steps_done"] = run.steps_done;
    out.details["gd_escape_step"] = run.escape_step >= 0 ? nlohmann::json(run.escape_step) : nlohmann::json(nullptr);
    if (run.status != Status::success) {
      out.status = run.status;
      out.message = "phase 1 (gd): " + run.message;
      return out;
    }
    HessianOperator H(data.train, run.Wt, run.a, config.gd.options.activation, config.gd.options.loss,
                      config.gd.options.ridge, ctx.parallel);
    Rng eig_rng = stream_rng(base, StreamPurpose::eigensolver);
    const HessianResult hr = hessian_spectrum(H, data.theta, config.gd.options.hard, config.hessian, eig_rng);
    out.status = hr.status;
    out.message = hr.message;
    out.details["matvecs"] = hr.matvecs;
    out.details["n_used"] = data.train.n();
    if (hr.status != Status::success) return out;
    out.details["residual"] = hr.residual;
    out.overlap = run.final_record.overlap;
    out.overlap_matrix = run.final_record.overlap_matrix;
    out.subspace_matrix = run.final_record.subspace_matrix;
    out.values["lowest_eigenvalues"] = std::vector<double>(hr.eigenvalues.data(), hr.eigenvalues.data() + hr.eigenvalues.size());
    if (!config.gd.options.hard.empty()) {
      out.values["lowest_overlaps"] = hr.hard_overlaps;
      out.values["lowest_overlaps_theta"] = hr.overlaps;
    } else {
      out.values["lowest_overlaps"] = hr.overlaps;
    }
    out.values["train_loss"] = {run.final_record.train_loss};
    out.values["grad_norm"] = {run.final_record.grad_norm};
    if (!hr.histogram_counts.empty()) {
      out.details["histogram"] = {{"edges", hr.histogram_edges}, {"counts", hr.histogram_counts}};
    }
    if (!config.dump_law.empty()) {
      write_law(empirical_law(H, data.train, run.a, config.gd.options.hard, ctx.delta, ctx.d), config.dump_law);
      out.details["law_file"] = config.dump_law;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
}

}  // namespace deltacrit::simulate
