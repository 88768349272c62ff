#include "deltacrit/simulate/spectral.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <cmath>
#include <sstream>

#include "deltacrit/alg/channel.hpp"
#include "deltacrit/alg/denoiser.hpp"
#include "deltacrit/simulate/eigs.hpp"
#include "deltacrit/simulate/subspace.hpp"
#include "fused_product.hpp"

namespace deltacrit::simulate {

Preprocessing Preprocessing::expression(const std::string& text) {
  auto expr = std::make_shared<model::Expression>(text, std::vector<std::string>{"y"}, "--preprocess");
  return Preprocessing(text, [expr](double y) {
    const double v[1] = {y};
    return (*expr)(v);
  });
}

Preprocessing Preprocessing::optimal(const model::Link& link, const model::Noise& noise) {
  if (link.k() != 1) {
    throw InputError("--preprocess", "--preprocess: optimal is available for k = 1 only (link '" + link.text() +
                                         "' has k = " + std::to_string(link.k()) +
                                         "; multi-index spectral methods need a matrix-valued T)");
  }
  // E[z²|y] = Var(z|y) + E[z|y]² under the prior N(0, 1), evaluated exactly at each label by the
  // Bayes denoiser (preimages of y with weights φ(z)/|g'(z)|, closed forms on plateaus, adaptive
  // quadrature for Gaussian noise) — no interpolation in y. The denoiser evaluates the link
  // expression, so calls are serialised (the sweep evaluates T on one thread anyway).
  auto denoiser = std::make_shared<alg::ScalarDenoiser>(link, noise);
  auto mutex = std::make_shared<std::mutex>();
  return Preprocessing("optimal", [denoiser, mutex](double y) {
    std::lock_guard<std::mutex> lock(*mutex);
    const alg::ScalarPosterior post = denoiser->posterior(y, 0.0, 1.0);
    if (post.empty) return std::numeric_limits<double>::quiet_NaN();  // y impossible under the model
    const double z2 = post.var + post.mean * post.mean;
    return 1.0 - 1.0 / z2;
  });
}

Preprocessing::Preprocessing(std::string name, std::function<double(double)> T)
    : name_(std::move(name)), T_(std::move(T)) {
  if (!T_) throw InputError("--preprocess", "--preprocess: empty preprocessing function");
}

void SpectralOptions::validate(int d, int k) const {
  const int wanted = nev == 0 ? k : nev;
  if (nev < 0 || wanted >= d) {
    throw InputError("--nev", "--nev: " + std::to_string(nev) + " is out of range (accepted: 0 = k, or 1.." +
                                  std::to_string(d - 1) + " for d = " + std::to_string(d) + ")");
  }
  if (solver == Solver::dense && d > 4000) {
    throw InputError("--solver", "--solver: dense needs d <= 4000 (got d = " + std::to_string(d) + "); use lanczos");
  }
  if (ncv != 0 && (ncv <= wanted || ncv > d)) {
    throw InputError("--ncv", "--ncv: " + std::to_string(ncv) + " is out of range (accepted: 0 = auto, or nev < ncv <= d)");
  }
  if (!(tol > 0.0 && tol < 1e-2)) throw InputError("--tol", "--tol: must be in (0, 0.01)");
  if (max_restarts < 1) throw InputError("--max-restarts", "--max-restarts: must be >= 1");
}

namespace {
struct ScaleContext {
  const double* T;
};
void scale_by_T(void* context, std::size_t row, const double* s, double* c) {
  c[0] = static_cast<ScaleContext*>(context)->T[row] * s[0];
}
}  // namespace

struct SpectralMatvec::Impl {
  const Samples& samples;
  Parallel& parallel;
  ScaleContext context;
  std::vector<detail::RowCallback> callbacks;
  detail::FusedProduct product;
};

SpectralMatvec::SpectralMatvec(const Samples& samples, const Eigen::VectorXd& T, Parallel& parallel)
    : impl_(new Impl{samples, parallel, ScaleContext{T.data()}, {}, {}}) {
  if (static_cast<std::size_t>(T.size()) != samples.n()) {
    throw InputError("T", "spectral: T has " + std::to_string(T.size()) + " entries for " +
                              std::to_string(samples.n()) + " samples");
  }
  impl_->callbacks.assign(chunk_count(samples.n()), detail::RowCallback{&scale_by_T, &impl_->context});
}

SpectralMatvec::~SpectralMatvec() = default;

int SpectralMatvec::dim() const { return static_cast<int>(impl_->samples.X.cols()); }

void SpectralMatvec::apply(const double* in, double* out) {
  impl_->product.run(impl_->parallel, impl_->samples.X, in, 1, impl_->callbacks, out);
  const double inv_n = 1.0 / static_cast<double>(impl_->samples.n());
  const int d = dim();
  for (int t = 0; t < d; ++t) out[t] *= inv_n;
}

namespace {

// Dense route: D formed explicitly, eigenvalues by tridiagonal QR, then the top nev eigenvectors
// by Lanczos on (σI − D)^{-1} with σ = λ₁ + (λ₁ − λ_{nev+1}): σI − D ≻ 0 (Cholesky), and the
// inverted spectrum 1/(σ − λ) lies in (0, 1/(σ − λ₁)] with the wanted values well separated, so a
// few dozen products suffice whatever the spread of T.
void dense_top(const Samples& samples, const Eigen::VectorXd& T, int nev, const SpectralOptions& options, Rng& rng,
               SpectralResult& result) {
  const int d = static_cast<int>(samples.X.cols());
  const std::size_t n = samples.n();
  RowMatrix weighted = samples.X;
  weighted.array().colwise() *= T.array();
  Eigen::MatrixXd D = (samples.X.transpose() * weighted) / static_cast<double>(n);
  D = (0.5 * (D + D.transpose())).eval();
  weighted.resize(0, 0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> values(D, Eigen::EigenvaluesOnly);
  if (values.info() != Eigen::Success) {
    result.status = Status::numerical_issue;
    result.message = "dense tridiagonal eigenvalue solver failed";
    return;
  }
  const Eigen::VectorXd& ev = values.eigenvalues();  // ascending
  const double l1 = ev[d - 1];
  const double gap = l1 - ev[d - 1 - nev];
  const double scale = std::max(1.0, ev.cwiseAbs().maxCoeff());
  const double sigma = l1 + std::max(gap, 1e-10 * scale);
  Eigen::MatrixXd shifted = -D;
  shifted.diagonal().array() += sigma;
  Eigen::LLT<Eigen::MatrixXd> chol(shifted);
  if (chol.info() != Eigen::Success) {
    result.status = Status::numerical_issue;
    result.message = "Cholesky factorisation of sigma*I - D failed";
    return;
  }
  shifted.resize(0, 0);
  auto apply_inverse = [&](const double* in, double* out) {
    Eigen::Map<Eigen::VectorXd>(out, d) = chol.solve(Eigen::Map<const Eigen::VectorXd>(in, d));
  };
  LanczosOptions lo;
  lo.nev = nev;
  lo.tol = options.tol;
  lo.max_restarts = options.max_restarts;
  lo.largest = true;
  std::normal_distribution<double> normal;
  Eigen::VectorXd start(d);
  for (int t = 0; t < d; ++t) start[t] = normal(rng);
  const LanczosResult inv = lanczos(d, apply_inverse, lo, start);
  result.matvecs = inv.matvecs;
  if (inv.status != Status::success) {
    result.status = inv.status;
    result.message = "shift-inverted Lanczos did not converge";
    return;
  }
  result.vectors = inv.vectors;
  result.eigenvalues.resize(nev);
  for (int j = 0; j < nev; ++j) result.eigenvalues[j] = result.vectors.col(j).dot(D * result.vectors.col(j));
  result.residual = (D * result.vectors - result.vectors * result.eigenvalues.asDiagonal()).colwise().norm().maxCoeff();
  result.solver = "dense";
  result.status = Status::success;
}

bool strongly_unbounded_below(const Eigen::VectorXd& T) {
  std::vector<double> v(T.data(), T.data() + T.size());
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  const double median = *mid;
  const double hi = T.maxCoeff(), lo = T.minCoeff();
  return (hi - lo) > 1e3 * std::max(hi - median, 1e-300);
}

}  // namespace

SpectralResult spectral_estimate(const Eigen::MatrixXd& theta, const Samples& samples, const Eigen::VectorXd& T,
                                 const SpectralOptions& options, Parallel& parallel, Rng& rng) {
  const int d = static_cast<int>(samples.X.cols());
  const int k = static_cast<int>(theta.cols());
  options.validate(d, k);
  const int nev = options.nev == 0 ? k : options.nev;
  const std::size_t n = samples.n();
  if (static_cast<std::size_t>(T.size()) != n || !T.allFinite()) {
    throw InputError("--preprocess", "--preprocess: T(y) must be finite for every sample");
  }
  SpectralResult result;
  bool dense = options.solver == SpectralOptions::Solver::dense;
  if (options.solver == SpectralOptions::Solver::automatic) dense = d <= 4000 && strongly_unbounded_below(T);
  if (dense) {
    dense_top(samples, T, nev, options, rng, result);
    if (result.status != Status::success) return result;
  } else {
    SpectralMatvec D(samples, T, parallel);
    auto matvec = [&](const double* in, double* out) { D.apply(in, out); };
    LanczosOptions lo;
    lo.nev = nev;
    lo.ncv = options.ncv;
    lo.tol = options.tol;
    lo.max_restarts = options.max_restarts;
    lo.largest = true;
    std::normal_distribution<double> normal;
    Eigen::VectorXd start(d);
    for (int t = 0; t < d; ++t) start[t] = normal(rng);
    LanczosResult eig = lanczos(d, matvec, lo, start);
    result.matvecs = eig.matvecs;
    result.solver = "lanczos";
    if (eig.status != Status::success) {
      result.status = eig.status;
      result.message = "Lanczos did not converge after " + std::to_string(eig.matvecs) +
                       " products (for T unbounded below use --solver dense, d <= 4000, or a bounded T)";
      return result;
    }
    result.eigenvalues = eig.values;
    result.vectors = eig.vectors;
    result.residual = eig.max_residual;
    result.status = Status::success;
  }
  result.overlap_matrix = theta.transpose() * result.vectors;
  result.overlap = result.overlap_matrix.squaredNorm() / static_cast<double>(k);
  // VᵀV = I to the eigensolver's orthogonality; using the computed Gram keeps S exactly a projector
  // overlap even where it is not.
  result.subspace_matrix = subspace_overlap_matrix(result.overlap_matrix, result.vectors.transpose() * result.vectors);
  return result;
}

SeedKind spectral_kind(const SpectralConfig& config) {
  return [config](const SeedContext& ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    SeedResult out;
    const std::uint64_t base = ctx.rng();
    Dataset data = generate_dataset(config.link, config.noise, ctx.d, ctx.n, base, ctx.parallel);
    const std::size_t n = data.train.n();
    Eigen::VectorXd T(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      const double y = data.train.y[static_cast<Eigen::Index>(i)];
      T[static_cast<Eigen::Index>(i)] = config.preprocess(y);
      if (!std::isfinite(T[static_cast<Eigen::Index>(i)])) {
        std::ostringstream msg;
        msg.precision(17);
        msg << "preprocessing T(y) = " << config.preprocess.name() << " is not finite at y = " << y << " (sample " << i << ")";
        out.status = Status::numerical_issue;
        out.message = msg.str();
        return out;
      }
    }
    Rng eig_rng = stream_rng(base, StreamPurpose::eigensolver);
    SpectralResult r = spectral_estimate(data.theta, data.train, T, config.options, ctx.parallel, eig_rng);
    out.status = r.status;
    out.message = r.message;
    out.details["matvecs"] = r.matvecs;
    out.details["solver"] = r.solver;
    out.details["n_used"] = n;
    if (r.status == Status::success) {
      out.overlap = r.overlap;
      out.overlap_matrix = r.overlap_matrix;
      out.subspace_matrix = r.subspace_matrix;
      out.values["top_eigenvalues"] = std::vector<double>(r.eigenvalues.data(), r.eigenvalues.data() + r.eigenvalues.size());
      out.details["residual"] = r.residual;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
}

}  // namespace deltacrit::simulate
