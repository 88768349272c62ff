#include "deltacrit/model/expression.hpp"

#include <muParser.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

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

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_operator_char(char c) { return std::string_view("+-*/^<>=!&|?:,").find(c) != std::string_view::npos; }

// A second line with the expression and a caret under 1-based `position` (1 ≤ position ≤ size).
std::string caret_line(const std::string& text, std::size_t position) {
  if (text.find('\n') != std::string::npos || position < 1) return "";
  return "\n    " + text + "\n    " + std::string(position - 1, ' ') + "^";
}

// 1-based position of the first comma at parenthesis depth 0 (1 if none).
std::size_t top_level_comma(const std::string& text) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) return i + 1;
  }
  return 1;
}

struct ErrorDescription {
  std::size_t position;  // 1-based, within [1, text.size()]
  std::string what;
};

// Plain-language description of a muParser error with a position inside the text. muParser
// reports positions 0-based, one past the end for errors at the end of the text, −1 when it has
// none, and an "Internal error" (ecINTERNAL_ERROR) when an operator lacks an operand at the end
// (e.g. 'z1*+', where '+' is read as a unary sign): these are mapped to the offending character.
ErrorDescription describe_error(const mu::Parser& parser, const std::string& text, const mu::ParserError& e) {
  const std::size_t n = std::max<std::size_t>(text.size(), 1);
  const int raw = e.GetPos();
  std::size_t pos = raw < 0 ? n : std::min<std::size_t>(static_cast<std::size_t>(raw) + 1, n);
  const std::string token = e.GetToken();
  std::size_t last = text.find_last_not_of(" \t");
  if (last == std::string::npos) last = 0;
  const char last_char = text.empty() ? ' ' : text[last];
  auto unmatched_open = [&]() -> std::size_t {
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '(') open.push_back(i + 1);
      if (text[i] == ')' && !open.empty()) open.pop_back();
    }
    return open.empty() ? n : open.back();
  };
  auto name_before = [&](std::size_t zero_based) {
    std::size_t b = zero_based;
    while (b > 0 && text[b - 1] == ' ') --b;
    std::size_t a = b;
    while (a > 0 && is_name_char(text[a - 1])) --a;
    return std::pair<std::size_t, std::string>{a, text.substr(a, b - a)};
  };
  auto function_position = [&](const std::string& name) {
    const std::size_t before = raw < 0 ? text.size() : std::min<std::size_t>(static_cast<std::size_t>(raw), text.size());
    const std::size_t at = text.rfind(name + "(", before);
    return at == std::string::npos ? pos : at + 1;
  };
  switch (e.GetCode()) {
    case mu::ecUNEXPECTED_EOF:
    case mu::ecINTERNAL_ERROR:
      if (is_operator_char(last_char) || last_char == '(')
        return {last + 1, std::string("unexpected end of expression after '") + last_char + "' (an operand is missing)"};
      return {pos, "an operator is missing an operand"};
    case mu::ecMISSING_PARENS:
      return {unmatched_open(), "'(' is never closed (missing ')')"};
    case mu::ecUNEXPECTED_PARENS:
      if (token == "(" && raw >= 0) {
        const auto [at, name] = name_before(static_cast<std::size_t>(raw));
        if (!name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]))) {
          const auto& funs = parser.GetFunDef();
          if (funs.find(name) == funs.end())
            return {at + 1, "unknown function '" + name + "' (available: abs, sign, exp, log, sqrt, tanh, sin, cos, "
                                                          "min, max, pow, relu, step, erf, he, ...)"};
        }
        return {pos, "unexpected '(' (missing operator before it?)"};
      }
      return {pos, "unexpected ')' (no matching '(')"};
    case mu::ecUNEXPECTED_OPERATOR:
      return {pos, "unexpected operator '" + token + "' (missing operand before it?)"};
    case mu::ecUNASSIGNABLE_TOKEN:
      return {pos, "unexpected character '" + std::string(1, raw >= 0 && static_cast<std::size_t>(raw) < text.size()
                                                                  ? text[static_cast<std::size_t>(raw)]
                                                                  : ' ') +
                       "'"};
    case mu::ecUNEXPECTED_VAL:
      return {pos, "unexpected number '" + token + "' (missing operator before it?)"};
    case mu::ecUNEXPECTED_VAR:
      return {pos, "unexpected variable '" + token + "' (missing operator before it?)"};
    case mu::ecUNEXPECTED_FUN:
      return {pos, "unexpected function '" + token + "' (missing operator before it?)"};
    case mu::ecUNEXPECTED_ARG_SEP:
      return {pos, "unexpected ',' (only function calls take several arguments)"};
    case mu::ecUNEXPECTED_ARG:
      return {pos, "unexpected argument"};
    case mu::ecTOO_MANY_PARAMS:
      return {function_position(token), "too many arguments for function '" + token + "'"};
    case mu::ecTOO_FEW_PARAMS:
      return {function_position(token), "too few arguments for function '" + token + "'"};
    case mu::ecMISSING_ELSE_CLAUSE: {
      const std::size_t q = text.find('?');
      return {q == std::string::npos ? pos : q + 1, "'?' without a ':' else branch"};
    }
    case mu::ecMISPLACED_COLON:
    case mu::ecUNEXPECTED_CONDITIONAL:
      return {pos, "misplaced '?' or ':'"};
    case mu::ecINVALID_CHARACTERS_FOUND:
      return {pos, "non-printable character"};
    case mu::ecEXPRESSION_TOO_LONG:
    case mu::ecIDENTIFIER_TOO_LONG:
      return {pos, "expression or name too long"};
    default: {
      std::string msg = e.GetMsg();
      if (msg.empty() || msg == "Internal error") msg = "malformed expression";
      return {pos, msg};
    }
  }
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
                                          "' at position " + std::to_string(pos == std::string::npos ? 1 : pos + 1) +
                                          " (accepted variables: " + join(variables) + ")" +
                                          caret_line(text, pos == std::string::npos ? 1 : pos + 1));
        }
      }
      parser.Eval();  // parse with the real variables; syntax errors surface here
      if (parser.GetNumResults() > 1) {
        const std::size_t comma = top_level_comma(text);
        throw InputError(parameter, parameter + ": cannot parse '" + text + "' at position " + std::to_string(comma) +
                                        ": ',' outside a function call (the expression must give one value)" +
                                        caret_line(text, comma));
      }
      used.clear();
      for (const auto& name : variables) {
        if (used_map.count(name)) used.push_back(name);
      }
    } catch (const mu::Parser::exception_type& e) {
      const auto d = describe_error(parser, text, e);
      throw InputError(parameter, parameter + ": cannot parse '" + text + "' at position " + std::to_string(d.position) +
                                      ": " + d.what + caret_line(text, d.position));
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
