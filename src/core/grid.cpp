#include "deltacrit/core/grid.hpp"

#include <cmath>
#include <sstream>

#include "deltacrit/core/status.hpp"

namespace deltacrit {

namespace {
double parse_number(const std::string& token, const std::string& parameter, const std::string& spec) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(token, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != token.size() || !std::isfinite(v)) {
    throw InputError(parameter, parameter + ": '" + spec + "' is not a valid grid: '" + token +
                                    "' is not a finite number (accepted: A:B:STEP or a list like 0.5,1,2)");
  }
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}
}  // namespace

std::vector<double> parse_grid(const std::string& spec, const std::string& parameter, double lower,
                               bool lower_exclusive, double upper, std::size_t max_points) {
  if (spec.empty()) {
    throw InputError(parameter, parameter + ": empty grid (accepted: A:B:STEP or a list like 0.5,1,2)");
  }
  std::vector<double> values;
  if (spec.find(':') != std::string::npos) {
    auto parts = split(spec, ':');
    if (parts.size() != 3) {
      throw InputError(parameter, parameter + ": '" + spec + "' must have the form A:B:STEP");
    }
    const double a = parse_number(parts[0], parameter, spec);
    const double b = parse_number(parts[1], parameter, spec);
    const double step = parse_number(parts[2], parameter, spec);
    if (step <= 0.0) {
      throw InputError(parameter, parameter + ": STEP in '" + spec + "' must be > 0");
    }
    if (b < a) {
      throw InputError(parameter, parameter + ": range '" + spec + "' is reversed (need A <= B)");
    }
    const double count = std::floor((b - a) / step + 1e-9) + 1.0;
    if (count > static_cast<double>(max_points)) {
      throw InputError(parameter, parameter + ": '" + spec + "' has more than " +
                                      std::to_string(max_points) + " points");
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) values.push_back(a + step * i);
  } else {
    for (const auto& tok : split(spec, ',')) values.push_back(parse_number(tok, parameter, spec));
    for (std::size_t i = 1; i < values.size(); ++i) {
      if (!(values[i] > values[i - 1])) {
        throw InputError(parameter, parameter + ": list '" + spec + "' must be strictly increasing");
      }
    }
    if (values.size() > max_points) {
      throw InputError(parameter, parameter + ": '" + spec + "' has more than " +
                                      std::to_string(max_points) + " points");
    }
  }
  for (double v : values) {
    const bool below = lower_exclusive ? !(v > lower) : !(v >= lower);
    if (below || v > upper) {
      std::ostringstream msg;
      msg << parameter << ": value " << v << " in '" << spec << "' is out of range (accepted: "
          << (lower_exclusive ? "> " : ">= ") << lower << " and <= " << upper << ")";
      throw InputError(parameter, msg.str());
    }
  }
  return values;
}

}  // namespace deltacrit
