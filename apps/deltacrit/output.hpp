#pragma once
// Output helpers shared by the subcommands: formats, numbers that may be infinite, and the rule
// that a NaN is never printed as a result.
#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "deltacrit/core/status.hpp"

namespace deltacrit::cli {

enum class Format { table, json, csv };

inline void add_format_option(CLI::App& sub, Format& fmt, bool with_csv) {
  std::map<std::string, Format> names{{"table", Format::table}, {"json", Format::json}};
  if (with_csv) names.emplace("csv", Format::csv);
  sub.add_option("--format", fmt, with_csv ? "Output format: table (default), json or csv" : "Output format: table (default) or json")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

// A finite number, the string "inf" for +∞, "-inf" for −∞. NaN is a bug upstream: it throws.
inline nlohmann::json number_or_inf(double v, const char* what) {
  if (std::isnan(v)) throw std::logic_error(std::string("internal error: NaN computed for ") + what);
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// Number for a table cell: "inf", or %.*g.
inline std::string fmt_number(double v, int digits = 7) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out.precision(digits);
  out << v;
  return out.str();
}

inline int exit_code_for(Status s) {
  switch (s) {
    case Status::success: return 0;
    case Status::not_converged: return 3;
    default: return 4;
  }
}

// Writes `text` to `path` ("" or "-" means stdout).
inline void write_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  std::ofstream out(path);
  if (!out) throw InputError("--out", "--out: cannot open '" + path + "' for writing");
  out << text;
}

// `--hard 2,3`: 1-based latent indices in 1..k, comma-separated, without repeats (empty text: an
// empty list). Throws InputError naming --hard. Shared by `nn` and `simulate gd|hessian`.
inline std::vector<int> parse_hard_indices(const std::string& text, int k) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 1 || v > k) {
      throw InputError("--hard", "--hard: '" + item + "' is not a latent index in 1.." + std::to_string(k) +
                                     " (give a comma-separated list of 1-based indices, e.g. --hard 2,3)");
    }
    for (int h : out)
      if (h == v) throw InputError("--hard", "--hard: index " + item + " is repeated");
    out.push_back(v);
  }
  return out;
}

}  // namespace deltacrit::cli
