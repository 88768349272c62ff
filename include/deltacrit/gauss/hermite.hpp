#pragma once
// Gauss–Hermite rules for expectations over a standard Gaussian: E[f(z)] ≈ Σ_i w_i f(x_i),
// z ~ N(0, 1), Σ_i w_i = 1. Exact for polynomials of degree ≤ 2n − 1.
#include <functional>
#include <vector>

namespace deltacrit::gauss {

struct Rule1D {
  std::vector<double> x;  // nodes, increasing
  std::vector<double> w;  // weights, positive, summing to 1
};

// The n-point rule (1 ≤ n ≤ 400), computed once per n with GSL's fixed Hermite rule for the
// weight e^{−x²/2} and normalised by √(2π). Thread-safe; the reference stays valid for the
// lifetime of the program.
const Rule1D& hermite_rule(int n);

// The n-point Gauss rule (1 ≤ n ≤ 40) of the half-line: E[f(z); z > 0] ≈ Σ_i w_i f(x_i) for
// z ~ N(0, 1), i.e. the weight e^{−x²/2}/√(2π) on (0, ∞); weights sum to 1/2, nodes are positive and
// increasing. Exact for polynomials of degree ≤ 2n − 1 (the half moments
// E[z^j; z > 0] = 2^{j/2} Γ((j + 1)/2) / (2√π)). Built once per n (thread-safe) by the discretised
// Stieltjes procedure (Gautschi, "Orthogonal polynomials: computation and approximation", 2004,
// §2.2.3.1) on a composite Gauss–Legendre rule of [0, 20] and the Golub–Welsch eigenproblem
// (Golub & Welsch, Math. Comp. 23 (1969) 221). Used where an integrand over a Gaussian jumps on a
// known hyperplane through the mean: one rule on each side (phase1/fixed_point.cpp).
const Rule1D& half_hermite_rule(int n);

// Tensor-product rule in `dim` dimensions (1 ≤ dim ≤ 4) with n points per axis, for
// E[f(z)], z ~ N(0, I_dim). Nodes are stored row by row: node i is x[i*dim .. i*dim+dim).
struct RuleND {
  int dim = 0;
  std::vector<double> x;
  std::vector<double> w;
  std::size_t size() const { return w.size(); }
};
RuleND hermite_tensor_rule(int dim, int n);

}  // namespace deltacrit::gauss
