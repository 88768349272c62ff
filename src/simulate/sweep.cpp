#include "deltacrit/simulate/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

#include "deltacrit/simulate/subspace.hpp"

namespace deltacrit::simulate {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Largest X the simulator allocates: n·d ≤ 1.5e9 doubles (12 GB).
constexpr double kMaxEntries = 1.5e9;

std::size_t samples_for(double delta, int d) {
  return static_cast<std::size_t>(std::llround(delta * static_cast<double>(d)));
}

// Mean and standard error of the finite entries.
void mean_stderr(const std::vector<double>& v, double& mean, double& se, int& count) {
  double sum = 0.0;
  count = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++count;
    }
  if (count == 0) {
    mean = kNaN;
    se = kNaN;
    return;
  }
  mean = sum / count;
  if (count < 2) {
    se = kNaN;
    return;
  }
  double ss = 0.0;
  for (double x : v)
    if (std::isfinite(x)) ss += (x - mean) * (x - mean);
  se = std::sqrt(ss / (count - 1) / count);
}

Aggregate aggregate_rows(const std::vector<std::vector<double>>& rows) {
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  Aggregate agg;
  agg.mean.assign(width, kNaN);
  agg.stderr_.assign(width, kNaN);
  agg.count.assign(width, 0);
  for (std::size_t e = 0; e < width; ++e) {
    std::vector<double> col;
    for (const auto& r : rows) col.push_back(e < r.size() ? r[e] : kNaN);
    mean_stderr(col, agg.mean[e], agg.stderr_[e], agg.count[e]);
  }
  return agg;
}

// Entrywise mean/stderr of the runs' subspace matrices (those of the shape of the first one and
// finite everywhere: a run's S is meaningful only as a whole) and the mean of their eigenvalues.
void aggregate_subspace(const std::vector<const Eigen::MatrixXd*>& runs, PointSummary& point) {
  if (runs.empty()) return;
  const Eigen::Index k = runs.front()->rows();
  std::vector<std::vector<double>> entries, eigenvalues;
  for (const Eigen::MatrixXd* S : runs) {
    if (S->rows() != k || S->cols() != k || !S->allFinite()) continue;
    entries.emplace_back(S->data(), S->data() + S->size());
    const Eigen::VectorXd ev = principal_cos2(*S);
    eigenvalues.emplace_back(ev.data(), ev.data() + ev.size());
  }
  if (entries.empty()) return;
  const Aggregate agg = aggregate_rows(entries);
  point.subspace_matrix_mean = Eigen::Map<const Eigen::MatrixXd>(agg.mean.data(), k, k);
  point.subspace_matrix_stderr = Eigen::Map<const Eigen::MatrixXd>(agg.stderr_.data(), k, k);
  point.principal_cos2 = aggregate_rows(eigenvalues);
}

// Residual sum of squares of the hinge y ≈ b + s·max(0, δ − c) at fixed c (closed-form LS in b, s).
double hinge_sse(const std::vector<double>& x, const std::vector<double>& y, double c, double& b, double& s) {
  const std::size_t p = x.size();
  double sh = 0, shh = 0, sy = 0, shy = 0;
  for (std::size_t i = 0; i < p; ++i) {
    const double h = std::max(0.0, x[i] - c);
    sh += h;
    shh += h * h;
    sy += y[i];
    shy += h * y[i];
  }
  const double det = static_cast<double>(p) * shh - sh * sh;
  if (det <= 1e-300) {
    b = sy / static_cast<double>(p);
    s = 0.0;
  } else {
    s = (static_cast<double>(p) * shy - sh * sy) / det;
    b = (sy - s * sh) / static_cast<double>(p);
  }
  double sse = 0.0;
  for (std::size_t i = 0; i < p; ++i) {
    const double r = y[i] - b - s * std::max(0.0, x[i] - c);
    sse += r * r;
  }
  return sse;
}

