#include "deltacrit/simulate/gd.hpp"

#include <Eigen/Eigenvalues>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "deltacrit/simulate/subspace.hpp"
#include "fused_product.hpp"

namespace deltacrit::simulate {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-chunk state of the GD row callback.
struct GdRowContext {
  const double* y = nullptr;
  const double* a = nullptr;
  int m = 1;
  const model::Activation* activation = nullptr;
  const model::Loss* loss = nullptr;
  bool need_a_grad = false;
  double loss_sum = 0.0;
  double a_grad[kMaxWidth] = {};
};

// c_j = ℓ'(y_i, f_i) a_j σ'(u_ij)  (science.md: F(y, u) = ℓ' J, J = a ⊙ σ'(u)).
void gd_row(void* context, std::size_t row, const double* s, double* c) {
  auto* ctx = static_cast<GdRowContext*>(context);
  const int m = ctx->m;
  double sigma[kMaxWidth], dsigma[kMaxWidth];
  double f = 0.0;
  for (int j = 0; j < m; ++j) {
    sigma[j] = ctx->activation->value_and_d1(s[j], &dsigma[j]);
    f += ctx->a[j] * sigma[j];
  }
  const double y = ctx->y[row];
  ctx->loss_sum += ctx->loss->value(y, f);
  const double l1 = ctx->loss->d1(y, f);
  for (int j = 0; j < m; ++j) c[j] = l1 * ctx->a[j] * dsigma[j];
  if (ctx->need_a_grad)
    for (int j = 0; j < m; ++j) ctx->a_grad[j] += l1 * sigma[j];
}

// Gram-based projector overlap: ‖BᵀP_W‖_F² = tr(C G⁺ Cᵀ), C = BᵀW (r×m), G = WᵀW (m×m).
double projector_overlap(const RowMatrix& Wt, const Eigen::MatrixXd& B) {
  const Eigen::MatrixXd G = Wt * Wt.transpose();
  const Eigen::MatrixXd C = B.transpose() * Wt.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(G);
  const Eigen::VectorXd& ev = eig.eigenvalues();
  const double top = ev.size() ? ev.maxCoeff() : 0.0;
  if (!(top > 0.0)) return 0.0;
  double total = 0.0;
  for (Eigen::Index q = 0; q < ev.size(); ++q) {
    if (ev[q] <= 1e-12 * top) continue;
    const Eigen::VectorXd cv = C * eig.eigenvectors().col(q);
    total += cv.squaredNorm() / ev[q];
  }
  return total;
}

Eigen::MatrixXd columns(const Eigen::MatrixXd& theta, const std::vector<int>& one_based) {
  Eigen::MatrixXd B(theta.rows(), static_cast<Eigen::Index>(one_based.size()));
  for (std::size_t i = 0; i < one_based.size(); ++i) B.col(static_cast<Eigen::Index>(i)) = theta.col(one_based[i] - 1);
  return B;
}

}  // namespace

std::vector<double> GdOptions::second_layer_values() const {
  if (!second_layer.a.empty()) return second_layer.a;
  return std::vector<double>(static_cast<std::size_t>(width), width == 1 ? 1.0 : 1.0 / width);
}

void GdOptions::validate(int k) const {
  if (width < 1 || width > kMaxWidth) {
    throw InputError("--width", "--width: " + std::to_string(width) + " is out of range (accepted: 1..8)");
  }
  if (!second_layer.a.empty() && static_cast<int>(second_layer.a.size()) != width) {
    throw InputError("--second-layer", "--second-layer: " + std::to_string(second_layer.a.size()) +
                                           " values given but --width is " + std::to_string(width) +
                                           " (accepted: fixed:V1,..,Vm with m = --width values, or trained)");
  }
  for (double v : second_layer.a)
    if (!std::isfinite(v)) throw InputError("--second-layer", "--second-layer: values must be finite");
  if (!(lr > 0.0) || !std::isfinite(lr)) {
    std::ostringstream msg;
    msg << "--lr: " << lr << " is out of range (accepted: a finite learning rate > 0)";
    throw InputError("--lr", msg.str());
  }
  if (steps < 0 || steps > kMaxSteps) {
    throw InputError("--steps", "--steps: " + std::to_string(steps) + " is out of range (accepted: 0.." +
                                    std::to_string(kMaxSteps) + ")");
  }
  if (record_every < 0) throw InputError("--record-every", "--record-every: must be >= 1 (or 0 = auto)");
  if (!(ridge >= 0.0) || !std::isfinite(ridge)) throw InputError("--ridge", "--ridge: must be a finite number >= 0");
  if (init.scale < 0.0 || !std::isfinite(init.scale) ||
      (init.kind == phase1::InitSpec::Kind::random && init.scale == 0.0)) {
    throw InputError("--init", "--init: scale out of range (accepted: small:S with S >= 0, random:S with S > 0)");
  }
  if (unit_norm && init.scale == 0.0) {
    throw InputError("--init", "--init: small:0 starts at W = 0, which --unit-norm cannot normalise; use S > 0");
  }
  for (std::size_t i = 0; i < hard.size(); ++i) {
    if (hard[i] < 1 || hard[i] > k) {
      throw InputError("--hard", "--hard: direction " + std::to_string(hard[i]) + " is out of range (accepted: 1.." +
                                     std::to_string(k) + ", the latent indices of the link)");
    }
    for (std::size_t j = 0; j < i; ++j)
      if (hard[j] == hard[i]) throw InputError("--hard", "--hard: direction " + std::to_string(hard[i]) + " is repeated");
  }
  if (freeze_hard && hard.empty()) {
    throw InputError("--freeze-hard", "--freeze-hard: needs the hard directions, e.g. --hard 2,3 (1-based latent indices)");
  }
  if (!(escape_level > 0.0 && escape_level < 1.0)) throw InputError("--escape-level", "--escape-level: accepted (0, 1)");
  if (!(learned_level > 0.0 && learned_level <= 1.0)) throw InputError("--learned-level", "--learned-level: accepted (0, 1]");
  if (test_size > 10'000'000) throw InputError("--test-size", "--test-size: accepted 0..10000000");
}

