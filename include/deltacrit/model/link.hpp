#pragma once
// The link function y = g(z), z ∈ R^k (k ≤ 3), and the output noise of the channel P(y | z).
#include <functional>
#include <string>
#include <vector>

#include "deltacrit/model/expression.hpp"

namespace deltacrit::model {

inline constexpr int kMaxLatentDim = 3;

// A deterministic link g: R^k → R given as an expression in `z` (k = 1) or `z1..zk`.
class Link {
 public:
  // Parses `text`. k = 0 infers k from the variables (largest index used; `z` means k = 1);
  // otherwise k must be in 1..3 and consistent with the variables. Throws InputError naming
  // "link" or "k" for syntax errors, unknown names, mixing `z` with `z1..`, k out of range, and
  // for links that are non-finite on a set of positive Gaussian probability (checked on 20000
  // deterministic Gaussian samples).
  static Link parse(const std::string& text, int k = 0);

  // A link given as a C++ callable (tests, closed forms). `name` is used in reports.
  Link(std::string name, int k, std::function<double(const double*)> g);

  int k() const { return k_; }
  const std::string& text() const { return text_; }
  // 1-based indices j ≤ k of latents z_j that the expression does not use: y is independent of
  // them (empty for links built from a callable).
  const std::vector<int>& unused_latents() const { return unused_; }
  // g(z) for z = (z[0], ..., z[k−1]). Not thread-safe when built from an expression: copy the
  // Link per thread (copies are independent).
  double operator()(const double* z) const { return g_(z); }

 private:
  Link() = default;
  int k_ = 0;
  std::string text_;
  std::vector<int> unused_;
  std::function<double(const double*)> g_;
};

// Output noise applied after the link.
struct Noise {
  enum class Kind {
    none,
    gaussian,  // y = g(z) + √Δ ε, ε ~ N(0,1); param = Δ (variance) ≥ 0
    flip,      // y ∈ {±1}: sign flipped with probability ε; param = ε ∈ [0, 1/2)
    erase,     // y replaced by "missing" with probability ε; param = ε ∈ [0, 1)
    resample,  // y replaced by an independent draw from its marginal w.p. ε; param = ε ∈ [0, 1)
  };
  Kind kind = Kind::none;
  double param = 0.0;

  // "none", "gaussian:VAR", "flip:EPS", "erase:EPS", "resample:EPS". Throws InputError naming
  // "noise" with the accepted forms and ranges.
  static Noise parse(const std::string& text);
  std::string text() const;
};

}  // namespace deltacrit::model
