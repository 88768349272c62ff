#pragma once
// Prediction-versus-simulation logic of `deltacrit compare` (docs/simulate.md, "Compare" and
// "Extrapolation across d"): the agreement rule for one δ point and the extrapolation of empirical
// thresholds δ_c(d) measured at several d to d → ∞. Nothing here prints.
#include <string>
#include <vector>

#include "deltacrit/core/status.hpp"

namespace deltacrit::compare {

// Agreement of a simulated mean overlap with the asymptotic prediction at one δ:
//     |mean − prediction| ≤ sigmas·stderr + allowance/√d.
// The second term is a finite-size allowance: away from a transition the squared overlap of a
// d-dimensional estimate deviates from its limit by O(d^{−1/2}) (a random unit vector already has
// squared overlap k/d with a k-dimensional subspace, and seed-to-seed fluctuations are O(d^{−1/2})).
// Within the critical window |δ − δ_th| ≤ window·δ_th·d^{−1/3} the finite-d curve is smoothed over a
// width d^{−1/3} (the Baik–Ben Arous–Péché scaling window of a spiked matrix, math/0403022; used here
// as a heuristic for GAMP too), so a disagreement there is expected and flagged, not counted.
struct AgreementOptions {
  double sigmas = 3.0;     // multiple of the standard error of the mean, ≥ 0 (default 3)
  double allowance = 2.0;  // coefficient of the d^{−1/2} finite-size allowance, ≥ 0 (default 2)
  double window = 1.0;     // coefficient of the d^{−1/3} critical window around the threshold, ≥ 0 (default 1)
  void validate() const;   // throws InputError naming the field
};

struct Agreement {
  double difference = 0.0;  // mean − prediction
  double tolerance = 0.0;   // sigmas·stderr + allowance/√d
  bool agree = false;       // |difference| ≤ tolerance
  bool in_window = false;   // δ inside the critical window of the predicted threshold
};

// threshold ≤ 0 or non-finite: no window. stderr_ ≥ 0 (0 for a single seed). d ≥ 2.
Agreement judge(double delta, double prediction, double mean, double stderr_, int d, double threshold,
                const AgreementOptions& options);

// One empirical threshold at dimension d with its bootstrap 95 % interval [lower, upper].
struct ThresholdAtD {
  int d = 0;
  double delta_c = 0.0;
  double lower = 0.0;
  double upper = 0.0;
};

// Fit of δ_c(d) = δ_∞ + c·d^{−α} with α fixed, weighted least squares in x = d^{−α}. The weight of
// each d is 1/σ_d² with σ_d = (upper − lower)/(2·1.96) (the bootstrap interval read as a normal 95 %
// interval), floored at 1e-3·|δ_c| + 1e-6 so that a degenerate interval does not take all the
// weight. The standard errors come from (XᵀWX)^{−1}; with more than two d they are multiplied by
// √(χ²/dof) when χ²/dof > 1 (Birge ratio: the model or the interval underestimates the spread).
// The reported interval is δ_∞ ± 1.96·stderr. Status: success; not_computed with < 2 distinct d.
struct Extrapolation {
  Status status = Status::not_computed;
  double alpha = 0.0;
  double delta_inf = 0.0;
  double delta_inf_stderr = 0.0;
  double lower = 0.0;
  double upper = 0.0;
  double c = 0.0;
  double c_stderr = 0.0;
  double chi2 = 0.0;
  int dof = 0;
  int points = 0;
  std::string note;
};

// alpha ∈ (0, 2]; every d ≥ 2, delta_c finite, lower ≤ delta_c ≤ upper (else InputError).
Extrapolation extrapolate_threshold(const std::vector<ThresholdAtD>& points, double alpha);

}  // namespace deltacrit::compare
