#include "deltacrit/simulate/gamp.hpp"

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>

namespace deltacrit::simulate {

void GampOptions::validate() const {
  if (max_iterations < 1 || max_iterations > 100000) throw InputError("--max-iter", "--max-iter must be in [1, 100000]");
  if (!(tol > 0 && tol < 1)) throw InputError("--tol", "--tol must be in (0, 1)");
  if (!(damping > 0 && damping <= 1)) throw InputError("--damping", "--damping must be in (0, 1]");
  if (stationary_window < 5 || stationary_window > 1000) throw InputError("--window", "--window must be in [5, 1000]");
  if (!(stationary_tol >= 0 && stationary_tol < 1)) throw InputError("--stationary-tol", "--stationary-tol must be in [0, 1)");
  if (!(seed > 0 && seed <= 0.5)) throw InputError("--seed-overlap", "--seed-overlap (the start Q_0 = seed*I) must be in (0, 0.5]");
  denoiser.validate();
}

namespace {

Eigen::MatrixXd sym(const Eigen::MatrixXd& A) { return 0.5 * (A + A.transpose()); }

// ‖Θ*ᵀP_W‖_F²/k with P_W the orthogonal projector on the column span of W (QR).
double subspace_overlap(const Eigen::MatrixXd& theta, const Eigen::MatrixXd& W) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(W);
  const Eigen::MatrixXd Qm = qr.householderQ() * Eigen::MatrixXd::Identity(W.rows(), W.cols());
  return (theta.transpose() * Qm).squaredNorm() / static_cast<double>(theta.cols());
}

}  // namespace

