#pragma once
// A user-typed scalar expression (link g(z1..zk), spectral preprocessing T(y), ...), parsed by
// muParser. Functions available on top of muParser's built-ins (abs, sign, exp, sqrt, tanh, min,
// max, ... and ^ for powers): log (natural), relu(x), pow(x, p), erf(x), he(n, x) (probabilists'
// Hermite polynomial He_n, n a non-negative integer ≤ 30), step(x) (1 for x > 0, else 0).
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace deltacrit::model {

class Expression {
 public:
  // Parses `text`. `variables` lists the names the expression may use; `parameter` names the
  // option in error messages. Throws InputError quoting the expression and the position of the
  // problem for syntax errors and unknown variables.
  Expression(std::string text, std::vector<std::string> variables, std::string parameter);
  Expression(const Expression& other);  // re-parses: each copy owns its variable storage
  Expression& operator=(const Expression& other);
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

  const std::string& text() const;
  const std::vector<std::string>& variables() const;
  // The subset of variables() the expression uses, in the order of variables().
  const std::vector<std::string>& used_variables() const;

  // Evaluates with values[i] bound to variables()[i]. Not thread-safe on one object: give each
  // thread its own copy.
  double operator()(std::span<const double> values) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deltacrit::model