namespace {
double risk_and_gradient_impl(const Samples& samples, const model::Activation& activation, const model::Loss& loss,
                              const RowMatrix& Wt, const std::vector<double>& a, double ridge, RowMatrix* grad,
                              std::vector<double>* a_grad, Parallel& parallel, detail::FusedProduct& product,
                              RowMatrix& P) {
  const std::size_t n = samples.n();
  const int m = static_cast<int>(Wt.rows());
  const std::size_t chunks = chunk_count(n);
  std::vector<GdRowContext> contexts(chunks);
  std::vector<detail::RowCallback> callbacks(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    contexts[c].y = samples.y.data();
    contexts[c].a = a.data();
    contexts[c].m = m;
    contexts[c].activation = &activation;
    contexts[c].loss = &loss;
    contexts[c].need_a_grad = a_grad != nullptr;
    callbacks[c] = {&gd_row, &contexts[c]};
  }
  P.resize(m, Wt.cols());
  product.run(parallel, samples.X, Wt.data(), m, callbacks, P.data());
  const double inv_n = 1.0 / static_cast<double>(n);
  double loss_sum = 0.0;
  for (const auto& ctx : contexts) loss_sum += ctx.loss_sum;
  if (grad) *grad = P * inv_n + ridge * Wt;
  if (a_grad) {
    a_grad->assign(static_cast<std::size_t>(m), 0.0);
    for (const auto& ctx : contexts)
      for (int j = 0; j < m; ++j) (*a_grad)[static_cast<std::size_t>(j)] += ctx.a_grad[j];
    for (auto& v : *a_grad) v *= inv_n;
  }
  return loss_sum * inv_n;
}
}  // namespace

double risk_and_gradient(const Samples& samples, const model::Activation& activation, const model::Loss& loss,
                         const RowMatrix& Wt, const std::vector<double>& a, double ridge, RowMatrix* grad,
                         std::vector<double>* a_grad, Parallel& parallel) {
  detail::FusedProduct product;
  RowMatrix P;
  return risk_and_gradient_impl(samples, activation, loss, Wt, a, ridge, grad, a_grad, parallel, product, P);
}

double data_loss(const Samples& samples, const model::Activation& activation, const model::Loss& loss,
                 const RowMatrix& Wt, const std::vector<double>& a) {
  const Eigen::MatrixXd U = samples.X * Wt.transpose();
  double sum = 0.0;
  for (Eigen::Index i = 0; i < U.rows(); ++i) {
    double f = 0.0;
    for (Eigen::Index j = 0; j < U.cols(); ++j) f += a[static_cast<std::size_t>(j)] * activation.value(U(i, j));
    sum += loss.value(samples.y[i], f);
  }
  return sum / static_cast<double>(U.rows());
}

double subspace_overlap(const RowMatrix& Wt, const Eigen::MatrixXd& B) {
  if (B.cols() == 0) return 0.0;
  return projector_overlap(Wt, B) / static_cast<double>(B.cols());
}

Eigen::MatrixXd normalised_overlaps(const RowMatrix& Wt, const Eigen::MatrixXd& theta) {
  Eigen::MatrixXd M = theta.transpose() * Wt.transpose();  // k×m
  for (Eigen::Index j = 0; j < Wt.rows(); ++j) {
    const double norm = Wt.row(j).norm();
    M.col(j) = norm > 0 ? Eigen::VectorXd(M.col(j) / norm) : Eigen::VectorXd::Zero(M.rows());
  }
  return M;
}

