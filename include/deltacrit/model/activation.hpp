#pragma once
// Activations σ with σ' and σ'', and losses ℓ(y, f) with ∂_f ℓ and ∂_f² ℓ, chosen at run time by
// name. Shared by the finite-d simulator and the δ_NN solver so a prediction and its experiment
// use the same functions.
#include <string>

namespace deltacrit::model {

class Activation {
 public:
  enum class Kind { relu, tanh, erf, quadratic, hermite, softplus, logcosh };

  // "relu", "tanh", "erf" (σ = erf(x/√2)), "quadratic" (x²), "he:K" (He_K, 1 ≤ K ≤ 8),
  // "softplus" (log(1 + e^x)), "logcosh". Throws InputError naming "activation".
  static Activation parse(const std::string& name);

  double value(double x) const;   // σ(x)
  double d1(double x) const;      // σ'(x)
  double d2(double x) const;      // σ''(x) (relu: 0 almost everywhere)
  // σ(x), and σ'(x) in *d1, sharing the transcendental work (one tanh/exp instead of two); equal
  // to value() and d1() up to rounding. For the simulator's per-sample loops.
  double value_and_d1(double x, double* d1) const;
  // σ(x), σ'(x) and σ''(x) from one evaluation of the transcendental function (tanh, log cosh,
  // softplus, erf); equal to value/d1/d2 up to round-off.
  double value_d1_d2(double x, double* d1, double* d2) const;
  // Suprema over x ∈ ℝ of |σ|, |σ'| and |σ''| (+inf where unbounded; relu's σ'' is a point mass at
  // 0 and counts as unbounded): closed forms for the bounds the fixed-point prox uses to certify
  // convexity (phase1/fixed_point.cpp). tanh: 1, 1, 4/(3√3) (at tanh² x = 1/3); erf(x/√2): 1,
  // √(2/π), √(2/π) e^{−1/2} (at |x| = 1); softplus: ∞, 1, 1/4; log cosh: ∞, 1, 1.
  double sup_abs_value() const;
  double sup_abs_d1() const;
  double sup_abs_d2() const;
  // The ranges [lo, hi] of σ and of σ'' over a finite interval [a, b] (a ≤ b): the least and
  // largest value at the ends (one value_d1_d2 each) and at the interior points where σ' (resp.
  // σ''') vanishes, known in closed form with their values: tanh's σ'' is extreme at
  // ±atanh(1/√3), erf(x/√2)'s at ±1, softplus' and log cosh's at 0 (±sup|σ''| there); log cosh and
  // x² are least at 0. {−∞, +∞} where that is not available (relu's σ'', He_K, an infinite or NaN
  // end). For the interval convexity certificate of the fixed-point prox (phase1/fixed_point.cpp).
  struct Range {
    double lo, hi;
  };
  struct Ranges {
    Range value, d2;
  };
  Ranges ranges(double a, double b) const;
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }

 private:
  Kind kind_ = Kind::tanh;
  int order_ = 0;  // Hermite order
  std::string name_;
};

class Loss {
 public:
  enum class Kind { square, logistic };
  // "square": ℓ = ½(y − f)²; "logistic": ℓ = log(1 + e^{−y f}) for y ∈ {±1}.
  static Loss parse(const std::string& name);

  double value(double y, double f) const;
  double d1(double y, double f) const;  // ∂ℓ/∂f
  double d2(double y, double f) const;  // ∂²ℓ/∂f²
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }

 private:
  Kind kind_ = Kind::square;
  std::string name_;
};

}  // namespace deltacrit::model