// Best hinge over c ∈ [x_0, x_{p−2}]: scan, then golden-section refinement in the best cell.
bool fit_hinge(const std::vector<double>& x, const std::vector<double>& y, double& c_best, double& b_best,
               double& s_best) {
  if (x.size() < 3) return false;
  const double lo = x.front();
  const double hi = x[x.size() - 2];
  if (!(hi > lo)) return false;
  constexpr int kScan = 400;
  double best = std::numeric_limits<double>::infinity();
  int best_i = 0;
  for (int i = 0; i <= kScan; ++i) {
    const double c = lo + (hi - lo) * i / kScan;
    double b, s;
    const double sse = hinge_sse(x, y, c, b, s);
    if (sse < best) {
      best = sse;
      best_i = i;
    }
  }
  double a = lo + (hi - lo) * std::max(0, best_i - 1) / kScan;
  double bnd = lo + (hi - lo) * std::min(kScan, best_i + 1) / kScan;
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double c1 = bnd - g * (bnd - a), c2 = a + g * (bnd - a);
  double b, s;
  double f1 = hinge_sse(x, y, c1, b, s), f2 = hinge_sse(x, y, c2, b, s);
  for (int it = 0; it < 60; ++it) {
    if (f1 < f2) {
      bnd = c2;
      c2 = c1;
      f2 = f1;
      c1 = bnd - g * (bnd - a);
      f1 = hinge_sse(x, y, c1, b, s);
    } else {
      a = c1;
      c1 = c2;
      f1 = f2;
      c2 = a + g * (bnd - a);
      f2 = hinge_sse(x, y, c2, b, s);
    }
  }
  c_best = 0.5 * (a + bnd);
  hinge_sse(x, y, c_best, b_best, s_best);
  return true;
}

// Per-δ means of the seeds listed in `which` (indices into overlaps[p]); δ with no finite value
// are dropped.
void means_for(const std::vector<double>& deltas, const std::vector<std::vector<double>>& overlaps,
               const std::vector<std::size_t>* which, std::vector<double>& x, std::vector<double>& y) {
  x.clear();
  y.clear();
  for (std::size_t p = 0; p < deltas.size(); ++p) {
    double sum = 0.0;
    int count = 0;
    const auto& row = overlaps[p];
    if (which) {
      for (std::size_t s : *which)
        if (s < row.size() && std::isfinite(row[s])) {
          sum += row[s];
          ++count;
        }
    } else {
      for (double v : row)
        if (std::isfinite(v)) {
          sum += v;
          ++count;
        }
    }
    if (count > 0) {
      x.push_back(deltas[p]);
      y.push_back(sum / count);
    }
  }
}

nlohmann::json num(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

nlohmann::json vec_json(const std::vector<double>& v) {
  if (v.size() == 1) return num(v[0]);
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(num(x));
  return a;
}

nlohmann::json matrix_json(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) r.push_back(num(m(i, j)));
    rows.push_back(r);
  }
  return rows;
}

std::string cell(double v, int digits = 6) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out.precision(digits);
  out << v;
  return out.str();
}

}  // namespace

void SweepOptions::validate() const {
  if (d < 2) throw InputError("--d", "--d: " + std::to_string(d) + " is out of range (accepted: d >= 2)");
  if (deltas.empty()) throw InputError("--delta", "--delta: at least one value is needed (accepted: a list or A:B:STEP, each > 0)");
  for (double delta : deltas) {
    if (!(delta > 0.0) || !std::isfinite(delta)) {
      std::ostringstream msg;
      msg << "--delta: " << delta << " is out of range (accepted: delta > 0)";
      throw InputError("--delta", msg.str());
    }
    if (samples_for(delta, d) < 1) {
      std::ostringstream msg;
      msg << "--delta: delta = " << delta << " with d = " << d << " gives n = round(delta*d) = 0 samples (need n >= 1)";
      throw InputError("--delta", msg.str());
    }
    if (delta * static_cast<double>(d) * static_cast<double>(d) > kMaxEntries) {
      std::ostringstream msg;
      msg << "--delta: delta = " << delta << " with d = " << d << " needs X with n*d = " << delta * d * double(d)
          << " entries; the simulator's cap is 1.5e9 (12 GB)";
      throw InputError("--delta", msg.str());
    }
  }
  if (seeds < 1 || seeds > 100000) throw InputError("--seeds", "--seeds: " + std::to_string(seeds) + " is out of range (accepted: 1..100000)");
  core::check_threads(threads);
  if (!(max_seconds >= 0.0) || !std::isfinite(max_seconds)) throw InputError("--max-seconds", "--max-seconds: must be >= 0 (0 = no budget)");
  if (bootstrap < 0 || bootstrap > 100000) throw InputError("--bootstrap", "--bootstrap: accepted 0..100000");
}

