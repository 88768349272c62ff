#include "deltacrit/model/activation.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

#include "deltacrit/core/status.hpp"

namespace deltacrit::model {

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// He_n and its first two derivatives (He_n' = n He_{n−1}).
double hermite(int n, double x) {
  if (n < 0) return 0.0;
  double prev = 1.0, cur = x;
  if (n == 0) return 1.0;
  for (int j = 1; j < n; ++j) {
    const double next = x * cur - j * prev;
    prev = cur;
    cur = next;
  }
  return cur;
}

// log(1 + e^x) without overflow.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// tanh x, and sech² x = 1 − tanh² x in `sech2`. For |x| ≥ 0.55, from e = e^{−2|x|} ≤ 1/3:
// tanh|x| = (1 − e)/(1 + e) and sech² x = 4e/(1 + e)², neither with cancellation, so both to a few
// ulp — sech² also in the tails, where 1 − tanh² loses its relative accuracy. One exp costs about
// half of glibc's tanh, which goes through expm1 (tanh was 40 % of `nn --find` on the tanh,
// m = 1, k = 2 bench case, perf). Below 0.55, std::tanh and 1 − t² (t² < 0.26: no cancellation).
double tanh_sech2(double x, double& sech2) {
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
}  // namespace

Activation Activation::parse(const std::string& name) {
  Activation a;
  a.name_ = name;
  const std::string accepted = " (accepted: relu, tanh, erf, quadratic, he:K with 1 <= K <= 8, softplus, logcosh)";
  if (name == "relu") a.kind_ = Kind::relu;
  else if (name == "tanh") a.kind_ = Kind::tanh;
  else if (name == "erf") a.kind_ = Kind::erf;
  else if (name == "quadratic") a.kind_ = Kind::quadratic;
  else if (name == "softplus") a.kind_ = Kind::softplus;
  else if (name == "logcosh") a.kind_ = Kind::logcosh;
  else if (name.rfind("he:", 0) == 0) {
    a.kind_ = Kind::hermite;
    const std::string k = name.substr(3);
    if (k.size() != 1 || k[0] < '1' || k[0] > '8') {
      throw InputError("activation", "activation: '" + name + "' has an invalid order" + accepted);
    }
    a.order_ = k[0] - '0';
  } else {
    throw InputError("activation", "activation: '" + name + "' is not recognised" + accepted);
  }
  return a;
}

double Activation::value(double x) const {
  switch (kind_) {
    case Kind::relu: return x > 0 ? x : 0.0;
    case Kind::tanh: {
      double sech2 = 0.0;
      return tanh_sech2(x, sech2);
    }
    case Kind::erf: return std::erf(x * kInvSqrt2);
    case Kind::quadratic: return x * x;
    case Kind::hermite: return hermite(order_, x);
    case Kind::softplus: return softplus(x);
    case Kind::logcosh: {
      // log cosh x = |x| + log(1 + e^{−2|x|}) − log 2, stable for large |x|.
      const double ax = std::fabs(x);
      return ax + std::log1p(std::exp(-2.0 * ax)) - std::log(2.0);
    }
  }
  return 0.0;
}

double Activation::d1(double x) const {
  switch (kind_) {
    case Kind::relu: return x > 0 ? 1.0 : 0.0;
    case Kind::tanh: {
      double sech2 = 0.0;
      tanh_sech2(x, sech2);
      return sech2;
    }
    case Kind::erf: return 2.0 * kInvSqrt2Pi * std::exp(-0.5 * x * x);
    case Kind::quadratic: return 2.0 * x;
    case Kind::hermite: return order_ * hermite(order_ - 1, x);
    case Kind::softplus: return sigmoid(x);
    case Kind::logcosh: return std::tanh(x);
  }
  return 0.0;
}

double Activation::d2(double x) const {
  switch (kind_) {
    case Kind::relu: return 0.0;
    case Kind::tanh: {
      double sech2 = 0.0;
      const double t = tanh_sech2(x, sech2);
      return -2.0 * t * sech2;
    }
    case Kind::erf: return -2.0 * kInvSqrt2Pi * x * std::exp(-0.5 * x * x);
    case Kind::quadratic: return 2.0;
    case Kind::hermite: return order_ * (order_ - 1) * hermite(order_ - 2, x);
    case Kind::softplus: {
      const double s = sigmoid(x);
      return s * (1.0 - s);
    }
    case Kind::logcosh: {
      // sech² x = 1 − tanh² x (no overflow; pitfall 7).
      const double t = std::tanh(x);
      return 1.0 - t * t;
    }
  }
  return 0.0;
}

double Activation::sup_abs_value() const {
  switch (kind_) {
    case Kind::tanh:
    case Kind::erf: return 1.0;
    default: return std::numeric_limits<double>::infinity();
  }
}

double Activation::sup_abs_d1() const {
  switch (kind_) {
    case Kind::tanh:
    case Kind::softplus:
    case Kind::logcosh: return 1.0;
    case Kind::erf: return 2.0 * kInvSqrt2Pi;
    case Kind::relu: return 1.0;
    default: return std::numeric_limits<double>::infinity();
  }
}

double Activation::sup_abs_d2() const {
  switch (kind_) {
    case Kind::tanh: return 4.0 / (3.0 * std::sqrt(3.0));
    case Kind::erf: return 2.0 * kInvSqrt2Pi * std::exp(-0.5);
    case Kind::softplus: return 0.25;
    case Kind::logcosh: return 1.0;
    default: return std::numeric_limits<double>::infinity();
  }
}

double Activation::value_d1_d2(double x, double* d1, double* d2) const {
  switch (kind_) {
    case Kind::tanh: {
      const double t = tanh_sech2(x, *d1);
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
      *d1 = 2.0 * kInvSqrt2Pi * std::exp(-0.5 * x * x);
      *d2 = -x * *d1;
      return std::erf(x * kInvSqrt2);
    }
    default:
      *d2 = this->d2(x);
      return value_and_d1(x, d1);
  }
}

double Activation::value_and_d1(double x, double* d1) const {
  switch (kind_) {
    case Kind::tanh:
    case Kind::logcosh:
    case Kind::softplus:
    case Kind::erf: {
      double d2 = 0.0;  // σ'' costs a few flops more; the transcendental work is shared
      return value_d1_d2(x, d1, &d2);
    }
    case Kind::hermite: {
      // He_n and He_{n−1} from one recurrence; He_n' = n He_{n−1}.
      double prev = 1.0, cur = x;
      if (order_ == 1) {
        *d1 = 1.0;
        return x;
      }
      for (int j = 1; j < order_; ++j) {
        const double next = x * cur - j * prev;
        prev = cur;
        cur = next;
      }
      *d1 = order_ * prev;
      return cur;
    }
    default:
      *d1 = this->d1(x);
      return value(x);
  }
}

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
// Widens r by the values of the critical points (x, f(x)) that lie inside (a, b).
void include_critical(Activation::Range& r, double a, double b, std::initializer_list<std::pair<double, double>> critical) {
  for (const auto& [x, fx] : critical) {
    if (x > a && x < b) {
      r.lo = std::fmin(r.lo, fx);
      r.hi = std::fmax(r.hi, fx);
    }
  }
}
}  // namespace

