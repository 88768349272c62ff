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
