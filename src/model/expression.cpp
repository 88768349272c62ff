#include "deltacrit/model/expression.hpp"

#include <muParser.h>

#include <algorithm>
#include <cmath>

#include "deltacrit/core/status.hpp"

namespace deltacrit::model {

namespace {
double fn_relu(double x) { return x > 0.0 ? x : 0.0; }
double fn_step(double x) { return x > 0.0 ? 1.0 : 0.0; }
double fn_erf(double x) { return std::erf(x); }
double fn_log(double x) { return std::log(x); }
double fn_pow(double x, double p) { return std::pow(x, p); }
double fn_sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
double fn_he(double n, double x) {
  // He_0 = 1, He_1 = x, He_{j+1} = x He_j − j He_{j−1}.
  if (!(n >= 0.0) || n != std::floor(n) || n > 30.0) return std::numeric_limits<double>::quiet_NaN();
  const int order = static_cast<int>(n);
  double prev = 1.0, cur = x;
  if (order == 0) return 1.0;
  for (int j = 1; j < order; ++j) {
    const double next = x * cur - j * prev;
    prev = cur;
    cur = next;
  }
  return cur;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}
}  // namespace

struct Expression::Impl {
  std::string text;
  std::vector<std::string> variables;
  std::string parameter;
  std::vector<std::string> used;
  mutable std::vector<double> storage;
  mu::Parser parser;

  void build() {
    storage.assign(variables.size(), 0.0);
    try {
      parser.DefineFun("relu", fn_relu);
      parser.DefineFun("step", fn_step);
      parser.DefineFun("erf", fn_erf);
      parser.DefineFun("log", fn_log);
      parser.DefineFun("ln", fn_log);
      parser.DefineFun("pow", fn_pow);
      parser.DefineFun("sign", fn_sign);
      parser.DefineFun("he", fn_he);
      for (std::size_t i = 0; i < variables.size(); ++i) parser.DefineVar(variables[i], &storage[i]);
      parser.SetExpr(text);
      // GetUsedVar parses with a permissive variable factory, so it also lists names that were
      // never defined: check them against the accepted variables here.
      const auto used_map = parser.GetUsedVar();
      for (const auto& [name, ptr] : used_map) {
        if (std::find(variables.begin(), variables.end(), name) == variables.end()) {
          const auto pos = text.find(name);
          throw InputError(parameter, parameter + ": cannot parse '" + text + "': unknown name '" + name +
                                          "' at position " + std::to_string(pos == std::string::npos ? 0 : pos + 1) +
                                          " (accepted variables: " + join(variables) + ")");
        }
      }
      parser.Eval();  // parse with the real variables; syntax errors surface here
      used.clear();
      for (const auto& name : variables) {
        if (used_map.count(name)) used.push_back(name);
      }
    } catch (const mu::Parser::exception_type& e) {
      std::string msg = parameter + ": cannot parse '" + text + "'";
      const auto pos = e.GetPos();
      const std::string token = e.GetToken();
      if (e.GetCode() == mu::ecUNASSIGNABLE_TOKEN && !token.empty()) {
        msg += ": unknown name '" + token + "' at position " + std::to_string(pos + 1) +
               " (accepted variables: " + join(variables) + ")";
      } else {
        msg += " at position " + std::to_string(pos + 1) + ": " + e.GetMsg();
      }
      throw InputError(parameter, msg);
    }
  }
};

Expression::Expression(std::string text, std::vector<std::string> variables, std::string parameter)
    : impl_(std::make_unique<Impl>()) {
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); })) {
    throw InputError(parameter, parameter + ": the expression is empty");
  }
  impl_->text = std::move(text);
  impl_->variables = std::move(variables);
  impl_->parameter = std::move(parameter);
  impl_->build();
}

Expression::Expression(const Expression& other)
    : Expression(other.impl_->text, other.impl_->variables, other.impl_->parameter) {}

Expression& Expression::operator=(const Expression& other) {
  if (this != &other) *this = Expression(other);
  return *this;
}

Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

const std::string& Expression::text() const { return impl_->text; }
const std::vector<std::string>& Expression::variables() const { return impl_->variables; }
const std::vector<std::string>& Expression::used_variables() const { return impl_->used; }

double Expression::operator()(std::span<const double> values) const {
  const std::size_t n = std::min(values.size(), impl_->storage.size());
  std::copy_n(values.begin(), n, impl_->storage.begin());
  try {
    return impl_->parser.Eval();
  } catch (const mu::Parser::exception_type&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace deltacrit::model
