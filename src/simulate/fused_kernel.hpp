#pragma once
// The simulator's one hot loop (private header). For rows i of a row-major X (n×d):
//   s_i = V x_i ∈ R^m          (V: m×d, row-major, i.e. Wᵀ for the network)
//   c_i = callback(i, s_i)     (per-row nonlinearity: GD residuals, Hessian weights, T(y_i), ...)
//   P  += Σ_i c_i x_iᵀ         (P: m×d, row-major)
// Fusing both products in one pass reads each row of X once from memory (it is still in L1 for
// the second product), halving the traffic of the two separate GEMMs X·W and Xᵀ·G (pitfall 13).
// Rows are processed R at a time with 4-lane vector accumulators; the summation order is fixed by
// (d, m) alone, and the AVX2 variant performs exactly the same operations as the portable one
// (no FMA contraction: ISO C++ mode), so results are bit-identical on every machine.
#include <cstddef>

namespace deltacrit::simulate::detail {

inline constexpr int kMaxKernelWidth = 8;

struct RowCallback {
  // Fills c[0..m) from the row index and s[0..m).
  void (*fn)(void* context, std::size_t row, const double* s, double* c) = nullptr;
  void* context = nullptr;
};

// Accumulates into P (not zeroed here) for rows [first, last). 1 ≤ m ≤ 8.
void fused_rows(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V, int m,
                RowCallback callback, double* P);

// Portable and AVX2 implementations (the dispatcher above picks one at run time).
void fused_rows_portable(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V,
                         int m, RowCallback callback, double* P);
bool avx2_available();
void fused_rows_avx2(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V, int m,
                     RowCallback callback, double* P);

}  // namespace deltacrit::simulate::detail