GampResult run_gamp(const Dataset& data, const model::Link& link, const model::Noise& noise, const GampOptions& options,
                    Parallel& parallel, Rng& rng) {
  options.validate();
  GampResult out;
  const int k = data.k();
  const int d = data.d();
  const auto& S = data.train;
  const std::size_t n = S.n();
  if (link.k() != k) throw InputError("link", "link: k of the link and of the data differ");
  const double sqrt_d = std::sqrt(static_cast<double>(d));
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(k, k);

  // Denoisers and the label-dependent precomputation (once per sample).
  std::unique_ptr<alg::ScalarDenoiser> den1;
  std::unique_ptr<alg::RayDenoiser> denk;
  std::vector<alg::ScalarDenoiser::Label> lab1;
  std::vector<alg::RayDenoiser::Label> labk;
  if (k == 1) {
    den1 = std::make_unique<alg::ScalarDenoiser>(link, noise, options.denoiser);
    lab1.reserve(n);
    for (std::size_t i = 0; i < n; ++i) lab1.push_back(den1->prepare(S.y[static_cast<Eigen::Index>(i)]));
  } else {
    denk = std::make_unique<alg::RayDenoiser>(link, noise, options.denoiser);
    labk.reserve(n);
    for (std::size_t i = 0; i < n; ++i) labk.push_back(denk->prepare(S.y[static_cast<Eigen::Index>(i)]));
  }
  // The gaussian-noise posterior evaluates the link (not thread-safe): one thread then.
  const bool serial = k == 1 && noise.kind == model::Noise::Kind::gaussian;

  // Uninformed start with Q_0 = seed·I: Gaussian columns, orthonormalised, scaled by √(seed·d).
  Eigen::MatrixXd W(d, k);
  {
    std::normal_distribution<double> normal;
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < d; ++i) W(i, j) = normal(rng);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(W);
    W = (qr.householderQ() * Eigen::MatrixXd::Identity(d, k)) * std::sqrt(options.seed * d);
  }
  Eigen::MatrixXd C = I - W.transpose() * W / d;
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), k);  // g^{t−1}
  Eigen::MatrixXd Q = W.transpose() * W / d;
  Eigen::MatrixXd A_prev = Eigen::MatrixXd::Zero(k, k);
  std::vector<double> overlaps;
  const std::size_t chunks = chunk_count(n);
  std::vector<Eigen::MatrixXd> dg_sum(chunks, Eigen::MatrixXd::Zero(k, k));
  std::vector<int> empty(chunks, 0);
  out.status = Status::not_converged;
  for (int t = 0; t < options.max_iterations; ++t) {
    const Eigen::MatrixXd V = sym(C);
    const Eigen::MatrixXd Omega = (S.X * W) / sqrt_d - G * V;
    Eigen::MatrixXd Gnew(static_cast<Eigen::Index>(n), k);
    const alg::GaussianPrior base = alg::GaussianPrior::make(Eigen::VectorXd::Zero(k), V, options.denoiser.v_floor);
    auto work = [&](std::size_t c) {
      const auto [lo, hi] = chunk_range(n, chunks, c);
      Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(k, k);
      int e = 0;
      if (k == 1) {
        const double v = V(0, 0);
        for (std::size_t i = lo; i < hi; ++i) {
          const auto p = den1->posterior(lab1[i], Omega(static_cast<Eigen::Index>(i), 0), v);
          Gnew(static_cast<Eigen::Index>(i), 0) = p.g_out;
          acc(0, 0) += p.dg_out;
          e += p.empty ? 1 : 0;
        }
      } else {
        alg::GaussianPrior prior = base;
        for (std::size_t i = lo; i < hi; ++i) {
          prior.omega = Omega.row(static_cast<Eigen::Index>(i)).transpose();
          const auto p = denk->posterior(labk[i], prior);
          Gnew.row(static_cast<Eigen::Index>(i)) = p.g_out.transpose();
          acc += p.dg_out;
          e += p.empty ? 1 : 0;
        }
      }
      dg_sum[c] = acc;
      empty[c] = e;
    };
    if (serial) {
      for (std::size_t c = 0; c < chunks; ++c) work(c);
    } else {
      parallel.run(chunks, work);
    }
    Eigen::MatrixXd dg = Eigen::MatrixXd::Zero(k, k);
    int empties = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
      dg += dg_sum[c];  // chunk order: deterministic whatever the thread count
      empties += empty[c];
    }
    out.empty_labels = empties;
    // Damping of the output messages and their precision (Vila, Schniter, Rangan, Krzakala &
    // Zdeborová, arXiv 1412.2005): the damped g enters both R and the next Onsager
    // term, so η < 1 keeps the algorithm consistent; η = 1 is plain GAMP.
    const double eta = options.damping;
    const Eigen::MatrixXd Ahat = t == 0 ? sym(-dg / d) : Eigen::MatrixXd((1 - eta) * A_prev + eta * sym(-dg / d));
    if (t > 0) Gnew = (1 - eta) * G + eta * Gnew;
    A_prev = Ahat;
    const Eigen::MatrixXd IA = I + Ahat;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(IA);
    if (!Gnew.allFinite() || !(es.eigenvalues().minCoeff() > 1e-12)) {
      out.status = Status::numerical_issue;
      std::ostringstream m;
      m << "GAMP broke down at iteration " << t + 1 << " (I + A_hat not positive definite or non-finite g_out)";
      out.message = m.str();
      break;
    }
    const Eigen::MatrixXd IAinv = es.eigenvectors() * es.eigenvalues().cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
    const Eigen::MatrixXd Wnew = (S.X.transpose() * Gnew / sqrt_d + W * Ahat) * IAinv;
    W = t == 0 ? Wnew : Eigen::MatrixXd((1 - eta) * W + eta * Wnew);
    C = IAinv;
    G = Gnew;
    const Eigen::MatrixXd Qnew = sym(W.transpose() * W / d);
    out.change = (Qnew - Q).norm();
    Q = Qnew;
    out.iterations = t + 1;
    out.trace.push_back(Q.trace() / k);
    if (!W.allFinite()) {
      out.status = Status::numerical_issue;
      out.message = "GAMP diverged (non-finite estimate)";
      break;
    }
    overlaps.push_back(W.norm() > 0 ? subspace_overlap(data.theta, W) : 0.0);
    // Relative test (the start is tiny: an absolute one would stop in the linear growth phase);
    // decay far below the start means convergence to the uninformative point Q = 0.
    const double size = Q.trace() / k;
    if (out.change < options.tol * size || size < 1e-3 * options.seed) {
      out.status = Status::success;
      break;
    }
    // Finite-d stationary regime: small fluctuations around the fixed point that never reach
    // `tol`. Accepted when tr Q/k spans less than `stationary_tol` over the last `window` iterations.
    const int window = options.stationary_window;
    if (out.iterations >= 2 * window) {
      const auto first = out.trace.end() - window;
      const auto [mn, mx] = std::minmax_element(first, out.trace.end());
      if (*mx - *mn < options.stationary_tol) {
        out.status = Status::success;
        out.stationary = true;
        out.spread = *mx - *mn;
        break;
      }
    }
  }
  out.W = W;
  out.Q = Q;
  out.M = W.transpose() * data.theta / sqrt_d;
  if (out.stationary) {
    double sum = 0;
    for (auto it = overlaps.end() - options.stationary_window; it != overlaps.end(); ++it) sum += *it;
    out.overlap = sum / options.stationary_window;
  } else if (W.allFinite() && W.norm() > 0) {
    out.overlap = subspace_overlap(data.theta, W);
  }
  if (out.status == Status::not_converged && out.message.empty()) {
    std::ostringstream m;
    m << "no convergence in " << options.max_iterations << " iterations (last change of Q " << out.change << ")";
    out.message = m.str();
  }
  return out;
}

SeedKind gamp_kind(const GampConfig& config) {
  config.options.validate();
  return [config](const SeedContext& ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    SeedResult out;
    const std::uint64_t base = ctx.rng();
    Dataset data = generate_dataset(config.link, config.noise, ctx.d, ctx.n, base, ctx.parallel);
    Rng start = stream_rng(base, StreamPurpose::init);
    const GampResult r = run_gamp(data, config.link, config.noise, config.options, ctx.parallel, start);
    out.status = r.status;
    out.message = r.message;
    if (r.status != Status::numerical_issue) {
      out.overlap = r.overlap;
      out.overlap_matrix = r.M;
      out.values["q_trace"] = {r.Q.trace() / r.Q.rows()};
      out.values["iterations"] = {static_cast<double>(r.iterations)};
    }
    out.details["iterations"] = r.iterations;
    out.details["change"] = r.change;
    out.details["n_used"] = data.train.n();
    out.details["empty_labels"] = r.empty_labels;
    out.details["stationary"] = r.stationary;
    out.details["stationary_spread"] = r.spread;
    nlohmann::json q = nlohmann::json::array();
    for (int i = 0; i < r.Q.rows(); ++i) {
      nlohmann::json row = nlohmann::json::array();
      for (int j = 0; j < r.Q.cols(); ++j) row.push_back(r.Q(i, j));
      q.push_back(row);
    }
    out.details["Q"] = q;
    out.details["q_trace_per_iteration"] = r.trace;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
}

}  // namespace deltacrit::simulate