GdRun train_gd(const Dataset& data, const Samples* test, const GdOptions& options, std::uint64_t base_seed,
               Parallel& parallel, const std::atomic<bool>* stop, double max_seconds) {
  options.validate(data.k());
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const int d = data.d();
  const int m = options.width;
  const Eigen::MatrixXd hard = columns(data.theta, options.hard);
  const bool freeze = options.freeze_hard && hard.cols() > 0;
  // Projection on the complement of Θ_h: v ← v − Θ_h(Θ_hᵀ v) for each row of an m×d matrix.
  auto project_out_hard = [&](RowMatrix& M) {
    if (!freeze) return;
    const Eigen::MatrixXd coeff = M * hard;  // m×k_h
    M.noalias() -= coeff * hard.transpose();
  };

  GdRun run;
  run.a = options.second_layer_values();
  run.Wt.resize(m, d);
  {
    Rng rng = stream_rng(base_seed, StreamPurpose::init);
    std::normal_distribution<double> normal;
    for (Eigen::Index i = 0; i < run.Wt.size(); ++i) run.Wt.data()[i] = normal(rng);
    project_out_hard(run.Wt);
    const double radius = options.unit_norm ? 1.0 : options.init.scale;
    for (int j = 0; j < m; ++j) run.Wt.row(j) *= radius / run.Wt.row(j).norm();
  }
  const long every = options.record_every > 0 ? options.record_every : std::max<long>(1, options.steps / 100);
  const bool train_a = options.second_layer.trained;
  RowMatrix grad, P;
  std::vector<double> a_grad;
  detail::FusedProduct product;
  const double escape_level = options.escape_level;
  auto target_overlap = [&](const RowMatrix& Wt) {
    return hard.cols() > 0 ? subspace_overlap(Wt, hard) : subspace_overlap(Wt, data.theta);
  };

  for (long step = 0;; ++step) {
    const double train_loss = risk_and_gradient_impl(data.train, options.activation, options.loss, run.Wt, run.a,
                                                     options.ridge, &grad, train_a ? &a_grad : nullptr, parallel,
                                                     product, P);
    if (!std::isfinite(train_loss) || !grad.allFinite()) {
      run.status = Status::numerical_issue;
      run.message = "diverged: non-finite loss or gradient at step " + std::to_string(step) +
                    " (lower --lr, currently " + std::to_string(options.lr) + ")";
      run.steps_done = step;
      return run;
    }
    const double tgt = target_overlap(run.Wt);
    if (run.escape_step < 0 && tgt > escape_level) run.escape_step = step;
    const bool last = step == options.steps;
    project_out_hard(grad);
    if (options.unit_norm)
      for (int j = 0; j < m; ++j) grad.row(j) -= grad.row(j).dot(run.Wt.row(j)) * run.Wt.row(j);
    if (step % every == 0 || last) {
      GdRecord rec;
      rec.step = step;
      rec.grad_norm = grad.norm();
      rec.overlap = subspace_overlap(run.Wt, data.theta);
      rec.hard_overlap = hard.cols() > 0 ? subspace_overlap(run.Wt, hard) : 0.0;
      rec.overlap_matrix = normalised_overlaps(run.Wt, data.theta);
      rec.subspace_matrix =
          subspace_overlap_matrix(data.theta.transpose() * run.Wt.transpose(), run.Wt * run.Wt.transpose());
      rec.train_loss = train_loss;
      rec.test_loss = test && test->n() > 0 ? data_loss(*test, options.activation, options.loss, run.Wt, run.a) : kNaN;
      run.series.push_back(rec);
      if (last) {
        run.final_record = rec;
        run.learned = tgt > options.learned_level;
      }
    }
    if (last) break;
    if ((stop && stop->load()) || (max_seconds > 0 && elapsed() > max_seconds)) {
      run.status = Status::not_computed;
      run.message = stop && stop->load() ? "interrupted" : "time budget exhausted";
      run.steps_done = step;
      return run;
    }
    if (options.unit_norm) {
      for (int j = 0; j < m; ++j) {
        run.Wt.row(j) -= options.lr * grad.row(j);
        const double norm = run.Wt.row(j).norm();
        if (norm > 0 && std::isfinite(norm)) run.Wt.row(j) /= norm;
      }
    } else {
      run.Wt -= options.lr * grad;
    }
    if (train_a)
      for (int j = 0; j < m; ++j) run.a[static_cast<std::size_t>(j)] -= options.lr * a_grad[static_cast<std::size_t>(j)];
  }
  run.steps_done = options.steps;
  run.seconds_per_step = elapsed() / static_cast<double>(options.steps + 1);
  run.status = Status::success;
  return run;
}