ThresholdEstimate estimate_threshold(const std::vector<double>& deltas,
                                     const std::vector<std::vector<double>>& overlaps, int bootstrap,
                                     std::uint64_t seed) {
  ThresholdEstimate est;
  std::vector<double> x, y;
  means_for(deltas, overlaps, nullptr, x, y);
  if (x.size() < 3) {
    est.note = "needs at least 3 delta values with results";
    return est;
  }
  if (!fit_hinge(x, y, est.delta_c, est.baseline, est.slope)) {
    est.note = "hinge fit failed";
    return est;
  }
  // A rise counts only when it exceeds 3× the noise of the means: the median standard error over
  // δ (seeds ≥ 2), else the residual rms of the fit.
  {
    std::vector<double> ses;
    for (const auto& row : overlaps) {
      double m = 0.0, se = 0.0;
      int c = 0;
      mean_stderr(row, m, se, c);
      if (c >= 2 && std::isfinite(se)) ses.push_back(se);
    }
    double noise = 0.0;
    if (ses.size() * 2 >= x.size()) {
      std::nth_element(ses.begin(), ses.begin() + static_cast<std::ptrdiff_t>(ses.size() / 2), ses.end());
      noise = ses[ses.size() / 2];
    } else {
      double b, s;
      noise = std::sqrt(hinge_sse(x, y, est.delta_c, b, s) / static_cast<double>(x.size()));
    }
    const double rise = est.slope * (x.back() - est.delta_c);
    if (!(est.slope > 0.0) || !(rise > 3.0 * noise) || !(rise > 1e-9)) {
      est.note = "the mean overlap does not rise significantly over the delta range";
      return est;
    }
  }
  est.status = Status::success;
  est.lower = est.upper = est.delta_c;
  const double span = x.back() - x.front();
  if (est.delta_c - x.front() < 1e-6 * span || x[x.size() - 2] - est.delta_c < 1e-6 * span) {
    est.note = "delta_c is at the edge of the fitted range; the transition may lie outside it: extend --delta";
  }
  std::size_t max_seeds = 0;
  for (const auto& row : overlaps) max_seeds = std::max(max_seeds, row.size());
  if (bootstrap > 0 && max_seeds >= 2) {
    Rng rng = make_rng(seed, 0x7468726573686F6CULL);
    std::uniform_int_distribution<std::size_t> pick(0, max_seeds - 1);
    std::vector<double> cs;
    std::vector<std::size_t> which(max_seeds);
    for (int b = 0; b < bootstrap; ++b) {
      for (auto& w : which) w = pick(rng);
      means_for(deltas, overlaps, &which, x, y);
      double c, b0, s;
      if (x.size() >= 3 && fit_hinge(x, y, c, b0, s) && s > 0.0) cs.push_back(c);
    }
    est.resamples = static_cast<int>(cs.size());
    if (cs.size() >= 20) {
      std::sort(cs.begin(), cs.end());
      auto q = [&](double f) { return cs[static_cast<std::size_t>(std::floor(f * (cs.size() - 1)))]; };
      est.lower = q(0.025);
      est.upper = q(0.975);
    } else if (est.note.empty()) {
      est.note = "too few usable bootstrap resamples for an interval";
    }
  } else if (est.note.empty()) {
    est.note = "no bootstrap interval (needs --seeds >= 2)";
  }
  return est;
}

