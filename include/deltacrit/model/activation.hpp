#pragma once
// Activations σ with σ' and σ'', and losses ℓ(y, f) with ∂_f ℓ and ∂_f² ℓ, chosen at run time by
// name. Shared by the finite-d simulator and the δ_NN solver so a prediction and its experiment
// use the same functions.
#include <cmath>
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

// The per-evaluation functions are defined here, inline: the fixed-point prox's Newton
// (phase1/fixed_point.cpp) evaluates them at every node and iteration through Network::derivatives,
// and across translation units the calls were not inlined.
namespace detail {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// log(1 + e^x) without overflow.
inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// tanh x, and sech² x = 1 − tanh² x in `sech2`. For |x| ≥ 0.55, from e = e^{−2|x|} ≤ 1/3:
// tanh|x| = (1 − e)/(1 + e) and sech² x = 4e/(1 + e)², neither with cancellation, so both to a few
// ulp — sech² also in the tails, where 1 − tanh² loses its relative accuracy. One exp costs about
// half of glibc's tanh, which goes through expm1 (tanh was 40 % of `nn --find` on the tanh,
// m = 1, k = 2 bench case, perf). Below 0.55, std::tanh and 1 − t² (t² < 0.26: no cancellation).
inline double tanh_sech2(double x, double& sech2) {
  const double ax = std::fabs(x);
  if (ax < 0.55) {
    const double t = std::tanh(x);
    sech2 = 1.0 - t * t;
    return t;
  }
  const double e = std::exp(-2.0 * ax);
  const double t = (1.0 - e) / (1.0 + e);
  sech2 = 4.0 * e / ((1.0 + e) * (1.0 + e));
  return x < 0 ? -t : t;
}
}  // namespace detail

inline double Activation::value_d1_d2(double x, double* d1, double* d2) const {
  switch (kind_) {
    case Kind::tanh: {
      const double t = detail::tanh_sech2(x, *d1);
      *d2 = -2.0 * t * *d1;
      return t;
    }
    case Kind::logcosh: {
      // e = e^{−2|x|}: tanh|x| = (1 − e)/(1 + e), sech² x = 4e/(1 + e)² (no cancellation).
      const double ax = std::fabs(x);
      const double e = std::exp(-2.0 * ax);
      const double t = (1.0 - e) / (1.0 + e);
      *d1 = x < 0 ? -t : t;
      *d2 = 4.0 * e / ((1.0 + e) * (1.0 + e));
      return ax + std::log1p(e) - std::log(2.0);
    }
    case Kind::softplus: {
      // e = e^{−|x|}: σ' = sigmoid(x), σ'' = e/(1 + e)².
      const double e = std::exp(-std::fabs(x));
      *d1 = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      *d2 = e / ((1.0 + e) * (1.0 + e));
      return (x > 0 ? x : 0.0) + std::log1p(e);
    }
    case Kind::erf: {
      *d1 = 2.0 * detail::kInvSqrt2Pi * std::exp(-0.5 * x * x);
      *d2 = -x * *d1;
      return std::erf(x * detail::kInvSqrt2);
    }
    default:
      *d2 = this->d2(x);
      return value_and_d1(x, d1);
  }
}

inline double Loss::value(double y, double f) const {
  if (kind_ == Kind::square) return 0.5 * (y - f) * (y - f);
  return detail::softplus(-y * f);
}

inline double Loss::d1(double y, double f) const {
  if (kind_ == Kind::square) return f - y;
  return -y * detail::sigmoid(-y * f);
}

inline double Loss::d2(double y, double f) const {
  if (kind_ == Kind::square) return 1.0;
  const double s = detail::sigmoid(-y * f);
  return y * y * s * (1.0 - s);
}

}  // namespace deltacrit::model