Activation::Ranges Activation::ranges(double a, double b) const {
  Ranges out{{-kInf, kInf}, {-kInf, kInf}};
  if (!(std::isfinite(a) && std::isfinite(b) && a <= b)) return out;
  if (kind_ == Kind::hermite) return out;
  double d1a = 0.0, d1b = 0.0, d2a = 0.0, d2b = 0.0;
  const double va = value_d1_d2(a, &d1a, &d2a), vb = value_d1_d2(b, &d1b, &d2b);
  out.value = {std::fmin(va, vb), std::fmax(va, vb)};
  const Range ends2{std::fmin(d2a, d2b), std::fmax(d2a, d2b)};
  const double s2 = sup_abs_d2();
  switch (kind_) {
    case Kind::relu: break;  // σ nondecreasing; σ'' has a point mass at 0
    case Kind::tanh:
      // σ''' = 0 where tanh² x = 1/3: σ'' = ∓4/(3√3) at ±atanh(1/√3).
      out.d2 = ends2;
      include_critical(out.d2, a, b, {{-0.6584789484624085, s2}, {0.6584789484624085, -s2}});
      break;
    case Kind::erf:
      out.d2 = ends2;
      include_critical(out.d2, a, b, {{-1.0, s2}, {1.0, -s2}});
      break;
    case Kind::softplus:
      out.d2 = ends2;
      include_critical(out.d2, a, b, {{0.0, s2}});
      break;
    case Kind::logcosh:
      include_critical(out.value, a, b, {{0.0, 0.0}});
      out.d2 = ends2;
      include_critical(out.d2, a, b, {{0.0, s2}});
      break;
    case Kind::quadratic:
      include_critical(out.value, a, b, {{0.0, 0.0}});
      out.d2 = {2.0, 2.0};
      break;
    default: break;
  }
  return out;
}

Loss Loss::parse(const std::string& name) {
  Loss l;
  l.name_ = name;
  if (name == "square") l.kind_ = Kind::square;
  else if (name == "logistic") l.kind_ = Kind::logistic;
  else throw InputError("loss", "loss: '" + name + "' is not recognised (accepted: square, logistic)");
  return l;
}

double Loss::value(double y, double f) const {
  if (kind_ == Kind::square) return 0.5 * (y - f) * (y - f);
  return softplus(-y * f);
}

double Loss::d1(double y, double f) const {
  if (kind_ == Kind::square) return f - y;
  return -y * sigmoid(-y * f);
}

double Loss::d2(double y, double f) const {
  if (kind_ == Kind::square) return 1.0;
  const double s = sigmoid(-y * f);
  return y * y * s * (1.0 - s);
}

}  // namespace deltacrit::model
