#pragma once
// Asymptotic predictions for spectral estimators D = (1/n) Σ_i T(y_i) x_i x_iᵀ, x_i ~ N(0, I_d),
// n/d → δ (Lu & Li arXiv 1702.06435; Mondelli & Montanari arXiv 1708.05932; Luo, Alghamdi & Lu
// arXiv 1811.04420; the form below is the A/B/C convention of science.md). With Z_y = E[z²|y], τ = ess sup T and
//   A(λ) = E[T²/(λ−T)²],  B(λ) = E[T(Z_y − 1)/(λ−T)],  C(λ) = E[T² Z_y/(λ−T)²],
//   ψ_δ(λ) = λ(1/δ + E[T/(λ−T)])      (λ > τ),
// λ̄ = τ if A(τ⁺) ≤ 1/δ, else the root of A(λ̄) = 1/δ (the minimiser of ψ_δ); an outlier exists iff
// B(λ̄) > 1/δ; then λ* is the largest root of B(λ*) = 1/δ on (λ̄, ∞). The bulk edge is ψ_δ(λ̄), the
// top eigenvalue ψ_δ(λ*) (ψ_δ(λ̄) without outlier), and the squared overlap of the top eigenvector
// with θ* is (1/δ − A(λ*)) / (1/δ − A(λ*) + C(λ*)) (0 without outlier). With T ≡ 1 the bulk edge is
// the Marchenko–Pastur edge (1 + δ^{−1/2})².
//
// Preprocessings: an expression in y; `optimal` T = 1 − 1/Z_y (Luo–Alghamdi–Lu; its threshold is
// δ_alg); `mm` the δ-dependent T_δ = (Z_y − 1)/(Z_y + √(δ/δ_u) − 1) with δ_u = 1/E[(Z_y − 1)²]
// (Mondelli–Montanari; for y = z² this is (y − 1)/(y + √(2δ) − 1)); it is defined for
// δ > δ_u only (for δ ≤ δ_u the denominator vanishes inside the support).
// k ≥ 2: only `optimal` is supported, as the threshold of the optimal multi-index spectral method
// of Defilippis et al. (arXiv 2502.02545), which equals δ_alg = 1/λ_max(F).
//
// T unbounded above (τ = +∞, e.g. untrimmed T = y): the top eigenvalue follows max_i T(y_i) → ∞ and
// there is no transition at any fixed δ; reported as such with the reason.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "deltacrit/alg/channel.hpp"
#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"

namespace deltacrit::spectral {

struct SpectralMethodOptions {
  // Law of (T(y), E[z²|y]) for k = 1. Default: a z-space rule (composite Gauss–Legendre, graded
  // towards the structure points of g AND of T∘g — kinks and jumps of T such as min(y, 2) or
  // step(y − 2) — and the preimages of critical values of g). With `channel_law` = true, or for
  // gaussian output noise, the generic alg::build_channel_law nodes are used instead (they do not
  // know T: accuracy drops to ~1e-4 for non-smooth T).
  bool channel_law = false;
  alg::ChannelOptions channel;  // options of build_channel_law when it is used
  double root_tol = 1e-13;      // relative tolerance of λ̄, λ* and δ_T; (0, 1e-4]
  double delta_min = 1e-4;      // δ_T is searched on [delta_min, delta_max] (log grid + bracket)
  double delta_max = 1e4;
  void validate() const;        // throws InputError naming the field
};

struct SpectralPoint {
  double delta = 0.0;
  bool defined = true;          // false: `mm` at δ ≤ δ_u (no numbers; see note)
  bool outlier = false;
  double lambda_bar = 0.0;      // MM's auxiliary variable at the bulk edge
  double lambda_star = 0.0;     // ... at the outlier (= lambda_bar without outlier)
  double bulk_edge = 0.0;       // ψ_δ(λ̄): right edge of the bulk of D
  double top_eigenvalue = 0.0;  // ψ_δ(λ*) or the bulk edge
  double overlap = 0.0;         // squared overlap of the top eigenvector with θ*
  Status status = Status::not_computed;
  std::string note;
};

struct SpectralThreshold {
  bool exists = false;
  double delta = 0.0;                    // δ_T (+∞ when none)
  std::array<double, 2> bracket{0, 0};
  std::string reason;                    // why there is none, or how it was found
  Status status = Status::not_computed;
};

class SpectralPredictor {
 public:
  // preprocess: "optimal", "mm" or an expression in y. Throws InputError naming "preprocess" for a
  // syntax error, a T that is not finite on the support of y, `mm` for a trivial or hard link, or
  // anything but `optimal` for k ≥ 2; "link"/"noise"/options for the channel.
  SpectralPredictor(const model::Link& link, const model::Noise& noise, const std::string& preprocess,
                    const SpectralMethodOptions& options = {});

  int k() const { return k_; }
  const std::string& preprocess() const { return preprocess_; }
  // τ = ess sup T (k = 1; for `mm` at the given δ). +∞ when T is unbounded above.
  double tau(double delta = 1.0) const;
  bool unbounded() const { return unbounded_; }
  const std::string& unbounded_reason() const { return unbounded_reason_; }
  double delta_u() const { return delta_u_; }   // 1/E[(Z_y − 1)²] (the optimal threshold, k = 1)
  double delta_alg() const { return delta_alg_; }
  double kept_mass() const { return kept_; }    // 1 − erased mass: δ_eff = δ · kept_mass()

  SpectralPoint at(double delta) const;
  SpectralThreshold threshold() const;

  // The A, B, C functionals and E[T/(λ−T)] at λ (k = 1; exposed for tests).
  struct Functionals {
    double A = 0, B = 0, C = 0, E1 = 0;
  };
  Functionals functionals(double lambda, double delta = 1.0) const;
  const alg::ChannelLaw& law() const { return law_; }

 private:
  enum class Kind { expression, optimal, mm };
  double T_of(double y, double Z, double delta) const;
  void compute_tau(const model::Link& link, const model::Noise& noise);
  void build_z_law(const model::Link& link, const model::Noise& noise);
  std::vector<double> T_nodes(double delta) const;
  SpectralPoint at_effective(double delta_eff, double delta_user) const;

  int k_ = 1;
  Kind kind_ = Kind::expression;
  std::string preprocess_;
  SpectralMethodOptions options_;
  alg::ChannelLaw law_;
  std::vector<double> w_, y_, Z_;     // non-erased nodes, weights renormalised to sum 1
  double kept_ = 1.0;
  double c_ = 0.0;                    // E[E[z|y]²] of the z-space law
  double delta_u_ = 0.0;
  double delta_alg_ = 0.0;
  double Z_sup_ = 0.0;                // sup of Z_y over the support (+∞ allowed)
  double tau_expr_ = 0.0;             // τ for an expression
  bool unbounded_ = false;
  std::string unbounded_reason_;
  std::vector<double> T_expr_;        // T at the nodes (expression)
};

}  // namespace deltacrit::spectral
