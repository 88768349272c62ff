#include "deltacrit/model/activation.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

#include "deltacrit/core/status.hpp"

namespace deltacrit::model {

namespace {
using detail::kInvSqrt2;
using detail::kInvSqrt2Pi;
using detail::sigmoid;
using detail::softplus;
using detail::tanh_sech2;

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

}  // namespace deltacrit::model
