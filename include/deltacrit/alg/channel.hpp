#pragma once
// The law of the label y of a channel y ~ P(y | z), z ~ N(0, I_k), k ≤ 3, as a quadrature that
// carries the conditional moments of z at each node:
//
//     E_y[ h(y, E[z|y], E[z zᵀ|y]) ]  ≈  Σ_j w_j h(y_j, m1_j, m2_j)        for any h.
//
// This is the one object every threshold formula needs: δ_alg (F(M) = E_y[G M G], G = m2 − I),
// the trivial part E_y[m1 m1ᵀ], spectral-method functionals A/B/C (E_y[T(y)…(E[z²|y] − 1)]),
// and state evolution at q = 0.
//
// Construction (details and measured accuracy in docs/alg.md):
// - Atoms (plateaus of g: relu at 0, sign, quantisers; the erased label) are exact nodes: their
//   moments are Gaussian integrals over the plateau (closed forms in r along rays).
// - k = 1, continuous part: a rule in z-space, not y-space (E_y[h(y)] = E_z[h(g(z))], pitfall 2):
//   composite Gauss–Legendre panels on [−L, L] between breakpoints (critical points of g, plateau
//   ends, and the z where g(z) equals a critical value — pitfall 3). Node j is z_j with
//   y_j = g(z_j), w_j = GL weight · φ(z_j), and m1_j, m2_j from the preimage sum
//   E[φ(z)|y] = Σ_r φ(z_r) p(z_r)/|g'(z_r)| / Σ_r p(z_r)/|g'(z_r)|. Several nodes may share
//   (nearly) the same y; the identity above still holds.
// - k = 2, 3, continuous part: nodes in y-space. The level-set integrals N_φ(y) = ∫_{g=y} φ p/|∇g|
//   for φ ∈ {1, z, zzᵀ} are projected on Legendre polynomials over y-panels through z-space
//   integrals along rays z = r·u (co-area formula; no 1/|∂_r g| singularities), and evaluated at
//   Gauss–Legendre nodes of each panel: m1 = N_z/N_1, m2 = N_zz/N_1, w = GL weight · N_1(y).
// - Noise (model::Noise): gaussian:Δ — continuous y; the law is the convolution of the clean law
//   with N(0, Δ), computed by an outer y-rule with breakpoints at the atoms/critical values and
//   ±c√Δ around them, inner z- (k = 1) or y- (k ≥ 2) integrals with breakpoints at the preimages
//   of y and y ± c√Δ (pitfall 6). flip:ε — only for links with values in {−1, +1} (else
//   InputError naming "noise"); the two atoms are mixed. erase:ε — all clean nodes scaled by 1 − ε
//   plus one atom of weight ε with erased = true, y = NaN, m1 = 0, m2 = I (z is independent of a
//   missing label). resample:ε — y is replaced by an independent draw from its own marginal w.p.
//   ε: the law of y is unchanged and E[φ(z)|y] = (1 − ε) E_clean[φ(z)|y] + ε E[φ(z)], so
//   m1 → (1 − ε) m1, m2 → (1 − ε) m2 + ε I.
//
// Truncation: |z| ≤ radius (default 9.5 for k = 1, 9 for k ≥ 2); the neglected Gaussian mass is
// < 1e-17 and is reported in diagnostics. y is never truncated by probability mass (pitfall 4).
#include <Eigen/Core>

#include <string>
#include <vector>

#include "deltacrit/core/status.hpp"
#include "deltacrit/model/link.hpp"

namespace deltacrit::alg {

// Fixed-capacity (≤ 3) Eigen types: no heap allocation per node.
using Vec = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, 3, 1>;
using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, 3, 3>;

struct ChannelNode {
  double weight = 0.0;  // quadrature weight (probability mass it represents), > 0
  double y = 0.0;       // label value; NaN for the erased label (check `erased` first)
  bool atom = false;    // y is an atom of the law of y (plateau of g, discrete output, erasure)
  bool erased = false;  // the "missing" label of erase:ε noise
  Vec m1;               // E[z | y]       (k-vector)
  Mat m2;               // E[z zᵀ | y]    (k × k, symmetric PSD)
};

struct ChannelOptions {
  // Target accuracy of expectations of moderate h (relative to their size); drives the rule
  // sizes. Range (0, 0.1]; default 1e-8.
  double tol = 1e-8;
  // |z| cutoff; 0 = automatic (9.5 for k = 1, 9 for k ≥ 2). Accepted range: 0 or [5, 20].
  double radius = 0.0;
  // Sampling cells of each 1-D analysis (Fibre1D) on [−radius, radius] (k = 1) or on a ray
  // [0, radius] (k ≥ 2); 0 = automatic (2048 for k = 1, 256 for k ≥ 2). Range 0 or [64, 65536].
  int fibre_grid = 0;
  // Also build the law with a coarser rule and report the difference as `error_estimate`
  // (roughly doubles the work). Default on.
  bool estimate_error = true;

  void validate() const;  // throws InputError naming the field
};

struct ChannelDiagnostics {
  long link_evaluations = 0;  // calls of g
  int atoms = 0;              // atom nodes
  int panels = 0;             // z-panels (k = 1) or y-panels (k ≥ 2) of the continuous part
  int rays = 0;               // rays analysed (k ≥ 2)
  int sectors = 0;            // angular sectors between structural changes of the rays (k ≥ 2)
  double truncated_mass = 0;  // Gaussian mass outside |z| ≤ radius (neglected)
  double mass_defect = 0;     // 1 − Σ w_j (quadrature + truncation error)
  double integration_error = 0;  // k ≥ 2: summed interval errors of the adaptive angular rules
  std::vector<double> critical_values;  // y-breakpoints used (atoms, critical values of g)
  std::string method;         // "z-space" (k = 1), "rays+legendre" (k ≥ 2), "+gaussian-noise" …
  std::string note;           // human-readable remarks (e.g. why the status is not success)
};

struct ChannelLaw {
  int k = 0;
  std::vector<ChannelNode> nodes;
  // Estimated absolute error of the reference functionals Σ w, Σ w m1 m1ᵀ, Σ w G⊗G (G = m2 − I),
  // from the difference between this rule and a coarser one (largest entry-wise difference,
  // relative to max(1, |value|)). 0 if not estimated.
  double error_estimate = 0.0;
  Status status = Status::not_computed;
  ChannelDiagnostics diagnostics;

  double total_weight() const;
  // E_y[h] for a callable h(const ChannelNode&) → double (convenience).
  template <class H>
  double expect(const H& h) const {
    double s = 0.0;
    for (const auto& n : nodes) s += n.weight * h(n);
    return s;
  }
};

// Builds the law of y for the link g and the output noise. Throws InputError for invalid options
// ("tol", "radius", "fibre_grid") and for flip noise on a link whose values are not ±1 ("noise").
// Non-convergence (e.g. the error estimate exceeds the tolerance) is reported in `status`.
ChannelLaw build_channel_law(const model::Link& link, const model::Noise& noise,
                             const ChannelOptions& options = {});

}  // namespace deltacrit::alg