SweepReport run_sweep(const SweepOptions& options, const SeedKind& kind, const ProgressFn& progress,
                      const std::atomic<bool>* stop) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  Parallel parallel(options.threads);
  SweepReport report;
  const int total = static_cast<int>(options.deltas.size()) * options.seeds;
  int done = 0;
  std::vector<std::vector<double>> overlaps;
  for (double delta : options.deltas) {
    if (report.interrupted || report.budget_exhausted) break;
    PointSummary point;
    point.delta = delta;
    point.d = options.d;
    point.n = samples_for(delta, options.d);
    point.seeds_requested = options.seeds;
    std::vector<double> point_overlaps(static_cast<std::size_t>(options.seeds), kNaN);
    for (int s = 0; s < options.seeds; ++s) {
      if (stop && stop->load()) {
        report.interrupted = true;
        break;
      }
      const double left = options.max_seconds > 0 ? options.max_seconds - elapsed() : std::numeric_limits<double>::infinity();
      if (left <= 0) {
        report.budget_exhausted = true;
        break;
      }
      Rng rng = make_rng(options.seed, static_cast<std::uint64_t>(s));
      SeedContext ctx{rng, s, options.d, point.n, delta, parallel, stop, left};
      SeedResult r = kind(ctx);
      if (r.status == Status::not_computed) {
        if (stop && stop->load()) report.interrupted = true;
        else report.budget_exhausted = true;
        break;
      }
      if (r.status == Status::success) point_overlaps[static_cast<std::size_t>(s)] = r.overlap;
      point.runs.push_back(std::move(r));
      ++done;
      if (progress) progress(done, total);
    }
    if (point.runs.empty()) break;
    // Aggregate.
    std::vector<double> ov;
    std::vector<const Eigen::MatrixXd*> subspace;
    std::map<std::string, std::vector<std::vector<double>>> by_key;
    Status st = Status::success;
    for (const auto& r : point.runs) {
      st = worst(st, r.status);
      if (r.status == Status::numerical_issue) ++point.seeds_failed;
      if (r.status == Status::not_converged) ++point.seeds_not_converged;
      if (r.status != Status::success) continue;
      ++point.seeds;
      ov.push_back(r.overlap);
      if (r.subspace_matrix.size() > 0) subspace.push_back(&r.subspace_matrix);
      for (const auto& [key, v] : r.values) by_key[key].push_back(v);
    }
    point.status = st;
    int count = 0;
    mean_stderr(ov, point.overlap_mean, point.overlap_stderr, count);
    aggregate_subspace(subspace, point);
    for (const auto& [key, rows] : by_key) point.values[key] = aggregate_rows(rows);
    overlaps.push_back(std::move(point_overlaps));
    report.points.push_back(std::move(point));
  }
  Status st = report.points.empty() ? Status::not_computed : Status::success;
  for (const auto& p : report.points) st = worst(st, p.status);
  // A sweep stopped early (Ctrl-C or --max-seconds) did not compute every requested point: its
  // status is not success even when the finished points all are.
  if ((report.budget_exhausted || report.interrupted) && st == Status::success) st = Status::not_converged;
  report.status = st;
  if (report.points.size() >= 3) {
    std::vector<double> ds;
    for (const auto& p : report.points) ds.push_back(p.delta);
    report.threshold = estimate_threshold(ds, overlaps, options.bootstrap, options.seed);
  }
  report.seconds = elapsed();
  return report;
}

