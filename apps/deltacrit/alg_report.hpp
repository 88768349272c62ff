#pragma once
// JSON and table renderings of an alg::AlgResult, shared by `alg` and `demo`.
#include <nlohmann/json.hpp>

#include <string>

#include "deltacrit/alg/delta_alg.hpp"

namespace deltacrit::cli {

// The issue-#2 JSON object: link, k, noise, delta_alg, error_estimate, trivial_gram,
// F_top_eigenvalue, directions, stages, status, seconds (+ diagnostics under "diagnostics").
nlohmann::json alg_result_json(const alg::AlgResult& r, const std::string& link_text, double seconds);
std::string alg_result_table(const alg::AlgResult& r, const std::string& link_text, double seconds);

}  // namespace deltacrit::cli
