#pragma once
// Tolerances used by the tests, one place, each with its reason.
namespace deltacrit::test_tol {

// Gauss–Hermite with n nodes is exact for polynomials of degree ≤ 2n − 1; what is left is
// floating-point round-off of sums of O(n) terms of size up to (2j−1)!!.
inline constexpr double kQuadratureExact = 1e-12;

// Central finite differences with step h = 1e-5 have truncation error O(h²|f'''|) ≈ 1e-10 and
// round-off O(eps/h) ≈ 1e-11 for O(1) functions.
inline constexpr double kFiniteDifference = 1e-7;

// Accuracy targets of the δ_alg solver on the generic (expression) route, relative (issue #2).
inline constexpr double kAlgK1 = 1e-6;
inline constexpr double kAlgK2 = 1e-4;
inline constexpr double kAlgK3 = 1e-3;

}  // namespace deltacrit::test_tol