nlohmann::json report_json(const SweepReport& report, const nlohmann::json& options, const std::string& kind) {
  nlohmann::json j;
  j["kind"] = kind;
  j["options"] = options;
  j["status"] = std::string(to_string(report.status));
  j["seconds"] = report.seconds;
  j["interrupted"] = report.interrupted;
  j["budget_exhausted"] = report.budget_exhausted;
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : report.points) {
    nlohmann::json q;
    q["delta"] = p.delta;
    q["n"] = p.n;
    q["d"] = p.d;
    q["seeds"] = p.seeds;
    q["seeds_requested"] = p.seeds_requested;
    q["seeds_failed"] = p.seeds_failed;
    q["seeds_not_converged"] = p.seeds_not_converged;
    q["status"] = std::string(to_string(p.status));
    q["overlap_mean"] = num(p.overlap_mean);
    q["overlap_stderr"] = num(p.overlap_stderr);
    // The seed mean of the raw overlap matrices (key "overlap_matrix" before) is not reported: their
    // column order and signs are arbitrary per seed. The raw matrices stay in `runs`.
    if (p.subspace_matrix_mean.size() > 0) {
      q["subspace_overlap_matrix"] = matrix_json(p.subspace_matrix_mean);
      q["subspace_overlap_matrix_stderr"] = matrix_json(p.subspace_matrix_stderr);
      nlohmann::json cos2 = nlohmann::json::array(), cos2_se = nlohmann::json::array();
      for (std::size_t e = 0; e < p.principal_cos2.mean.size(); ++e) {
        cos2.push_back(num(p.principal_cos2.mean[e]));
        cos2_se.push_back(num(p.principal_cos2.stderr_[e]));
      }
      q["principal_cos2"] = cos2;
      q["principal_cos2_stderr"] = cos2_se;
    }
    for (const auto& [key, agg] : p.values) {
      q[key] = vec_json(agg.mean);
      q[key + "_stderr"] = vec_json(agg.stderr_);
    }
    nlohmann::json runs = nlohmann::json::array();
    for (std::size_t s = 0; s < p.runs.size(); ++s) {
      const auto& r = p.runs[s];
      nlohmann::json rj;
      rj["seed_index"] = s;
      rj["status"] = std::string(to_string(r.status));
      if (!r.message.empty()) rj["message"] = r.message;
      if (r.status == Status::success) {
        rj["overlap"] = num(r.overlap);
        rj["overlap_matrix"] = matrix_json(r.overlap_matrix);
        if (r.subspace_matrix.size() > 0) rj["subspace_overlap_matrix"] = matrix_json(r.subspace_matrix);
      }
      for (const auto& [key, v] : r.values) rj[key] = vec_json(v);
      rj["seconds"] = r.seconds;
      if (!r.details.is_null()) rj["details"] = r.details;
      runs.push_back(rj);
    }
    q["runs"] = runs;
    points.push_back(q);
  }
  j["points"] = points;
  if (report.threshold.status != Status::not_computed || !report.threshold.note.empty()) {
    const auto& t = report.threshold;
    nlohmann::json tj;
    tj["status"] = std::string(to_string(t.status));
    tj["method"] = "hinge fit b + s*max(0, delta - delta_c) to the mean overlaps; paired bootstrap over seeds";
    if (t.status == Status::success) {
      tj["delta_c"] = t.delta_c;
      tj["lower"] = t.lower;
      tj["upper"] = t.upper;
      tj["baseline"] = t.baseline;
      tj["slope"] = t.slope;
      tj["resamples"] = t.resamples;
    }
    if (!t.note.empty()) tj["note"] = t.note;
    j["threshold"] = tj;
  }
  return j;
}

namespace {
// Column layout shared by the table and the csv: scalar/array kind keys expanded.
std::vector<std::pair<std::string, std::size_t>> value_columns(const SweepReport& report) {
  std::map<std::string, std::size_t> widths;
  for (const auto& p : report.points)
    for (const auto& [key, agg] : p.values) widths[key] = std::max(widths[key], agg.mean.size());
  std::vector<std::pair<std::string, std::size_t>> cols(widths.begin(), widths.end());
  return cols;
}
std::string column_name(const std::string& key, std::size_t width, std::size_t e) {
  return width == 1 ? key : key + "_" + std::to_string(e + 1);
}
}  // namespace

