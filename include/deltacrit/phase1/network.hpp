#pragma once
// The two-layer network f(x) = Σ_{j≤m} a_j σ(⟨w_j, x⟩) and its per-sample derivatives in the
// pre-activations u = Wᵀx ∈ R^m (docs/nn.md; science.md "δ_NN"):
//   f(u) = Σ_j a_j σ(u_j),   J = a ⊙ σ'(u),
//   F(y, u) = ℓ'(y, f) J                                    (gradient of ℓ(y, f(u)) in u),
//   D(y, u) = ℓ''(y, f) J Jᵀ + ℓ'(y, f) diag(a ⊙ σ''(u))     (its Hessian in u, m×m).
// These are the same conventions as the finite-d simulator, so a prediction and its experiment
// differ only by the law of (y, u, z).
#include <string>
#include <vector>

#include "deltacrit/model/activation.hpp"

namespace deltacrit::phase1 {

inline constexpr int kMaxWidth = 8;

// Second layer: the values a_j and whether the simulator trains them. The Hessian theory treats a
// as fixed at these values in every case (the Hessian is taken in W only).
struct SecondLayer {
  std::vector<double> a;
  bool trained = false;
  std::string text() const;  // "fixed:V1,..,Vm" or "trained"
};

// Parses "fixed:V1,..,Vm" (exactly `width` finite values) or "trained" (a starts at the default
// values). An empty text means the default: fixed:1 for m = 1 and fixed:1/m,..,1/m otherwise.
// Throws InputError naming "--second-layer" (wrong length, non-numeric) or "--width"
// (width outside 1..8).
SecondLayer parse_second_layer(const std::string& text, int width);

// Initialisation of the first layer: each w_j uniformly on the sphere of radius `scale`.
struct InitSpec {
  enum class Kind { small, random };
  Kind kind = Kind::small;
  double scale = 0.01;  // S ≥ 0 (S = 0 only for small: the S → 0 limit, u ≡ 0)
  std::string text() const;
};
// "small:S" (S ≥ 0) or "random:S" (S > 0). Throws InputError naming "--init".
InitSpec parse_init(const std::string& text);

class Network {
 public:
  // Throws InputError naming "--width" (a empty or longer than 8) or "--second-layer"
  // (non-finite a_j).
  Network(model::Activation activation, model::Loss loss, std::vector<double> a);

  int width() const { return static_cast<int>(a_.size()); }
  const std::vector<double>& a() const { return a_; }
  const model::Activation& activation() const { return activation_; }
  const model::Loss& loss() const { return loss_; }

  double output(const double* u) const;  // f(u)
  // Fills F (m values) and D (m×m, row-major, symmetric) at (y, u); returns f(u). Any output
  // pointer may be null; `loss` receives ℓ(y, f(u)).
  double derivatives(double y, const double* u, double* F, double* D, double* loss = nullptr) const;
  // ℓ'(y, f(u)): the residual whose vanishing on the whole law is the interpolation caveat.
  double loss_d1(double y, const double* u) const { return loss_.d1(y, output(u)); }

 private:
  model::Activation activation_;
  model::Loss loss_;
  std::vector<double> a_;
};

// Inline: the fixed-point prox's Newton calls it at every node and iteration (phase1/fixed_point.cpp).
inline double Network::derivatives(double y, const double* u, double* F, double* D, double* loss) const {
  const int m = width();
  double J[kMaxWidth], c2[kMaxWidth];
  double f = 0.0;
  for (int j = 0; j < m; ++j) {
    double s1 = 0.0, s2 = 0.0;
    f += a_[j] * activation_.value_d1_d2(u[j], &s1, &s2);
    J[j] = a_[j] * s1;
    c2[j] = a_[j] * s2;
  }
  const double l1 = loss_.d1(y, f);
  if (loss) *loss = loss_.value(y, f);
  if (F) {
    for (int j = 0; j < m; ++j) F[j] = l1 * J[j];
  }
  if (D) {
    const double l2 = loss_.d2(y, f);
    for (int j = 0; j < m; ++j) {
      for (int l = 0; l < m; ++l) D[j * m + l] = l2 * J[j] * J[l];
      D[j * m + j] += l1 * c2[j];
    }
  }
  return f;
}

}  // namespace deltacrit::phase1
