#include "alg_report.hpp"

#include <fmt/format.h>

#include <sstream>

#include "output.hpp"

namespace deltacrit::cli {

namespace {
nlohmann::json vector_json(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (int i = 0; i < v.size(); ++i) a.push_back(number_or_inf(v(i), "direction"));
  return a;
}

nlohmann::json matrix_json(const Eigen::MatrixXd& m, const char* what) {
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < m.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int j = 0; j < m.cols(); ++j) row.push_back(number_or_inf(m(i, j), what));
    rows.push_back(row);
  }
  return rows;
}

std::string vector_text(const Eigen::VectorXd& v) {
  std::string s = "(";
  for (int i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt_number(std::abs(v(i)) < 5e-13 ? 0.0 : v(i), 4);
  return s + ")";
}
}  // namespace

nlohmann::json alg_result_json(const alg::AlgResult& r, const std::string& link_text, double seconds) {
  nlohmann::json j;
  j["link"] = link_text;
  j["k"] = r.k;
  j["noise"] = r.noise;
  j["delta_alg"] = number_or_inf(r.delta_alg, "delta_alg");
  j["error_estimate"] = number_or_inf(r.error_estimate, "error_estimate");
  j["trivial_gram"] = matrix_json(r.trivial_gram, "trivial_gram");
  j["F_top_eigenvalue"] = number_or_inf(r.F_top_eigenvalue, "F_top_eigenvalue");
  j["directions"] = nlohmann::json::array();
  for (const auto& d : r.directions) {
    j["directions"].push_back({{"vector", vector_json(d.vector)}, {"class", std::string(alg::to_string(d.cls))}});
  }
  j["stages"] = nlohmann::json::array();
  for (const auto& s : r.stages) {
    nlohmann::json dirs = nlohmann::json::array();
    for (const auto& v : s.directions) dirs.push_back(vector_json(v));
    j["stages"].push_back({{"delta", number_or_inf(s.delta, "stage delta")}, {"directions", dirs}});
  }
  j["status"] = std::string(to_string(r.status));
  j["seconds"] = seconds;
  j["diagnostics"] = {{"method", r.method},
                      {"F_norm", number_or_inf(r.F_norm, "F_norm")},
                      {"channel_error_estimate", number_or_inf(r.channel_error_estimate, "channel error")},
                      {"channel_nodes", r.channel_nodes},
                      {"link_evaluations", r.link_evaluations},
                      {"staircase_idealisation", r.idealisation},
                      {"note", r.note}};
  return j;
}

std::string alg_result_table(const alg::AlgResult& r, const std::string& link_text, double seconds) {
  std::ostringstream out;
  out << fmt::format("link      {}   (k = {}, noise {})\n", link_text, r.k, r.noise);
  out << fmt::format("delta_alg {}", fmt_number(r.delta_alg, 10));
  if (std::isfinite(r.delta_alg) && r.delta_alg > 0) out << fmt::format("  ± {}", fmt_number(r.error_estimate, 2));
  out << fmt::format("   status {}   {:.3f} s\n", to_string(r.status), seconds);
  out << fmt::format("F_top     {}   ‖F‖ = {}   method {}\n", fmt_number(r.F_top_eigenvalue, 10),
                     fmt_number(r.F_norm, 6), r.method);
  out << "directions\n";
  for (const auto& d : r.directions) out << fmt::format("  {:<8} {}\n", alg::to_string(d.cls), vector_text(d.vector));
  if (!r.stages.empty()) {
    out << "stages (learning order)\n";
    for (std::size_t i = 0; i < r.stages.size(); ++i) {
      const auto& s = r.stages[i];
      std::string dirs;
      for (const auto& v : s.directions) dirs += vector_text(v) + " ";
      out << fmt::format("  {}. delta = {:<14} {} {}\n", i + 1, fmt_number(s.delta, 10), alg::to_string(s.kind), dirs);
    }
  }
  if (r.stages.size() > 1 && !r.idealisation.empty()) out << "note: " << r.idealisation << "\n";
  if (r.status != Status::success && !r.note.empty()) out << "status note: " << r.note << "\n";
  return out.str();
}

}  // namespace deltacrit::cli