std::string report_table(const SweepReport& report, const std::string& kind) {
  std::ostringstream out;
  out << "simulate " << kind << ": status " << to_string(report.status) << ", " << cell(report.seconds, 4) << " s";
  if (report.interrupted) out << " (interrupted: partial results)";
  if (report.budget_exhausted) out << " (time budget exhausted: partial results)";
  out << "\n";
  const auto cols = value_columns(report);
  std::vector<std::string> header = {"delta", "n", "d", "seeds", "overlap_mean", "overlap_stderr"};
  for (const auto& [key, w] : cols)
    for (std::size_t e = 0; e < w; ++e) header.push_back(column_name(key, w, e));
  // k ≥ 2: the seed means of the principal cos² (eigenvalues of the subspace overlap matrix, in
  // decreasing order); for k = 1 the single one is overlap_mean.
  std::size_t k = 0;
  for (const auto& p : report.points) k = std::max(k, p.principal_cos2.mean.size());
  if (k < 2) k = 0;
  for (std::size_t a = 0; a < k; ++a) header.push_back("principal_cos2_" + std::to_string(a + 1));
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : report.points) {
    std::vector<std::string> r = {cell(p.delta), std::to_string(p.n), std::to_string(p.d),
                                  std::to_string(p.seeds) + "/" + std::to_string(p.seeds_requested),
                                  cell(p.overlap_mean), cell(p.overlap_stderr, 2)};
    for (const auto& [key, w] : cols) {
      const auto it = p.values.find(key);
      for (std::size_t e = 0; e < w; ++e) {
        r.push_back(it != p.values.end() && e < it->second.mean.size() ? cell(it->second.mean[e]) : "-");
      }
    }
    for (std::size_t a = 0; a < k; ++a) {
      r.push_back(a < p.principal_cos2.mean.size() ? cell(p.principal_cos2.mean[a]) : "-");
    }
    rows.push_back(r);
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  for (std::size_t c = 0; c < header.size(); ++c) out << (c ? "  " : "") << std::setw(static_cast<int>(width[c])) << header[c];
  out << "\n";
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) out << (c ? "  " : "") << std::setw(static_cast<int>(width[c])) << r[c];
    out << "\n";
  }
  for (const auto& p : report.points) {
    for (std::size_t s = 0; s < p.runs.size(); ++s) {
      const auto& r = p.runs[s];
      if (r.status != Status::success) {
        out << "  delta " << cell(p.delta) << " seed " << s << ": " << to_string(r.status)
            << (r.message.empty() ? "" : " (" + r.message + ")") << "\n";
      }
    }
  }
  const auto& t = report.threshold;
  if (t.status == Status::success) {
    out << "empirical threshold (hinge fit): delta_c = " << cell(t.delta_c) << ", 95% bootstrap interval ["
        << cell(t.lower) << ", " << cell(t.upper) << "]";
    if (!t.note.empty()) out << " (" << t.note << ")";
    out << "\n";
  } else if (!t.note.empty()) {
    out << "empirical threshold: not estimated (" << t.note << ")\n";
  }
  return out.str();
}

std::string report_csv(const SweepReport& report) {
  std::ostringstream out;
  const auto cols = value_columns(report);
  out << "delta,n,d,seeds,seeds_requested,seeds_failed,status,overlap_mean,overlap_stderr";
  for (const auto& [key, w] : cols)
    for (std::size_t e = 0; e < w; ++e) out << "," << column_name(key, w, e) << "," << column_name(key, w, e) << "_stderr";
  // Subspace overlap matrix, entry (a, b) 1-based, appended after the columns of earlier versions.
  Eigen::Index k = 0;
  for (const auto& p : report.points) k = std::max(k, p.subspace_matrix_mean.rows());
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = 0; b < k; ++b) {
      const std::string name = "subspace_overlap_" + std::to_string(a + 1) + "_" + std::to_string(b + 1);
      out << "," << name << "," << name << "_stderr";
    }
  out << "\n";
  auto csv_cell = [](double v) { return std::isnan(v) ? std::string() : cell(v, 10); };
  for (const auto& p : report.points) {
    out << csv_cell(p.delta) << "," << p.n << "," << p.d << "," << p.seeds << "," << p.seeds_requested << ","
        << p.seeds_failed << "," << to_string(p.status) << "," << csv_cell(p.overlap_mean) << ","
        << csv_cell(p.overlap_stderr);
    for (const auto& [key, w] : cols) {
      const auto it = p.values.find(key);
      for (std::size_t e = 0; e < w; ++e) {
        const bool has = it != p.values.end() && e < it->second.mean.size();
        out << "," << (has ? csv_cell(it->second.mean[e]) : "") << "," << (has ? csv_cell(it->second.stderr_[e]) : "");
      }
    }
    const Eigen::MatrixXd& S = p.subspace_matrix_mean;
    for (Eigen::Index a = 0; a < k; ++a)
      for (Eigen::Index b = 0; b < k; ++b) {
        const bool has = a < S.rows() && b < S.cols();
        out << "," << (has ? csv_cell(S(a, b)) : "") << "," << (has ? csv_cell(p.subspace_matrix_stderr(a, b)) : "");
      }
    out << "\n";
  }
  return out.str();
}

}  // namespace deltacrit::simulate
