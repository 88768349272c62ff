#include "deltacrit/phase1/network.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "deltacrit/core/status.hpp"

namespace deltacrit::phase1 {

namespace {
bool parse_double(const std::string& text, double& value) {
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size() && std::isfinite(value);
}

void check_width(int width) {
  if (width < 1 || width > kMaxWidth) {
    throw InputError("--width", "--width: " + std::to_string(width) + " is out of range (accepted: 1..8)");
  }
}

// Shortest decimal form (15 to 17 significant digits) that reads back as the same double, so the
// echo of `fixed:0.7,0.4` is `fixed:0.7,0.4` and re-running the echoed text gives the same network.
std::string shortest(double x) {
  for (int digits = 15; digits < 17; ++digits) {
    std::ostringstream out;
    out.precision(digits);
    out << x;
    if (std::stod(out.str()) == x) return out.str();
  }
  std::ostringstream out;
  out.precision(17);
  out << x;
  return out.str();
}

std::string join(const std::vector<double>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + shortest(v[i]);
  return out;
}
}  // namespace

std::string SecondLayer::text() const { return trained ? "trained" : "fixed:" + join(a); }

SecondLayer parse_second_layer(const std::string& text, int width) {
  check_width(width);
  SecondLayer out;
  out.a.assign(width, width == 1 ? 1.0 : 1.0 / width);
  const std::string accepted = " (accepted: fixed:V1,..,Vm with m = --width finite values, or trained)";
  if (text.empty()) return out;
  if (text == "trained") {
    out.trained = true;
    return out;
  }
  if (text.rfind("fixed:", 0) != 0) {
    throw InputError("--second-layer", "--second-layer: '" + text + "' is not recognised" + accepted);
  }
  std::vector<double> values;
  std::string rest = text.substr(6);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = rest.find(',', start);
    const std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    double v = 0.0;
    if (!parse_double(item, v)) {
      throw InputError("--second-layer", "--second-layer: '" + item + "' in '" + text + "' is not a finite number" + accepted);
    }
    values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(values.size()) != width) {
    throw InputError("--second-layer", "--second-layer: '" + text + "' has " + std::to_string(values.size()) +
                                           " values but --width is " + std::to_string(width) + accepted);
  }
  out.a = values;
  return out;
}

std::string InitSpec::text() const {
  std::ostringstream out;
  out.precision(17);
  out << (kind == Kind::small ? "small:" : "random:") << scale;
  return out.str();
}

InitSpec parse_init(const std::string& text) {
  const std::string accepted = " (accepted: small:S with S >= 0, random:S with S > 0)";
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw InputError("--init", "--init: '" + text + "' is not recognised" + accepted);
  const std::string kind = text.substr(0, colon);
  InitSpec spec;
  if (kind == "small") spec.kind = InitSpec::Kind::small;
  else if (kind == "random") spec.kind = InitSpec::Kind::random;
  else throw InputError("--init", "--init: kind '" + kind + "' is not recognised" + accepted);
  if (!parse_double(text.substr(colon + 1), spec.scale) || spec.scale < 0 ||
      (spec.kind == InitSpec::Kind::random && spec.scale == 0)) {
    throw InputError("--init", "--init: scale '" + text.substr(colon + 1) + "' is out of range" + accepted);
  }
  return spec;
}

Network::Network(model::Activation activation, model::Loss loss, std::vector<double> a)
    : activation_(std::move(activation)), loss_(std::move(loss)), a_(std::move(a)) {
  check_width(static_cast<int>(a_.size()));
  for (double v : a_) {
    if (!std::isfinite(v)) throw InputError("--second-layer", "--second-layer: values must be finite");
  }
}

double Network::output(const double* u) const {
  double f = 0.0;
  for (std::size_t j = 0; j < a_.size(); ++j) f += a_[j] * activation_.value(u[j]);
  return f;
}

}  // namespace deltacrit::phase1
