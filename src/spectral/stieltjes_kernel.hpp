#pragma once
// Internal: the prepared weight law and the passes over it that every Stieltjes computation is made
// of (src/spectral/stieltjes_kernel.cpp). Not part of the public interface.
#include <complex>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace deltacrit::spectral::detail {

// The law with D symmetrised, plus the scalars used for starting points.
struct PreparedLaw {
  int m = 1;
  int k_h = 0;
  std::size_t n = 0;
  std::vector<double> w;   // n
  std::vector<double> D;   // n·m·m, exactly symmetric
  std::vector<double> z;   // n·k_h
  Eigen::MatrixXd mean_D;  // E[D]
  double rms = 0.0;        // sqrt(E tr D² / m)
  double max_norm = 0.0;   // max_i ‖D_i‖_F  (bounds the spectral norm of every node)
  Eigen::MatrixXd DD;      // p×p, E[D_α D_β] in plain packed coordinates (second moments)
};

// Packed coordinates of Sym_m: index α ↔ (a, b), a ≤ b, row by row (a = 0: b = 0..m−1, ...).
inline int packed_size(int m) { return m * (m + 1) / 2; }
inline int packed_index(int m, int a, int b) {
  if (a > b) { const int t = a; a = b; b = t; }
  return a * m - a * (a - 1) / 2 + (b - a);
}

// One pass over the law in the frame of the Cholesky factor L of a real S ≻ 0 (S = L Lᵀ), for the
// signed problem D → σD:
//   D̃ = σ Lᵀ D L,  W̃ = D̃ (I + D̃/δ)^{-1} = Lᵀ W L,  W = σD (I + S σD/δ)^{-1}.
// I + D̃/δ ≻ 0 at every node is the domain of the real branch; `domain_ok` is false otherwise.
struct RealPassRequest {
  const Eigen::MatrixXd* L = nullptr;  // lower Cholesky factor of S
  double sign = 1.0;                   // σ = ±1
  double delta = 1.0;
  bool tensor = false;                 // accumulate U = E[u uᵀ], u = packed W̃ (plain coordinates)
  bool K = false;                      // accumulate K̃ = E[z zᵀ ⊗ W̃]
  const Eigen::MatrixXd* X = nullptr;  // if set: accumulate K̃d = E[z zᵀ ⊗ W̃ X W̃]
};
struct RealPassResult {
  bool domain_ok = true;
  Eigen::MatrixXd Wbar;  // E[W̃]
  Eigen::MatrixXd U;     // p×p, full symmetric, E[W̃_α W̃_β]
  Eigen::MatrixXd Kt;    // (k m)×(k m)
  Eigen::MatrixXd Kd;    // (k m)×(k m)
};
RealPassResult real_pass(const PreparedLaw& law, const RealPassRequest& rq);

// One pass at complex symmetric S: W = D (I + S D/δ)^{-1} (complex symmetric).
struct ComplexPassResult {
  bool finite = true;
  Eigen::MatrixXcd Wbar;  // E[W]
  Eigen::MatrixXcd U;     // p×p, E[W_α W_β] (plain packed coordinates)
};
ComplexPassResult complex_pass(const PreparedLaw& law, const Eigen::MatrixXcd& S, double delta,
                               bool tensor);

}  // namespace deltacrit::spectral::detail