double gd_seconds_lower_bound(std::size_t n, int d, int m, long steps, int threads) {
  const double work = 2.0 * static_cast<double>(n) * d * m * static_cast<double>(steps + 1);
  return work / (kOptimisticRate * std::max(1, threads));
}

void validate_gd_config(const GdConfig& config) {
  config.options.validate(config.link.k());
  if (config.options.loss.kind() == model::Loss::Kind::logistic) {
    using K = model::Noise::Kind;
    if (config.noise.kind == K::gaussian) {
      throw InputError("--loss", "--loss: logistic needs labels in {-1, +1}, but gaussian noise makes them continuous");
    }
    model::Link link = config.link;
    Rng rng = make_rng(0x6c6f6769737469ULL);
    std::normal_distribution<double> normal;
    double z[model::kMaxLatentDim] = {0, 0, 0};
    for (int s = 0; s < 2000; ++s) {
      for (int j = 0; j < link.k(); ++j) z[j] = normal(rng);
      const double y = link(z);
      if (y != 1.0 && y != -1.0) {
        std::ostringstream msg;
        msg << "--loss: logistic needs labels in {-1, +1}, but the link '" << link.text() << "' gives y = " << y
            << " (use --loss square, or a link such as sign(z))";
        throw InputError("--loss", msg.str());
      }
    }
  }
}

SeedKind gd_kind(const GdConfig& config) {
  validate_gd_config(config);
  return [config](const SeedContext& ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    SeedResult out;
    const std::uint64_t base = ctx.rng();
    const Dataset data = generate_dataset(config.link, config.noise, ctx.d, ctx.n, base, ctx.parallel);
    Samples test;
    const bool with_test = config.options.test_size > 0;
    if (with_test) {
      test = generate_samples(data.theta, config.link, config.noise, config.options.test_size, base,
                              StreamPurpose::test_rows, StreamPurpose::test_noise, ctx.parallel);
    }
    const double budget = std::isfinite(ctx.deadline_seconds) ? ctx.deadline_seconds : 0.0;
    const GdRun run = train_gd(data, with_test ? &test : nullptr, config.options, base, ctx.parallel, ctx.stop, budget);
    out.status = run.status;
    out.message = run.message;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json series = nlohmann::json::array();
    for (const auto& r : run.series) {
      nlohmann::json rj;
      rj["step"] = r.step;
      rj["overlap"] = r.overlap;
      if (!config.options.hard.empty()) rj["hard_overlap"] = r.hard_overlap;
      rj["train_loss"] = r.train_loss;
      rj["grad_norm"] = r.grad_norm;
      if (std::isfinite(r.test_loss)) rj["test_loss"] = r.test_loss;
      nlohmann::json mat = nlohmann::json::array();
      for (Eigen::Index a = 0; a < r.overlap_matrix.rows(); ++a) {
        nlohmann::json row = nlohmann::json::array();
        for (Eigen::Index j = 0; j < r.overlap_matrix.cols(); ++j) row.push_back(r.overlap_matrix(a, j));
        mat.push_back(row);
      }
      rj["overlap_matrix"] = mat;
      series.push_back(rj);
    }
    out.details["series"] = series;
    out.details["n_used"] = data.train.n();
    out.details["steps_done"] = run.steps_done;
    out.details["escape_step"] = run.escape_step >= 0 ? nlohmann::json(run.escape_step) : nlohmann::json(nullptr);
    out.details["learned"] = run.learned;
    if (config.options.second_layer.trained) out.details["a"] = run.a;
    if (run.status != Status::success) return out;
    out.details["seconds_per_step"] = run.seconds_per_step;
    out.overlap = run.final_record.overlap;
    out.overlap_matrix = run.final_record.overlap_matrix;
    out.subspace_matrix = run.final_record.subspace_matrix;
    out.values["escape_step_mean"] = {run.escape_step >= 0 ? static_cast<double>(run.escape_step) : kNaN};
    out.values["learned_fraction"] = {run.learned ? 1.0 : 0.0};
    out.values["escaped_fraction"] = {run.escape_step >= 0 ? 1.0 : 0.0};
    out.values["train_loss"] = {run.final_record.train_loss};
    out.values["test_loss"] = {run.final_record.test_loss};
    out.values["grad_norm"] = {run.final_record.grad_norm};
    if (!config.options.hard.empty()) out.values["hard_overlap"] = {run.final_record.hard_overlap};
    return out;
  };
}

}  // namespace deltacrit::simulate
