#include "deltacrit/model/link.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <sstream>

#include "deltacrit/core/rng.hpp"
#include "deltacrit/core/status.hpp"

namespace deltacrit::model {

namespace {
const std::vector<std::string> kLatentNames = {"z", "z1", "z2", "z3"};
}

Link::Link(std::string name, int k, std::function<double(const double*)> g)
    : k_(k), text_(std::move(name)), g_(std::move(g)) {
  if (k < 1 || k > kMaxLatentDim) {
    throw InputError("k", "k = " + std::to_string(k) + " is out of range (accepted: 1..3)");
  }
}

Link Link::parse(const std::string& text, int k) {
  if (k < 0 || k > kMaxLatentDim) {
    throw InputError("k", "k = " + std::to_string(k) + " is out of range (accepted: 1, 2 or 3; 0 infers k from the link)");
  }
  Expression expr(text, kLatentNames, "link");
  const auto& used = expr.used_variables();
  bool uses_plain_z = false;
  int max_index = 0;
  for (const auto& name : used) {
    if (name == "z") uses_plain_z = true;
    else max_index = std::max(max_index, name[1] - '0');
  }
  if (uses_plain_z && max_index > 0) {
    throw InputError("link", "link: '" + text + "' mixes 'z' with indexed variables; write z for k = 1 or z1, z2, z3");
  }
  int inferred = uses_plain_z ? 1 : std::max(max_index, 1);
  if (k != 0 && k < inferred) {
    throw InputError("k", "k = " + std::to_string(k) + " is inconsistent with link '" + text +
                              "', which uses z" + std::to_string(inferred) + " (need k >= " +
                              std::to_string(inferred) + ")");
  }
  if (k != 0 && uses_plain_z && k != 1) {
    throw InputError("k", "k = " + std::to_string(k) + " is inconsistent with link '" + text +
                              "', which uses 'z' (k = 1); use z1..z" + std::to_string(k));
  }
  const int dim = k != 0 ? k : inferred;

  Link link;
  link.k_ = dim;
  link.text_ = text;
  for (int j = 1; j <= dim; ++j) {
    const std::string name = dim == 1 && uses_plain_z ? "z" : "z" + std::to_string(j);
    if (std::find(used.begin(), used.end(), name) == used.end()) link.unused_.push_back(j);
  }
  // Variables z and z1 both read z[0]; z2, z3 read z[1], z[2].
  // Copies of a Link must not share parser storage: rebuild the callable on copy via a wrapper.
  struct Cloner {
    std::string text;
    int dim;
    mutable std::shared_ptr<Expression> expr;
    double operator()(const double* z) const {
      std::array<double, 4> s{z[0], z[0], dim > 1 ? z[1] : 0.0, dim > 2 ? z[2] : 0.0};
      return (*expr)(s);
    }
    Cloner(std::string t, int d) : text(std::move(t)), dim(d), expr(std::make_shared<Expression>(text, kLatentNames, "link")) {}
    Cloner(const Cloner& o) : Cloner(o.text, o.dim) {}
    Cloner& operator=(const Cloner& o) { text = o.text; dim = o.dim; expr = std::make_shared<Expression>(text, kLatentNames, "link"); return *this; }
    Cloner(Cloner&&) = default;
    Cloner& operator=(Cloner&&) = default;
  };
  link.g_ = Cloner(text, dim);

  // Finite almost everywhere: check on deterministic Gaussian samples.
  Rng rng = make_rng(20261129);
  std::normal_distribution<double> normal;
  double z[3];
  for (int s = 0; s < 20000; ++s) {
    for (int i = 0; i < dim; ++i) z[i] = normal(rng);
    const double v = link(z);
    if (!std::isfinite(v)) {
      std::ostringstream msg;
      msg << "link: '" << text << "' is not finite at z = (";
      for (int i = 0; i < dim; ++i) msg << (i ? ", " : "") << z[i];
      msg << ") (" << (std::isnan(v) ? std::string("undefined there") : "value " + std::to_string(v))
          << "); the link must be finite for almost every z ~ N(0, I_" << dim << ")";
      throw InputError("link", msg.str());
    }
  }
  return link;
}

Noise Noise::parse(const std::string& text) {
  const std::string accepted =
      " (accepted: none, gaussian:VAR with VAR >= 0, flip:EPS with 0 <= EPS < 0.5, erase:EPS or resample:EPS with 0 <= EPS < 1)";
  if (text.empty() || text == "none") return {};
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw InputError("noise", "noise: '" + text + "' is not recognised" + accepted);
  const std::string kind = text.substr(0, colon);
  const std::string value = text.substr(colon + 1);
  double v = 0.0;
  std::size_t used = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || !std::isfinite(v)) {
    throw InputError("noise", "noise: '" + value + "' in '" + text + "' is not a finite number" + accepted);
  }
  Noise n;
  n.param = v;
  if (kind == "gaussian") {
    n.kind = Kind::gaussian;
    if (v < 0) throw InputError("noise", "noise: gaussian variance " + value + " must be >= 0" + accepted);
  } else if (kind == "flip") {
    n.kind = Kind::flip;
    if (v < 0 || v >= 0.5) throw InputError("noise", "noise: flip probability " + value + " must be in [0, 0.5)" + accepted);
  } else if (kind == "erase" || kind == "resample") {
    n.kind = kind == "erase" ? Kind::erase : Kind::resample;
    if (v < 0 || v >= 1) throw InputError("noise", "noise: " + kind + " probability " + value + " must be in [0, 1)" + accepted);
  } else {
    throw InputError("noise", "noise: kind '" + kind + "' is not recognised" + accepted);
  }
  if (v == 0.0) n.kind = Kind::none;
  return n;
}

std::string Noise::text() const {
  std::ostringstream out;
  out.precision(17);
  switch (kind) {
    case Kind::none: return "none";
    case Kind::gaussian: out << "gaussian:" << param; break;
    case Kind::flip: out << "flip:" << param; break;
    case Kind::erase: out << "erase:" << param; break;
    case Kind::resample: out << "resample:" << param; break;
  }
  return out.str();
}

}  // namespace deltacrit::model
